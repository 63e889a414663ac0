"""Two Branchline instances on one CouchDB push to ConnectWise: each session exactly once.

Both instances follow the sessions feed for auto-push and both race for every due push;
the push ids (one per session) and the claims written with `_rev` leave one ticket, one
note and one time entry per session, through an outage in the middle.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.conftest import ServerProcess, Tenant, wait_until
from tests.integrations.fake_connectwise import FakeConnectWise
from tests.sessions.test_sessions_api import event, publish_tree, start


@pytest.fixture(scope="module")
def instances(couchdb, tmp_path_factory):
    env = {
        **couchdb.env(),
        "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
        "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
        "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2",
    }
    a = ServerProcess(tmp_path_factory.mktemp("psa-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("psa-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def test_sessions_completed_through_two_instances_are_pushed_once_each(instances):
    a, b = instances
    cw = FakeConnectWise().start()
    try:
        with (
            httpx.Client(base_url=a.url, timeout=30) as http_a,
            httpx.Client(base_url=b.url, timeout=30) as http_b,
        ):
            tenant = Tenant(http_a)
            tree_id = publish_tree(http_a, tenant)
            r = http_b.put(
                "/api/v1/integrations/connectwise", headers=tenant.headers, json=cw.config(auto_push=True)
            )
            assert r.status_code == 200, r.text
            cw.fail(3, 503)
            sids = []
            for i in range(6):
                http = http_a if i % 2 else http_b
                sid = start(http, tenant, tree_id, title=f"Session {i}")["session_id"]
                event(http, tenant, sid, {"type": "completed", "outcome": "resolved", "summary": "Done."})
                sids.append(sid)

            def all_pushed():
                got = [
                    http_a.get(f"/api/v1/sessions/{s}", headers=tenant.headers).json()["header"].get("psa")
                    for s in sids
                ]
                return got if all(got) else None

            headers = wait_until(all_pushed, timeout=90, message="every session pushed")
    finally:
        cw.stop()

    assert len(cw.tickets) == 6
    assert sorted(h["ticket_id"] for h in headers) == sorted(cw.tickets)
    assert all(len(notes) == 1 for notes in cw.notes.values())
    assert sorted(e["chargeToId"] for e in cw.entries) == sorted(cw.tickets)
