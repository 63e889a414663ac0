"""Derived indexes follow only the feeds a query needs, and skip what their handler ignores
(api/core/derived.py): an engineer's every `_changes` request asks who was granted a session
since its last sync, and must not pay for every other index, nor rescan the events the
headers' feed ignores."""

from __future__ import annotations

from api.core.derived import DerivedIndex
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
