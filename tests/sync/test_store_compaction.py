"""Compaction in the embedded store: older revisions stay readable until the database is
compacted, and every database written since the last run is compacted on a schedule.
"""
from __future__ import annotations

import pytest

from sync.embedded import EmbeddedStore
from sync.errors import NotFound
from tests.conftest import wait_until


def _three_revisions(db) -> list[str]:
    revs = [db.put({"_id": "note", "step": 1})["rev"]]
    for step in (2, 3):
        revs.append(db.put({"_id": "note", "_rev": revs[-1], "step": step})["rev"])
    return revs


def test_older_revisions_are_readable_until_compact(tmp_path):
    store = EmbeddedStore(tmp_path, compact_seconds=0)
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


def test_written_databases_are_compacted_on_a_schedule(tmp_path):
    store = EmbeddedStore(tmp_path, compact_seconds=0.05)
    written, untouched = store.create_db("t_w_sessions"), store.create_db("t_u_sessions")
    first, _, _ = _three_revisions(written)

    def compacted() -> bool:
        try:
            written.get("note", rev=first)
        except NotFound:
            return True
        return False

    wait_until(compacted, message="the scheduled compaction")
    assert untouched.info()["doc_count"] == 0
    store.close()
    # Closed: the schedule stops with the store.
    assert store._compactor is None
