"""Bounded handles in the embedded store: a thousand tenants must not take a thousand open
databases. Open SQLite handles are kept in a least-recently-used cache of `max_open`; a
handle in use is never closed under its user.
"""

from __future__ import annotations

import os
import secrets

import pytest

from sync.embedded import EmbeddedStore
from sync.errors import NotFound


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _sqlite_fds(folder) -> int:
    """Descriptors this process holds on files of the store's folder."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            count += 1
    return count


def test_300_databases_with_max_open_20_keep_descriptors_bounded_and_data_intact(tmp_path):
    store = EmbeddedStore(tmp_path, max_open=20)
    folder = store.dir
    tenants = [f"t_{secrets.token_hex(4)}_sessions" for _ in range(300)]
    peak = 0
    for i, name in enumerate(tenants):
        db = store.create_db(name)
        db.put({"_id": "note", "tenant": name, "i": i})
        assert db.get("note")["i"] == i
        db.put_local({"_id": "_local/checkpoint", "seq": i})
        peak = max(peak, _sqlite_fds(folder))
    # Each open database: its writer (file + WAL), the shared -shm, at most two readers.
    assert store.handles.open_count() <= 20
    assert peak <= 20 * 7, peak
    # Everything is still there, read back through databases closed long ago.
    for i, name in enumerate(tenants):
        db = store.db(name)
        assert db.get("note") == {"_id": "note", "_rev": db.get("note")["_rev"], "tenant": name, "i": i}
        assert db.get_local("_local/checkpoint")["seq"] == i
        assert db.info()["doc_count"] == 1
        peak = max(peak, _sqlite_fds(folder))
    assert peak <= 20 * 7, peak
    store.close()
    assert _sqlite_fds(folder) == 0


def test_a_database_being_read_is_not_closed_when_the_cache_evicts(tmp_path):
    store = EmbeddedStore(tmp_path, max_open=1)
    a = store.create_db("t_a_sessions")
    a.bulk_docs([{"_id": f"d{i}", "i": i} for i in range(50)])
    with a._reading() as conn:
        # While this read runs, other databases are opened: the cache wants A's slot.
        for n in range(5):
            other = store.create_db(f"t_{n}_sessions")
            other.put({"_id": "x"})
            assert other.get("x")["_id"] == "x"
        assert store.handles.get_open("t_a_sessions") is not None  # pinned, still open
        assert conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0] == 50
        assert a.get("d7")["i"] == 7
        assert len(a.changes()["results"]) == 50
    # Released: back within the bound, and A reopens when next used.
    assert store.handles.open_count() == 1
    assert a.get("d49")["i"] == 49
    store.close()


def test_a_database_object_held_across_eviction_and_deletion_answers_as_expected(tmp_path):
    store = EmbeddedStore(tmp_path, max_open=2)
    held = store.create_db("t_held_sessions")
    held.put({"_id": "kept"})
    for n in range(4):
        store.create_db(f"t_{n}_trees").put({"_id": "x"})
    assert store.handles.get_open("t_held_sessions") is None  # evicted
    assert held.get("kept")["_id"] == "kept"  # reopened on use
    store.delete_db("t_held_sessions")
    with pytest.raises(NotFound):
        held.get("kept")
    assert not (store.dir / "t_held_sessions.sqlite").exists()  # not recreated empty
    store.close()
