"""Helpers of the webhook tests: subscriptions, and sessions recorded the way devices record them."""

from __future__ import annotations

import json
import time

import httpx

from api.sessions.ids import ulid
from tests.conftest import Tenant


def subscribe(http: httpx.Client, tenant: Tenant, url: str, events: list[str], **extra) -> dict:
    r = http.post("/api/v1/webhooks", headers=tenant.headers, json={"url": url, "events": events, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def offline_session(
    tenant: Tenant, tree_id: str, *, completed: bool = True, title: str = "Offline"
) -> tuple[str, list]:
    """A session a device recorded offline: its header and events, pushed later over /sync."""
    now = int(time.time() * 1000)
    sid = ulid(now)
    user = tenant.me["user"]["id"]
    docs: list[dict] = [
        {
            "_id": f"session:{sid}",
            "type": "session",
            "schema_version": 1,
            "tree_id": tree_id,
            "tree_version": 1,
            "title": title,
            "ticket": "T-9",
            "owner_id": user,
            "shared_with": [],
            "status": "completed" if completed else "in_progress",
            "created_at": now,
            "updated_at": now,
            "device_id": "phone-1",
        }
    ]
    if completed:
        docs.append(
            {
                "_id": f"session:{sid}:ev:{ulid(now + 1)}",
                "type": "completed",
                "schema_version": 1,
                "session_id": sid,
                "ts": now + 1,
                "device_id": "phone-1",
                "user_id": user,
                "outcome": "resolved",
                "summary": "Fixed offline.",
            }
        )
    return sid, docs


def push(http: httpx.Client, tenant: Tenant, docs: list[dict]) -> None:
    r = http.post(f"/sync/{tenant.id}/sessions/_bulk_docs", headers=tenant.headers, json={"docs": docs})
    assert r.status_code == 201, r.text
    assert all("error" not in row for row in r.json()), r.text


def payload(received) -> dict:
    return json.loads(received.body)
