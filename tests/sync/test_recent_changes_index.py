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
from tests.conftest import ServerProcess, Tenant, run_async, wait_until
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


def test_readers_come_from_the_stored_header_not_a_cache_another_process_has_not_told(tmp_path: Path):
    """Another server process shares a session: its commit is in the store before its
    message reaches this process's caches. The readers the notifier files the next events
    under must already name the new reader, or those events never reach them."""
    from api.core.context import AppContext
    from api.sessions.access import SessionsRules
    from api.settings import Settings

    ctx = AppContext.create(Settings(data_dir=tmp_path, secret_key="k" * 40))
    try:
        rules = SessionsRules(ctx)
        tenant, sid = "abcdef123456", "01JC0000000000000000000000"
        db = ctx.store.create_db(f"t_{tenant}_sessions")
        first = db.put({"_id": f"session:{sid}", "type": "session", "owner_id": "alice", "shared_with": []})
        event_id = f"session:{sid}:ev:X"
        bob = _engineer(tenant, "bob")
        assert rules.readers(tenant, [f"session:{sid}"]) == {"alice"}
        assert not rules.can_read(bob, {"_id": event_id, "type": "note"})  # the cache holds the ACL now
        other = EmbeddedStore(tmp_path)  # the other process, unheard of here
        try:
            header = db.get(f"session:{sid}")
            other.db(f"t_{tenant}_sessions").put({**header, "shared_with": ["bob"], "_rev": first["rev"]})
        finally:
            other.close()
        assert rules.read_prefilter(bob)(event_id) is False  # this process's cache has not heard
        assert rules.readers(tenant, [event_id]) == {"alice", "bob"}
    finally:
        ctx.store.close()


def _engineer(tenant_id: str, user_id: str):
    from sync.access import Principal

    return Principal(tenant_id=tenant_id, user_id=user_id, role="engineer")


def test_a_late_notification_wakes_no_feed_it_does_not_concern(tmp_path: Path):
    """Notifications may arrive out of order (another process's message for an older commit
    after this process read past it): the feeds of readers no change concerns stay asleep."""
    import asyncio

    import anyio.to_thread

    from sync.longpoll import ChangeNotifier

    store = EmbeddedStore(tmp_path)
    name = "t_abcdef123456_sessions"
    db = store.create_db(name)
    notifier = ChangeNotifier()
    notifier.attach(store)
    notifier.resolver = lambda _name: lambda ids: frozenset({"reader:alice"})
    notifier.reshapes = lambda _name, _docid: False

    async def settled() -> None:
        for _ in range(500):
            if notifier.stats()["dispatching"] == 0:
                return
            await asyncio.sleep(0.01)  # polling a condition: the dispatch runs on this loop
        raise AssertionError("the notifier never finished reading")

    async def main() -> bool:
        with notifier.waiter(name, ["reader:bob"], since=db.update_seq) as bob:
            for i in range(5):
                await anyio.to_thread.run_sync(db.put, {"_id": f"d{i}"})
                await settled()
            notifier.notify(name, 1, store)  # a late message about the first write
            await settled()
            return bob.event.is_set()

    try:
        assert run_async(main()) is False
    finally:
        store.close()


def test_quiet_databases_give_way_when_the_index_is_full(monkeypatch):
    """The index of all databases together is bounded: past the budget, the databases filed
    longest ago lose theirs (their pages scan), not the busy one being filed."""
    from sync import longpoll

    monkeypatch.setattr(longpoll, "RECENT_MAX", 60)
    monkeypatch.setattr(longpoll, "RECENT_TOTAL_MAX", 100)
    notifier = longpoll.ChangeNotifier()
    notifier.reshapes = lambda _name, _docid: False

    async def register() -> None:
        for name in ("quiet", "busy"):
            with notifier.waiter(name, ["reader:a"]):
                pass

    run_async(register())
    states = notifier._dbs

    def file(name: str, start: int, n: int) -> None:
        rows = [(seq, f"d{seq}", frozenset({"reader:a"})) for seq in range(start + 1, start + n + 1)]
        with notifier._lock:
            notifier._remember(name, states[name], start, start + n, rows)

    file("quiet", 0, 50)
    assert notifier.candidates("quiet", "reader:a", 0) is not None
    file("busy", 0, 40)
    file("busy", 40, 20)  # 110 entries in all: over the budget of 100
    assert notifier.candidates("quiet", "reader:a", 0) is None
    found = notifier.candidates("busy", "reader:a", 0)
    assert found is not None and len(found[0]) == 60
    file("busy", 60, 70)  # one read larger than a database's own bound is not filed
    assert notifier.candidates("busy", "reader:a", 130) is not None  # a fresh start at 130
    assert notifier.candidates("busy", "reader:a", 60) is None
    assert notifier._indexed_size == 0


def test_a_page_reads_the_database_for_the_index_only_when_a_commit_was_announced_past_it(tmp_path: Path):
    """A feed page asks the index which recent changes concern its reader, and files what
    the database holds past the index first. With no commit announced past the index's end
    there is nothing to file (a read every page was a twentieth of a team's server work); a
    commit announced past it is filed, and its reader finds it."""
    from sync.longpoll import ChangeNotifier, read_keys

    store = EmbeddedStore(tmp_path)
    name = "t_abcdef123456_sessions"
    db = store.create_db(name)
    notifier = ChangeNotifier()
    notifier.attach(store)
    notifier.reshapes = lambda _name, _docid: False
    keys_of = lambda ids: frozenset({"reader:alice"})  # noqa: E731
    reads: list[int] = []

    def read(start):
        reads.append(start)
        return read_keys(db, start, keys_of)

    async def register() -> None:
        with notifier.waiter(name, ["reader:alice"], since=db.update_seq):
            pass

    run_async(register())
    db.put({"_id": "first"})
    since = db.update_seq
    with notifier._lock:
        notifier._remember(
            name, notifier._dbs[name], 0, since, [(since, "first", frozenset({"reader:alice"}))]
        )

    assert notifier.candidates(name, "reader:alice", since, read) == (frozenset(), since)
    assert reads == []  # nothing announced past the index: nothing read

    db.put({"_id": "second"})  # announced by the store, with its seq
    found = notifier.candidates(name, "reader:alice", since, read)
    assert reads == [since]
    assert found == (frozenset({"second"}), db.update_seq)
    store.close()
