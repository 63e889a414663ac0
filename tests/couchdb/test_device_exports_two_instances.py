"""Two Branchline instances, one CouchDB: a device's export is filed once in the audit log.

A phone's replication can push the same `exported` event to both instances (a load balancer
sends its retry elsewhere); here both receive it at the same moment, as PouchDB sends it
(`_bulk_docs` with `new_edits: false`), for several events in a row. Each event leaves one
`session.exported` entry, and the chain verifies.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from api.sessions.ids import encode_ulid
from tests.conftest import ServerProcess, Tenant
from tests.sessions.test_sessions_api import publish_tree, start

EVENTS = 6


@pytest.fixture(scope="module")
def instances(couchdb, tmp_path_factory):
    env = {**couchdb.env(), "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40)}
    a = ServerProcess(tmp_path_factory.mktemp("instance-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("instance-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def push_to_both(clients: list[httpx.Client], url: str, headers: dict, doc: dict) -> list[httpx.Response]:
    """The same replicated write sent to every instance at the same moment."""
    together = threading.Barrier(len(clients))

    def push(http: httpx.Client) -> httpx.Response:
        together.wait()
        return http.post(url, headers=headers, json={"docs": [doc], "new_edits": False})

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(push, clients))


def test_an_export_pushed_to_both_instances_at_once_is_filed_once(instances):
    a, b = instances
    with (
        httpx.Client(base_url=a.url, timeout=30) as http_a,
        httpx.Client(base_url=b.url, timeout=30) as http_b,
    ):
        tenant = Tenant(http_a)
        engineer = tenant.add_user("engineer")
        sid = start(http_a, engineer, publish_tree(http_a, tenant))["session_id"]
        for n in range(EVENTS):
            ts = 1_800_000_000_000 + n
            doc = {
                "_id": f"session:{sid}:ev:{encode_ulid(ts, secrets.randbits(80))}",
                "_rev": f"1-{secrets.token_hex(16)}",
                "type": "exported",
                "schema_version": 1,
                "session_id": sid,
                "ts": ts,
                "device_id": "phone-1",
                "user_id": engineer.id,
                "format": "markdown",
                "how": "copy",
            }
            answers = push_to_both(
                [http_a, http_b], f"/sync/{tenant.id}/sessions/_bulk_docs", engineer.headers, doc
            )
            assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]

        items = http_b.get(
            "/api/v1/audit", headers=tenant.headers, params={"action": "session.exported", "limit": 200}
        ).json()["items"]
        filed = sorted(e["details"]["event_id"] for e in items if e["target"]["id"] == sid)
        assert len(filed) == EVENTS and len(set(filed)) == EVENTS, filed
        assert http_a.get("/api/v1/audit/verify", headers=tenant.headers).json()["ok"] is True
