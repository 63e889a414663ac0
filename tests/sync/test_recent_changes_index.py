"""Feed pages found through the notifier's index of recent changes (issue 22, point 2).

A feed page used to scan every change of the tenant's `sessions` database since its last
page and ask the policy about each, so a team's feeds cost the server the square of its
size. The notifier now keeps, while feeds wait, which recent changes concern which reader
(`sync/longpoll.py`), and a page reads just its reader's rows. What a reader receives must
not change: these tests compare every page with what the reader may read, worked out from
the owner's (admin's) full feed and the sessions' sharing.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sync.embedded import EmbeddedStore
from sync.store import Candidates
from tests.conftest import ServerProcess, Tenant, wait_until
from tests.sessions.test_sessions_api import event, publish_tree, start
from tests.sync.test_feed_fanout import Feeds, stats


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("recent"), app="tests.sync.app_feed_stats:create_app").start()
    yield srv
    srv.stop()


def feed(http: httpx.Client, headers: dict, tenant_id: str, since: int, limit: int | None = None) -> list:
    """Every row of the feed after `since`, page by page when `limit` is set, as (id, revs)."""
    rows: list = []
    while True:
        params = {"since": str(since), **({"limit": str(limit)} if limit else {})}
        r = http.get(f"/sync/{tenant_id}/sessions/_changes", params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        rows += [(row["id"], [c["rev"] for c in row["changes"]]) for row in page["results"]]
        since = page["last_seq"]
        if not limit or len(page["results"]) < limit:
            return rows


def update_seq(http: httpx.Client, tenant: Tenant) -> int:
    return http.get(f"/sync/{tenant.id}/sessions", headers=tenant.headers).json()["update_seq"]


def session_of(docid: str) -> str:
    return docid.removeprefix("session:").split(":")[0]


def test_pages_from_the_index_are_exactly_what_each_reader_may_read(server, http):
    tenant = Tenant(http)
    tree_id = publish_tree(http, tenant)
    alice, bob, carol, dave = (tenant.add_user("engineer") for _ in range(4))
    s1 = start(http, alice, tree_id, shared_with=[bob.id])["session_id"]
    s2 = start(http, carol, tree_id)["session_id"]
    s3 = start(http, alice, tree_id)["session_id"]
    node = http.get(f"/api/v1/sessions/session:{s1}", headers=alice.headers).json()["current_node"]
    readers = {s1: {alice.id, bob.id}, s2: {carol.id}, s3: {alice.id}}

    feeds = Feeds(server, tenant.id)
    try:
        # Dave reads no session: his feed waits on the database all along, so the notifier
        # reads every write and keeps its index, and no write ever answers it.
        base = stats(http)["parked"]
        feeds.open(dave.tokens["access_token"])
        wait_until(lambda: stats(http)["parked"] >= base + 1, message="Dave's feed to wait")
        seqs = [update_seq(http, tenant)]
        writes = [(alice, s1), (bob, s1), (carol, s2), (alice, s3)] * 4
        for i, (who, sid) in enumerate(writes):
            event(http, who, sid, {"type": "note", "node_id": node, "text": f"Step {i}."})
            seqs.append(update_seq(http, tenant))
        wait_until(lambda: stats(http)["dispatching"] == 0, message="the notifier to read the writes")

        before = stats(http)["indexed"]
        for member in (alice, bob, carol):
            for since in seqs:
                everything = feed(http, tenant.headers, tenant.id, since)
                expected = [row for row in everything if member.id in readers.get(session_of(row[0]), ())]
                who = (member.email, since)
                assert feed(http, member.headers, tenant.id, since) == expected, who
                assert feed(http, member.headers, tenant.id, since, limit=3) == expected, who
        assert stats(http)["indexed"] > before, "no page used the index: the test proves nothing"
        assert not feeds.answered(), "Dave's feed answered a write he may not read"

        # Carol shares her session with Alice: Alice's feed from before Carol's notes must now
        # bring them, though the index filed them as Carol's alone.
        header = http.get(f"/api/v1/sessions/session:{s2}", headers=carol.headers).json()["header"]
        r = http.patch(
            f"/api/v1/sessions/session:{s2}",
            headers=carol.headers,
            json={"shared_with": [alice.id], "_rev": header["_rev"]},
        )
        assert r.status_code == 200, r.text
        readers[s2].add(alice.id)
        wait_until(lambda: stats(http)["dispatching"] == 0, message="the notifier to read the sharing")
        for since in seqs:
            got = {docid for docid, _ in feed(http, alice.headers, tenant.id, since)}
            everything = feed(http, tenant.headers, tenant.id, since)
            assert {d for d, _ in everything if alice.id in readers[session_of(d)]} <= got, since
            assert all(alice.id in readers[session_of(d)] for d in got), since
    finally:
        feeds.close()


def test_a_store_uses_a_hint_only_while_nothing_after_it_changed_who_reads(tmp_path: Path):
    store = EmbeddedStore(tmp_path)
    try:
        db = store.create_db("t_abcdef123456_sessions")
        for docid in ("a", "b", "c"):
            db.put({"_id": docid})

        def ids(hint: Candidates) -> list[str]:
            return [row["id"] for row in db.changes(since=0, keep=lambda _: True, candidates=hint)["results"]]

        # Up to seq 2 only `a` can concern the reader; `c` (seq 3) is scanned as usual.
        assert ids(Candidates(frozenset({"a"}), 2, lambda _: False)) == ["a", "c"]
        # `c` may have changed who reads the others: the hint is not trusted.
        assert ids(Candidates(frozenset({"a"}), 2, lambda docid: docid == "c")) == ["a", "b", "c"]
        # A hint from beyond the database's seq (it was deleted and made again) is not either.
        assert ids(Candidates(frozenset({"a"}), 9, lambda _: False)) == ["a", "b", "c"]
        # A hint that does not reach back to `since` is no hint.
        short = Candidates(frozenset(), 1, lambda _: False)
        rows = db.changes(since=2, keep=lambda _: True, candidates=short)
        assert [row["id"] for row in rows["results"]] == ["c"]
    finally:
        store.close()
