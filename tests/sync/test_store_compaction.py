"""Compaction in the embedded store: older revisions stay readable until the database is
compacted; `compact_written` compacts every database on its first run, then only those
written since; and the store runs no thread of its own (the app's scheduled job calls it).
"""

from __future__ import annotations

import threading

import pytest

from sync.embedded import EmbeddedStore
from sync.errors import NotFound


def _three_revisions(db) -> list[str]:
    revs = [db.put({"_id": "note", "step": 1})["rev"]]
    for step in (2, 3):
        revs.append(db.put({"_id": "note", "_rev": revs[-1], "step": step})["rev"])
    return revs


def _readable(db, rev: str) -> bool:
    try:
        db.get("note", rev=rev)
    except NotFound:
        return False
    return True


def test_older_revisions_are_readable_until_compact(tmp_path):
    store = EmbeddedStore(tmp_path)
    db = store.create_db("t_c_sessions")
    first, second, third = _three_revisions(db)
    assert db.get("note", rev=first)["step"] == 1
    assert [e["ok"]["step"] for e in db.get_open_revs("note", [first, third])] == [1, 3]
    assert db.bulk_get([{"id": "note", "rev": second}])[0]["docs"][0]["ok"]["step"] == 2
    db.compact()
    with pytest.raises(NotFound):
        db.get("note", rev=first)
    assert db.get_open_revs("note", [second]) == [{"missing": second}]
    assert db.get("note")["_rev"] == third
    store.close()


def test_the_first_run_compacts_every_database_then_only_those_written_since(tmp_path):
    store = EmbeddedStore(tmp_path)
    earlier = store.create_db("t_e_sessions")
    old_first, _, _ = _three_revisions(earlier)
    store.close()
    # Reopened: what the previous process wrote after its last run is not known.
    store = EmbeddedStore(tmp_path)
    earlier, written = store.db("t_e_sessions"), store.create_db("t_w_sessions")
    assert _readable(earlier, old_first)
    assert store.compact_written().compacted == ["t_e_sessions", "t_w_sessions"]
    assert not _readable(earlier, old_first)

    first, _, _ = _three_revisions(written)
    run = store.compact_written()
    assert run.compacted == ["t_w_sessions"] and run.failed == {}
    assert not _readable(written, first)
    assert store.compact_written().compacted == []
    store.close()


def test_the_store_starts_no_thread_of_its_own(tmp_path):
    before = set(threading.enumerate())
    store = EmbeddedStore(tmp_path)
    db = store.create_db("t_t_sessions")
    _three_revisions(db)
    db.compact()
    store.compact_written()
    assert [t.name for t in threading.enumerate() if t not in before] == []
    store.close()
