"""Helpers of the freshness tests: a server the job can run beside, and sessions with their dates."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from api.core.context import AppContext
from api.features import install_hooks
from api.freshness import service as freshness
from api.sessions.ids import ulid
from api.settings import Settings
from tests.conftest import ServerProcess, Tenant

DAY_MS = 86_400_000


def run_job(server: ServerProcess, *moments: datetime) -> list[dict]:
    """The nightly job at each of `moments` (the controllable clock), as the server's own
    scheduler would run it, on the server's data; the embedded server is stopped meanwhile
    (one process owns its files) and started again after."""
    embedded = server.env.get("BRANCHLINE_BACKEND", "embedded") == "embedded"
    if embedded:
        server.stop()
    settings = Settings(
        data_dir=server.data_dir,
        secret_key=server.env["BRANCHLINE_SECRET_KEY"],
        **{
            k.removeprefix("BRANCHLINE_").lower(): v
            for k, v in server.env.items()
            if k.startswith("BRANCHLINE_COUCHDB") or k == "BRANCHLINE_BACKEND"
        },
    )
    ctx = AppContext.create(settings)
    install_hooks(ctx)
    try:
        return [freshness.run(ctx, now=m) for m in moments]
    finally:
        ctx.store.close()
        if embedded:
            server.start()


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def session_docs(tenant: Tenant, tree_id: str, created_ms: int, outcome: str | None) -> list[dict]:
    """One session a device recorded at `created_ms`: completed with `outcome`, or (None) still open."""
    sid = ulid(created_ms)
    user = tenant.me["user"]["id"]
    docs: list[dict] = [
        {
            "_id": f"session:{sid}",
            "type": "session",
            "schema_version": 1,
            "tree_id": tree_id,
            "tree_version": 1,
            "title": "VDA unregistered",
            "owner_id": user,
            "shared_with": [],
            "status": "completed" if outcome else "in_progress",
            "created_at": created_ms,
            "updated_at": created_ms,
            "device_id": "phone-1",
        }
    ]
    if outcome:
        docs.append(
            {
                "_id": f"session:{sid}:ev:{ulid(created_ms + 60_000)}",
                "type": "completed",
                "schema_version": 1,
                "session_id": sid,
                "ts": created_ms + 60_000,
                "device_id": "phone-1",
                "user_id": user,
                "outcome": outcome,
            }
        )
    return docs


def record_sessions(
    http: httpx.Client, tenant: Tenant, tree_id: str, days_ago: int, now_ms: int, outcomes: dict[str, int]
) -> None:
    """Sessions started `days_ago` days before `now_ms` with these outcomes (`{outcome: count}`),
    pushed over /sync the way a phone that worked offline pushes them."""
    docs: list[dict] = []
    n = 0
    for outcome, count in outcomes.items():
        for _ in range(count):
            n += 1
            docs += session_docs(tenant, tree_id, now_ms - days_ago * DAY_MS + n * 1000, outcome)
    r = http.post(f"/sync/{tenant.id}/sessions/_bulk_docs", headers=tenant.headers, json={"docs": docs})
    assert r.status_code == 201, r.text
    assert all("error" not in row for row in r.json()), r.text
