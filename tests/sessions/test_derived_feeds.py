"""Derived indexes follow only the feeds a query needs, and skip what their handler ignores
(api/core/derived.py): an engineer's every `_changes` request asks who was granted a session
since its last sync, and must not pay for every other index, nor rescan the events the
headers' feed ignores."""

from __future__ import annotations

import threading

from api.core.derived import DerivedIndex, WrittenCounts
from sync.embedded import EmbeddedStore


def _index(tmp_path, store, feeds):
    return DerivedIndex(tmp_path / "index.sqlite", store, feeds, "CREATE TABLE IF NOT EXISTS seen (id TEXT);")


def test_a_handler_that_keeps_only_some_ids_moves_its_checkpoint_past_the_rest(tmp_path):
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_abcdef123456_sessions")
    seen: list[str] = []
    judged: list[str] = []

    def on_change(conn, change):
        seen.append(change["id"])

    def keep(docid):
        judged.append(docid)
        return ":ev:" not in docid

    on_change.keep = keep
    index = _index(tmp_path, store, {"headers": (db.name, on_change)})
    db.bulk_docs([{"_id": "session:A"}] + [{"_id": f"session:A:ev:{i:04d}"} for i in range(50)])
    index.catch_up()
    assert seen == ["session:A"]
    # Only events since: nothing to handle, yet the next catch-up starts after them.
    db.bulk_docs([{"_id": f"session:A:ev:{i:04d}"} for i in range(50, 80)])
    index.catch_up()
    judged.clear()
    index.catch_up()
    assert judged == []  # nothing is scanned again
    db.put({"_id": "session:B"})
    index.catch_up()
    assert seen == ["session:A", "session:B"] and judged == ["session:B"]
    index.close()
    store.close()


def test_a_query_naming_its_feeds_leaves_the_others_behind_until_they_are_asked(tmp_path):
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_abcdef123456_sessions")
    calls = {"a": 0, "b": 0}

    def handler(name):
        def on_change(conn, change):
            calls[name] += 1

        return on_change

    index = _index(tmp_path, store, {"a": (db.name, handler("a")), "b": (db.name, handler("b"))})
    db.put({"_id": "x"})
    index.query("SELECT 1", feeds=("a",))
    assert calls == {"a": 1, "b": 0}
    index.query("SELECT 1")
    assert calls == {"a": 1, "b": 1}
    index.close()
    store.close()


def test_a_long_catch_up_commits_each_change_once_in_transactions_of_many_pages(tmp_path, monkeypatch):
    """Far behind, pages are handled several to a transaction (api/core/derived.py `_GROUP`): every
    change is still handled once, `end_batch` runs before each commit, the checkpoint lands on
    the last change, and a handler that fails leaves its whole transaction undone."""
    import api.core.derived as derived

    monkeypatch.setattr(derived, "_BATCH", 10)
    monkeypatch.setattr(derived, "_GROUP", 4)
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_abcdef123456_sessions")
    db.bulk_docs([{"_id": f"doc{i:03d}"} for i in range(95)])
    ends: list[int] = []
    fail_at = {"id": "doc085"}

    def on_change(conn, change):
        if change["id"] == fail_at["id"]:
            raise RuntimeError("the handler failed")
        conn.execute("INSERT INTO seen VALUES (?)", (change["id"],))

    on_change.end_batch = lambda conn: ends.append(conn.execute("SELECT COUNT(*) FROM seen").fetchone()[0])
    index = _index(tmp_path, store, {"f": (db.name, on_change)})
    try:
        index.catch_up()
        raise AssertionError("the failing handler was not called")
    except RuntimeError:
        pass
    # Two transactions of 4 pages (40 changes each) committed; the third, with doc085, undone.
    assert index.query("SELECT COUNT(*) AS n FROM seen", catch_up=False)[0]["n"] == 80
    assert ends == [40, 80]
    fail_at["id"] = None
    index.catch_up()
    ids = [r["id"] for r in index.query("SELECT id FROM seen ORDER BY id", catch_up=False)]
    assert ids == [f"doc{i:03d}" for i in range(95)]
    assert ends == [40, 80, 95]
    # Caught up: another catch-up handles nothing and runs no batch.
    index.catch_up()
    assert ends == [40, 80, 95]
    index.close()
    store.close()


