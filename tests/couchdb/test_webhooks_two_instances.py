"""Two Branchline instances on one CouchDB (pouchdb-server) deliver each webhook event once.

Both follow the same changes feeds and both deliver: each event's outbox document has an id
derived from the event, so the instance that learns of it second gets a conflict, and each
send is claimed with the message's `_rev`, so only one instance sends it. The receiver, a
real HTTP server in this process, counts what arrives; signatures are checked with the
Standard Webhooks reference library.
"""

from __future__ import annotations

import secrets
from collections import Counter

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import ServerProcess, Tenant, wait_until
from tests.sessions.test_sessions_api import event, publish_tree, start
from tests.webhooks.helpers import offline_session, push, subscribe
from tests.webhooks.receiver import Receiver

EVENTS = ["session.started", "session.completed"]


@pytest.fixture(scope="module")
def pair(couchdb, tmp_path_factory):
    env = {
        **couchdb.env(),
        "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),  # the same on both: they share secrets
        "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
        # Retries for about 50 s, a few seconds apart: longer than restarting both instances.
        "BRANCHLINE_WEBHOOK_RETRY_SCHEDULE": ",".join(["0.5", "1", "1", "2", "2"] + ["3"] * 15),
        # A killed instance's claims expire after 3 x 2 + 5 s.
        "BRANCHLINE_WEBHOOK_TIMEOUT_SECONDS": "2",
    }
    a = ServerProcess(tmp_path_factory.mktemp("hooks-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("hooks-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def _log(http: httpx.Client, tenant: Tenant, webhook_id: str) -> list[dict]:
    items, cursor = [], None
    while True:
        r = http.get(
            f"/api/v1/webhooks/{webhook_id}/deliveries",
            headers=tenant.headers,
            params={"limit": 200, **({"cursor": cursor} if cursor else {})},
        )
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items


def _sessions(http: httpx.Client, tenant: Tenant, tree_id: str, count: int) -> list[str]:
    sids = []
    for i in range(count):
        sid = start(http, tenant, tree_id, title=f"S{i}")["session_id"]
        event(http, tenant, sid, {"type": "completed", "outcome": "resolved"})
        sids.append(sid)
    return sids


def test_two_instances_deliver_every_event_once_between_them(pair, receiver):
    a, b = pair
    with httpx.Client(base_url=a.url, timeout=30) as on_a, httpx.Client(base_url=b.url, timeout=30) as on_b:
        tenant = Tenant(on_a)
        tree_id = publish_tree(on_a, tenant)
        hook = subscribe(on_a, tenant, receiver.url, EVENTS)
        sids = _sessions(on_a, tenant, tree_id, 6) + _sessions(on_b, tenant, tree_id, 6)
        for _ in range(6):  # recorded offline, synced through one or the other
            sid, docs = offline_session(tenant, tree_id)
            push(on_a if len(sids) % 2 else on_b, tenant, docs)
            sids.append(sid)
        expected = len(sids) * len(EVENTS)

        receiver.wait_for(expected, timeout=60)
        log = wait_until(
            lambda: (
                (got := _log(on_b, tenant, hook["id"]))
                and len(got) == expected
                and all(d["status"] == "delivered" for d in got)
                and got
            ),
            timeout=30,
            message="every message delivered",
        )
    ids = Counter(r.headers["webhook-id"] for r in receiver.bodies())
    assert len(ids) == expected and set(ids.values()) == {1}, ids.most_common(3)
    assert all(d["attempt_count"] == 1 for d in log)
    verifier = Webhook(hook["secret"])
    seen = {(verifier.verify(r.body, r.headers)["data"]["session_id"]) for r in receiver.bodies()}
    assert seen == set(sids)
    senders = Counter(d["attempts"][0]["by"].split(":")[1] for d in log)
    assert set(senders) == {str(a.proc.pid), str(b.proc.pid)}, senders  # both delivered, none twice


def test_events_queued_before_an_instance_is_killed_are_delivered_once_after_it_restarts(pair):
    a, b = pair
    receiver = Receiver()  # down while the events are recorded
    b.stop()  # one instance only: the killed one holds every claim
    try:
        with httpx.Client(base_url=a.url, timeout=30) as on_a:
            tenant = Tenant(on_a)
            tree_id = publish_tree(on_a, tenant)
            hook = subscribe(on_a, tenant, receiver.url, EVENTS)
            sids = _sessions(on_a, tenant, tree_id, 4)
            wait_until(
                lambda: (
                    len(log := _log(on_a, tenant, hook["id"])) == 8
                    and all(d["attempt_count"] >= 1 for d in log)
                ),
                message="every message tried once",
            )
        a.kill()
        receiver.start()
        a.start()
        b.start()
        got = receiver.wait_for(8, timeout=60)
        with httpx.Client(base_url=b.url, timeout=30) as on_b:
            wait_until(lambda: all(d["status"] == "delivered" for d in _log(on_b, tenant, hook["id"])))
        ids = Counter(r.headers["webhook-id"] for r in receiver.bodies())
        assert len(ids) == 8 and set(ids.values()) == {1}, ids
        assert {Webhook(hook["secret"]).verify(r.body, r.headers)["data"]["session_id"] for r in got} == set(
            sids
        )
    finally:
        receiver.stop()
        if b.proc is None or b.proc.poll() is not None:
            b.start()
