"""The embedded store's shortcuts give the answers of the slow way.

- `doc_count` / `doc_del_count` are kept in `meta` by every write instead of being counted
  on each `GET /db`; they must match a count of the documents table through creations,
  edits, deletions, re-creations, replicated conflicts and `_local` writes, and databases
  written before the counts existed get them when opened.
- `_bulk_get` reads a whole batch in two statements; its answers must equal the
  one-document reads (`get`, `get_open_revs`) for every kind of request.
- Non-blocking mode (used to answer small requests on the event loop) refuses to wait for
  a lock held by another thread, a database not opened yet, or another process's write,
  and writes nothing when it refuses.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest

from sync.embedded import EmbeddedStore
from sync.errors import BranchlineError


def _counted(db) -> tuple[int, int]:
    with db._reading() as conn:
        return conn.execute(
            "SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted = 1), 0) FROM docs"
        ).fetchone()


def _check(db) -> dict:
    info = db.info()
    assert (info["doc_count"], info["doc_del_count"]) == _counted(db)
    assert db.all_docs()["total_rows"] == info["doc_count"]
    return info


def test_counts_follow_edits_deletes_recreations_and_conflicts(store):
    db = store.create_db("counts")
    assert _check(db)["doc_count"] == 0
    a = db.put({"_id": "a", "v": 1})
    b = db.put({"_id": "b", "v": 1})
    db.bulk_docs([{"_id": f"n{i}"} for i in range(5)])
    assert _check(db)["doc_count"] == 7
    a = db.put({"_id": "a", "_rev": a["rev"], "v": 2})  # an edit counts nothing new
    assert _check(db)["doc_count"] == 7
    gone = db.delete("a", a["rev"])
    info = _check(db)
    assert (info["doc_count"], info["doc_del_count"]) == (6, 1)
    db.put({"_id": "a", "v": 3})  # re-created on top of its tombstone
    info = _check(db)
    assert (info["doc_count"], info["doc_del_count"]) == (7, 0)
    # A batch editing the same document twice, and one refused edit.
    res = db.bulk_docs(
        [
            {"_id": "b", "_rev": b["rev"], "v": 2},
            {"_id": "b", "_rev": b["rev"], "v": 3},
            {"_id": "n0", "_rev": "1-nope"},
        ]
    )
    assert "error" in res[1] and "error" in res[2]
    _check(db)
    # Replicated branches: a deleted winner over a live conflict keeps the document live.
    db.bulk_docs(
        [
            {"_id": "c", "_rev": "1-aaa", "v": 1},
            {
                "_id": "c",
                "_rev": "2-bbb",
                "_deleted": True,
                "_revisions": {"start": 2, "ids": ["bbb", "aaa"]},
            },
            {"_id": "c", "_rev": "1-ccc", "v": 2},
        ],
        new_edits=False,
    )
    assert db.get("c")["_rev"] == "1-ccc"
    _check(db)
    db.bulk_docs(
        [{"_id": "c", "_rev": "2-ddd", "_deleted": True, "_revisions": {"start": 2, "ids": ["ddd", "ccc"]}}],
        new_edits=False,
    )
    info = _check(db)
    assert info["doc_del_count"] == 1
    # A replicated revision already known changes nothing; a document that starts deleted
    # counts as deleted.
    db.bulk_docs([{"_id": "c", "_rev": "2-ddd", "_deleted": True}], new_edits=False)
    db.bulk_docs([{"_id": "t", "_rev": "1-eee", "_deleted": True}], new_edits=False)
    info = _check(db)
    assert info["doc_del_count"] == 2
    # _local documents are not documents.
    db.put_local({"_id": "_local/ckpt", "seq": 1})
    assert _check(db) == info | {
        "disk_size": db.info()["disk_size"],
        "data_size": db.info()["data_size"],
        "sizes": db.info()["sizes"],
    }
    assert gone["ok"]


def test_counts_survive_reopening_and_are_built_for_older_databases(tmp_path):
    s = EmbeddedStore(tmp_path)
    db = s.create_db("old")
    db.bulk_docs([{"_id": f"d{i}"} for i in range(4)])
    db.delete("d0", db.get("d0")["_rev"])
    # As a database written before the counts were kept: no rows for them in meta.
    with db._writing() as (_, conn):
        conn.execute("DELETE FROM meta WHERE key IN ('doc_count', 'doc_del_count')")
    s.close()
    s = EmbeddedStore(tmp_path)
    db = s.db("old")
    info = _check(db)
    assert (info["doc_count"], info["doc_del_count"]) == (3, 1)
    db.put({"_id": "d9"})
    assert _check(db)["doc_count"] == 4
    s.close()


def test_bulk_get_answers_as_the_one_document_reads_do(store):
    db = store.create_db("bulkget")
    db.bulk_docs(
        [
            {"_id": "c", "_rev": "1-aaa", "v": 1},
            {"_id": "c", "_rev": "2-bbb", "v": 2, "_revisions": {"start": 2, "ids": ["bbb", "aaa"]}},
            {"_id": "c", "_rev": "2-ccc", "v": 3, "_revisions": {"start": 2, "ids": ["ccc", "aaa"]}},
            {"_id": "gone", "_rev": "1-ddd"},
            {
                "_id": "gone",
                "_rev": "2-eee",
                "_deleted": True,
                "_revisions": {"start": 2, "ids": ["eee", "ddd"]},
            },
        ],
        new_edits=False,
    )
    plain = db.put({"_id": "plain", "v": 1})["rev"]
    att = db.put_attachment("att", "a.txt", b"hello", "text/plain", rev=None)["rev"]
    db.put_local({"_id": "_local/ck", "seq": 5})
    # Requests for one leaf revision (what a replicator asks) take a shortcut unless the
    # revision has attachments; both must answer as the general path does.
    requests = [
        {"id": "plain", "rev": plain},
        {"id": "att", "rev": att},
        {"id": "gone", "rev": "1-ddd"},
        {"id": "c", "rev": "2-ccc"},
        {"id": "c"},
        {"id": "c", "rev": "2-bbb"},
        {"id": "c", "rev": "1-aaa"},
        {"id": "c", "rev": "9-zzz"},
        {"id": "c", "rev": "bad"},
        {"id": "gone"},
        {"id": "gone", "rev": "2-eee"},
        {"id": "missing"},
        {"id": "missing", "rev": "1-x"},
        {"id": "plain"},
        {"id": "att"},
        {"id": "att", "atts_since": []},
        {"id": "_local/ck"},
        {"id": "_local/ck", "rev": "0-1"},
        {"id": ""},
        {"id": 5},
        "x",
    ]
    for revs in (False, True):
        for latest in (False, True):
            for attachments in (False, True):
                fast = db.bulk_get(list(requests), revs=revs, latest=latest, attachments=attachments)
                slow = []
                for req in requests:
                    docid = req.get("id") if isinstance(req, dict) else None
                    rev = req.get("rev") if isinstance(req, dict) else None
                    if not isinstance(docid, str) or not docid:
                        slow.append(fast[len(slow)])  # malformed: the same error either way
                        continue
                    try:
                        if rev is None:
                            docs = [
                                {
                                    "ok": db.get(
                                        docid,
                                        revs=revs,
                                        attachments=attachments,
                                        atts_since=req.get("atts_since"),
                                    )
                                }
                            ]
                        else:
                            docs = [
                                {
                                    "error": {
                                        "id": docid,
                                        "rev": e["missing"],
                                        "error": "not_found",
                                        "reason": "missing",
                                    }
                                }
                                if "missing" in e
                                else e
                                for e in db.get_open_revs(
                                    docid, [rev], revs=revs, latest=latest, attachments=attachments
                                )
                            ]
                    except BranchlineError as exc:
                        docs = [
                            {"error": {"id": docid, "rev": rev, "error": exc.error, "reason": exc.reason}}
                        ]
                    slow.append({"id": docid, "docs": docs})
                assert fast == slow


def test_nonblocking_mode_refuses_to_wait_and_writes_nothing_when_it_refuses(store, tmp_path):
    db = store.create_db("nb")
    db.put({"_id": "a"})
    assert store.run_nonblocking(lambda: db.info()["doc_count"]) == (True, 1)
    assert store.run_nonblocking(lambda: db.put_local({"_id": "_local/x", "n": 1}))[0]

    # Another thread holds the database's writer: a write refuses, a read never waits on it.
    held, release = threading.Event(), threading.Event()

    def hold():
        with db._writing():
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(10)
    try:
        assert store.run_nonblocking(lambda: db.put({"_id": "b"})) == (False, None)
        assert store.run_nonblocking(lambda: db.info()["doc_count"]) == (True, 1)
    finally:
        release.set()
        t.join()
    assert store.run_nonblocking(lambda: db.get("a")["_id"]) == (True, "a")

    # A database this process has not opened yet.
    store.create_db("later")
    store.handles.drop("later")
    assert store.run_nonblocking(lambda: store.db("later").info()) == (False, None)
    assert store.db("later").info()["doc_count"] == 0

    # Another process (here: connection) holds SQLite's write lock: refused, nothing written.
    other = sqlite3.connect(str(tmp_path / "dbs" / "nb.sqlite"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert store.run_nonblocking(lambda: db.put_local({"_id": "_local/x", "_rev": "0-1", "n": 2})) == (
            False,
            None,
        )
        assert store.run_nonblocking(lambda: db.get_local("_local/x")["n"]) == (True, 1)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert db.put_local({"_id": "_local/x", "_rev": "0-1", "n": 2})["rev"] == "0-2"
    # Errors other than waiting come through, and the mode ends with the call.
    with pytest.raises(BranchlineError):
        store.run_nonblocking(lambda: db.get("nope"))
    assert db.put({"_id": "b"})["ok"]


def test_nonblocking_read_is_answered_while_worker_threads_hold_every_pooled_reader(store):
    """Feeds paged on worker threads hold the pooled readers; the event loop's short reads
    (a checkpoint, the database's information) then have a reader of their own instead of
    being sent to worker threads too. A second non-blocking thread never shares it."""
    db = store.create_db("busy")
    db.put({"_id": "a"})
    holding, release, done = threading.Barrier(3), threading.Event(), []

    def hold_a_reader():
        with db._reading():
            holding.wait(10)
            release.wait(10)
        done.append(1)

    threads = [threading.Thread(target=hold_a_reader) for _ in range(2)]  # the pool's two readers
    for t in threads:
        t.start()
    holding.wait(10)
    try:
        assert store.run_nonblocking(lambda: db.info()["doc_count"]) == (True, 1)
        assert store.run_nonblocking(lambda: db.get("a")["_id"]) == (True, "a")

        # While one non-blocking caller reads, another one (a second event loop) is refused.
        inner = []

        def read_holding_loop_reader():
            with db._reading():
                t = threading.Thread(target=lambda: inner.append(store.run_nonblocking(lambda: db.info())))
                t.start()
                t.join(10)

        assert store.run_nonblocking(read_holding_loop_reader)[0]
        assert inner == [(False, None)]
    finally:
        release.set()
        for t in threads:
            t.join(10)
    assert done == [1, 1]
    assert store.run_nonblocking(lambda: db.info()["doc_count"]) == (True, 1)