def test_two_processes_following_one_index_apply_each_change_once(tmp_path):
    """Server processes on one data folder share each tenant's index file. One that catches
    up while the other is part-way through a batch must start from the other's checkpoint,
    not apply the same changes again (a counting handler would count them twice)."""
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_abcdef123456_sessions")
    for i in range(5):
        db.put({"_id": f"session:{i:026d}", "type": "session"})
    schema = "CREATE TABLE IF NOT EXISTS counted (id TEXT PRIMARY KEY, n INTEGER);"
    first_call = threading.Event()
    other_done = threading.Event()

    def count(conn, change):
        conn.execute(
            "INSERT INTO counted VALUES (?, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1", (change["id"],)
        )

    def count_after_the_other_tried(conn, change):
        if not first_call.is_set():
            first_call.set()
            other = threading.Thread(target=lambda: (mine_b.catch_up(), other_done.set()))
            other.start()
            # The other process catches up now. Holding its batch's write lock, this one makes
            # it wait until this batch is committed: the bound is all this waits then.
            other.join(timeout=1.0)
        count(conn, change)

    path = tmp_path / "index.sqlite"
    feeds_a = {"sessions": ("t_abcdef123456_sessions", count_after_the_other_tried)}
    feeds_b = {"sessions": ("t_abcdef123456_sessions", count)}
    mine_a = DerivedIndex(path, store, feeds_a, schema)
    mine_b = DerivedIndex(path, store, feeds_b, schema)
    mine_a.catch_up()
    assert other_done.wait(10)
    counts = dict(mine_a.conn.execute("SELECT id, n FROM counted").fetchall())
    assert len(counts) == 5 and set(counts.values()) == {1}, counts


def _counting_index(tmp_path, store, db):
    """An index over `db` that records what its handler was given, with the store's commit counts."""
    seen: list[str] = []

    def on_change(conn, change):
        seen.append(change["id"])

    written = WrittenCounts(store)
    index = DerivedIndex(
        tmp_path / "index.sqlite",
        store,
        {"f": (db.name, on_change)},
        "CREATE TABLE IF NOT EXISTS x (id TEXT);",
        written,
    )
    return index, seen, written


class _CountingReads:
    """Counts the `_changes` reads of every database the store opens from now on."""

    def __init__(self, monkeypatch, store):
        self.reads = 0
        real = type(store.db("t_abcdef123456_sessions")).changes
        counter = self

        def changes(db_self, *args, **kwargs):
            counter.reads += 1
            return real(db_self, *args, **kwargs)

        monkeypatch.setattr(type(store.db("t_abcdef123456_sessions")), "changes", changes)


def test_an_index_reads_its_feed_again_only_after_a_commit_and_then_sees_it(tmp_path, monkeypatch):
    """An engineer's every `_changes` request asks the sessions index: with nothing written
    since, it must not read the feed again, and with a write it must see that write at once."""
    import api.core.derived as derived

    monkeypatch.setattr(derived, "_QUIET_S", 600.0)  # however slow the machine, still within it
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_abcdef123456_sessions")
    db.put({"_id": "session:A"})
    index, seen, written = _counting_index(tmp_path, store, db)
    assert written.reliable
    reads = _CountingReads(monkeypatch, store)
    index.catch_up(quiet_ok=True)
    assert seen == ["session:A"]
    first = reads.reads
    for _ in range(5):
        index.catch_up(quiet_ok=True)
    assert reads.reads == first  # nothing announced: nothing read
    db.put({"_id": "session:B"})
    index.catch_up(quiet_ok=True)  # the very next query sees what was just written
    assert seen == ["session:A", "session:B"]
    index.close()
    store.close()


def test_a_write_the_store_did_not_announce_shows_within_the_quiet_time(tmp_path, monkeypatch):
    """Another program on the same files (the command line) writes without the server's store
    hearing of it: the hot path reads the feed again once `_QUIET_S` has passed, every other
    query at once (the starter library's seed test found the listing empty otherwise)."""
    import api.core.derived as derived

    monkeypatch.setattr(derived, "_QUIET_S", 600.0)  # however slow the machine, still within it
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_abcdef123456_sessions")
    index, seen, _ = _counting_index(tmp_path, store, db)
    index.catch_up(quiet_ok=True)
    other = EmbeddedStore(tmp_path / "data")  # a second program: its commits are not announced here
    other.db(db.name).put({"_id": "session:from-the-command-line"})
    index.catch_up(quiet_ok=True)
    assert seen == []  # within the quiet time, on the hot path that allows it
    index.catch_up()  # any other query reads at once (a listing after `branchline seed`)
    assert seen == ["session:from-the-command-line"]
    other.db(db.name).put({"_id": "session:again"})
    monkeypatch.setattr(derived, "_QUIET_S", 0.0)  # the quiet time has passed
    index.catch_up(quiet_ok=True)
    assert seen == ["session:from-the-command-line", "session:again"]
    other.close()
    index.close()
    store.close()


def test_several_server_processes_read_the_feed_every_time(tmp_path):
    """With other server processes on the data folder their commits reach this one a moment
    late: no count can be trusted, and a catch-up reads the feed as before."""
    store = EmbeddedStore(tmp_path / "data", shared=True)
    db = store.create_db("t_abcdef123456_sessions")
    index, seen, written = _counting_index(tmp_path, store, db)
    assert not written.reliable
    index.catch_up(quiet_ok=True)
    other = EmbeddedStore(tmp_path / "data")
    other.db(db.name).put({"_id": "session:written-elsewhere"})
    index.catch_up(quiet_ok=True)
    assert seen == ["session:written-elsewhere"]
    other.close()
    index.close()
    store.close()


def test_writes_a_handler_does_not_look_at_do_not_make_its_index_read_the_feed(tmp_path, monkeypatch):
    """The sessions index follows headers; the events a team writes every second must not
    send every `_changes` request back to the feed, and a header still shows at once."""
    import api.core.derived as derived

    monkeypatch.setattr(derived, "_QUIET_S", 600.0)
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_abcdef123456_sessions")
    seen: list[str] = []

    def on_change(conn, change):
        seen.append(change["id"])

    on_change.keep = lambda docid: ":ev:" not in docid
    index = DerivedIndex(
        tmp_path / "index.sqlite", store, {"headers": (db.name, on_change)}, "", WrittenCounts(store)
    )
    db.put({"_id": "session:A"})
    index.catch_up(quiet_ok=True)
    reads = _CountingReads(monkeypatch, store)
    for i in range(5):
        db.put({"_id": f"session:A:ev:{i:04d}"})
        index.catch_up(quiet_ok=True)
    assert reads.reads == 0
    db.put({"_id": "session:B"})
    index.catch_up(quiet_ok=True)
    assert seen == ["session:A", "session:B"]
    index.close()
    store.close()


def test_a_commit_a_reader_saw_before_its_thread_told_anyone_is_read(tmp_path, monkeypatch):
    """A feed page can see a commit (a session shared with its reader) and ask the index
    while the committing thread is still telling the store's observers of it (the caches,
    registered first). The index must read the feed then: answering from its count would
    leave out the share, and the reader, now past it, would never be sent that session's
    older events (found in review)."""
    import api.core.derived as derived

    monkeypatch.setattr(derived, "_QUIET_S", 600.0)
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_abcdef123456_sessions")
    telling, go_on = threading.Event(), threading.Event()

    def slow_observer(name, ids):
        if ids and "session:B" in ids:
            telling.set()
            assert go_on.wait(30)

    store.observe_writes(slow_observer)  # before the index's counts, as the caches are
    index, seen, _ = _counting_index(tmp_path, store, db)
    db.put({"_id": "session:A"})
    index.catch_up(quiet_ok=True)
    assert seen == ["session:A"]
    writer = threading.Thread(target=db.put, args=({"_id": "session:B"},))
    writer.start()
    try:
        assert telling.wait(30)
        assert "session:B" in [r["id"] for r in db.changes()["results"]]  # visible to readers
        index.catch_up(quiet_ok=True)
        assert seen == ["session:A", "session:B"]
    finally:
        go_on.set()
        writer.join(30)
    index.close()
    store.close()
