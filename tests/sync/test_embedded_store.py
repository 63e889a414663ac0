"""The embedded SQLite store, through the `Store`/`Database` interface only.

Each test gets its own freshly named database in its own temporary folder.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
import textwrap
import threading

import pytest
from hypothesis import given, settings, strategies as st

from sync.embedded import EmbeddedStore
from sync.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from sync.store import Database, Store


@pytest.fixture
def db(store):
    return store.create_db(f"t_{secrets.token_hex(4)}_test")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md5_digest(data: bytes) -> str:
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()


def replicate(db, doc_id, path, body=None, deleted=False, attachments=None):
    """Write a revision the way a replicator does: new_edits=false with its history."""
    pos = int(path[0].split("-")[0])
    doc = {
        "_id": doc_id,
        "_rev": path[0],
        "_revisions": {"start": pos, "ids": [r.split("-", 1)[1] for r in path]},
        **(body or {}),
    }
    if deleted:
        doc["_deleted"] = True
    if attachments:
        doc["_attachments"] = attachments
    return db.bulk_docs([doc], new_edits=False)[0]


# --- store --------------------------------------------------------------------------------


def test_store_and_database_satisfy_the_interface(store, db):
    assert isinstance(store, Store)
    assert isinstance(db, Database)


def test_create_open_list_delete(store):
    name = f"t_{secrets.token_hex(4)}_trees"
    assert not store.db_exists(name)
    with pytest.raises(NotFound):
        store.db(name)
    store.create_db(name)
    assert store.db_exists(name)
    assert name in store.list_dbs()
    with pytest.raises(PreconditionFailed) as exc:
        store.create_db(name)
    assert exc.value.error == "file_exists"
    store.delete_db(name)
    assert not store.db_exists(name)
    with pytest.raises(NotFound):
        store.delete_db(name)


def test_system_and_tenant_names_are_accepted_and_bad_names_refused(store):
    store.create_db("branchline_system")
    store.create_db("t_abc123_sessions")
    for bad in ("", "Upper", "_users", "../escape", "a/b", "1abc"):
        with pytest.raises(BadRequest):
            store.create_db(bad)


def test_data_survives_reopening_the_store(tmp_path):
    s1 = EmbeddedStore(tmp_path)
    rev = s1.create_db("t_abc123_trees").put({"_id": "tree:a", "title": "A"})["rev"]
    s1.close()
    s2 = EmbeddedStore(tmp_path)
    assert s2.db("t_abc123_trees").get("tree:a") == {"_id": "tree:a", "_rev": rev, "title": "A"}
    s2.close()


def test_deleted_database_handle_refuses_use(store):
    d = store.create_db("t_abc123_gone")
    store.delete_db("t_abc123_gone")
    with pytest.raises(NotFound):
        d.get("x")
    # Re-creating gives an empty database, not the old data.
    d2 = store.create_db("t_abc123_gone")
    assert d2.info()["doc_count"] == 0


def test_listeners_fire_after_commit_with_update_seq(store, db):
    seen = []
    store.add_listener(lambda name, seq: seen.append((name, seq, db.get("a")["v"])))
    db.put({"_id": "a", "v": 1})
    assert seen == [(db.name, 1, 1)]
    db.bulk_docs([{"_id": "a"}])  # a conflict: nothing committed, nobody woken
    assert len(seen) == 1


def test_a_failing_listener_does_not_fail_the_write(store, db):
    def boom(name, seq):
        raise RuntimeError("listener bug")

    store.add_listener(boom)
    rev = db.put({"_id": "a"})["rev"]
    assert db.get("a")["_rev"] == rev


def test_committed_writes_survive_sigkill(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal
        from sync.embedded import EmbeddedStore
        db = EmbeddedStore({str(tmp_path)!r}).create_db("t_abc123_crash")
        db.bulk_docs([{{"_id": f"d{{i}}", "n": i}} for i in range(500)])
        db.put({{"_id": "last"}})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd(), timeout=60)
    assert proc.returncode == -9
    s = EmbeddedStore(tmp_path)
    db = s.db("t_abc123_crash")
    assert db.info()["doc_count"] == 501
    assert db.get("last")["_id"] == "last"
    s.close()


# --- basic documents ---------------------------------------------------------------------


def test_put_get_update_with_rev_checks(db):
    r1 = db.put({"_id": "user:1", "email": "a@example.com"})
    assert r1["ok"] is True and r1["id"] == "user:1" and r1["rev"].startswith("1-")
    assert db.get("user:1") == {"_id": "user:1", "_rev": r1["rev"], "email": "a@example.com"}
    with pytest.raises(Conflict):
        db.put({"_id": "user:1", "email": "b@example.com"})  # no _rev
    r2 = db.put({"_id": "user:1", "_rev": r1["rev"], "email": "b@example.com"})
    assert r2["rev"].startswith("2-")
    with pytest.raises(Conflict):
        db.put({"_id": "user:1", "_rev": r1["rev"], "email": "c@example.com"})  # stale
    with pytest.raises(Conflict):
        db.put({"_id": "user:2", "_rev": r1["rev"]})  # rev for a missing doc
    assert db.get("user:1")["email"] == "b@example.com"


def test_rev_ids_are_deterministic_md5(db, store):
    other = store.create_db(f"t_{secrets.token_hex(4)}_other")
    a = db.put({"_id": "x", "v": 1, "w": [1, 2]})["rev"]
    b = other.put({"_id": "x", "w": [1, 2], "v": 1})["rev"]
    assert a == b
    assert len(a.split("-")[1]) == 32 and int(a.split("-")[1], 16) >= 0
    assert db.put({"_id": "y", "v": 2})["rev"] != a


def test_unstorable_values_are_a_bad_request(db):
    with pytest.raises(BadRequest):
        db.put({"_id": "a", "n": 2**70})
    assert (
        db.bulk_docs([{"_id": "b", "_rev": "1-x", "n": 2**70}], new_edits=False)[0]["error"] == "bad_request"
    )
    with pytest.raises(BadRequest):
        db.put_local({"_id": "_local/a", "n": 2**70})


def test_post_without_id_generates_one(db):
    res = db.put({"kind": "note"})
    assert db.get(res["id"])["kind"] == "note"


def test_missing_and_deleted_are_distinguished(db):
    with pytest.raises(NotFound) as exc:
        db.get("nope")
    assert exc.value.reason == "missing"
    rev = db.put({"_id": "a"})["rev"]
    drev = db.delete("a", rev)["rev"]
    with pytest.raises(NotFound) as exc:
        db.get("a")
    assert exc.value.reason == "deleted"
    tomb = db.get("a", rev=drev)
    assert tomb == {"_id": "a", "_rev": drev, "_deleted": True}


def test_delete_needs_current_rev(db):
    rev = db.put({"_id": "a"})["rev"]
    with pytest.raises(Conflict):
        db.delete("a", "1-00000000000000000000000000000000")
    assert db.get("a")["_rev"] == rev


def test_recreate_after_delete_continues_history(db):
    r1 = db.put({"_id": "a", "v": 1})["rev"]
    r2 = db.delete("a", r1)["rev"]
    r3 = db.put({"_id": "a", "v": 2})["rev"]
    assert r3.startswith("3-")
    doc = db.get("a", revs=True)
    assert doc["v"] == 2
    assert doc["_revisions"]["ids"] == [r.split("-")[1] for r in (r3, r2, r1)]


def test_bad_ids_and_members_are_refused(db):
    for doc in ({"_id": "_secret"}, {"_id": ""}, {"_id": 5}, {"_id": "a", "_weird": 1}):
        with pytest.raises(BadRequest):
            db.put(doc)
    assert db.put({"_id": "_design/app", "views": {}})["ok"]


def test_bulk_docs_reports_per_document(db):
    r1 = db.put({"_id": "a"})["rev"]
    res = db.bulk_docs(
        [{"_id": "b", "n": 1}, {"_id": "a"}, {"_id": "a", "_rev": r1, "n": 2}, {"_id": "_bad"}]
    )
    assert res[0]["ok"] and res[0]["id"] == "b"
    assert res[1]["error"] == "conflict" and res[1]["id"] == "a"
    assert res[2]["ok"] and res[2]["rev"].startswith("2-")
    assert res[3]["error"] == "illegal_docid"
    assert db.get("a")["n"] == 2 and db.get("b")["n"] == 1


def test_bulk_docs_same_id_twice_in_one_batch(db):
    res = db.bulk_docs([{"_id": "a", "n": 1}, {"_id": "a", "n": 2}])
    assert res[0]["ok"] and res[1]["error"] == "conflict"
    assert db.get("a")["n"] == 1
    assert [r["id"] for r in db.changes()["results"]] == ["a"]


def test_bulk_docs_large_batch(db):
    docs = [{"_id": f"doc{i:05d}", "text": "x" * 1000} for i in range(2000)]
    res = db.bulk_docs(docs)
    assert all(r["ok"] for r in res)
    info = db.info()
    assert info["doc_count"] == 2000 and info["update_seq"] == 2000


def test_concurrent_writers_from_threads(db):
    errors = []

    def worker(n):
        try:
            for i in range(50):
                db.put({"_id": f"w{n}-{i}"})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert db.info()["doc_count"] == 400
    seqs = [r["seq"] for r in db.changes()["results"]]
    assert len(seqs) == 400 and len(set(seqs)) == 400


# --- _all_docs ---------------------------------------------------------------------------


@pytest.fixture
def abc(db):
    for key in ("a", "b", "c", "d", "e"):
        db.put({"_id": key, "k": key})
    db.delete("e", db.get("e")["_rev"])
    return db


def ids(result):
    return [row["id"] for row in result["rows"]]


def test_all_docs_order_and_ranges(abc):
    assert ids(abc.all_docs()) == ["a", "b", "c", "d"]
    assert abc.all_docs()["total_rows"] == 4
    assert ids(abc.all_docs(startkey="b", endkey="c")) == ["b", "c"]
    assert ids(abc.all_docs(startkey="b", endkey="c", inclusive_end=False)) == ["b"]
    assert ids(abc.all_docs(descending=True)) == ["d", "c", "b", "a"]
    assert ids(abc.all_docs(descending=True, startkey="c", endkey="b")) == ["c", "b"]
    assert ids(abc.all_docs(descending=True, startkey="c", endkey="b", inclusive_end=False)) == ["c"]
    assert ids(abc.all_docs(skip=1, limit=2)) == ["b", "c"]
    assert abc.all_docs(startkey="b", skip=1)["offset"] == 2
    assert ids(abc.all_docs(limit=0)) == []


def test_all_docs_prefix_range_as_the_api_uses_it(db):
    for key in ("session:1", "session:1:ev:01", "session:2", "tree:x"):
        db.put({"_id": key})
    rows = db.all_docs(startkey="session:", endkey="session:\ufff0")
    assert ids(rows) == ["session:1", "session:1:ev:01", "session:2"]


def test_all_docs_without_offset_answers_the_same_rows(abc):
    # The server's own range reads skip the offset, which the embedded store counts row by row.
    for opts in ({"startkey": "b"}, {"startkey": "c", "descending": True}, {"startkey": "b", "skip": 1}):
        full, light = (
            abc.all_docs(include_docs=True, **opts),
            abc.all_docs(include_docs=True, offset=False, **opts),
        )
        assert light["rows"] == full["rows"] and light["total_rows"] == full["total_rows"]
        assert light["offset"] is None and full["offset"] in (1, 2)


def test_all_docs_include_docs_and_values(abc):
    rows = abc.all_docs(include_docs=True, keys=None, startkey="a", endkey="a")["rows"]
    assert rows[0]["doc"]["k"] == "a"
    assert rows[0]["value"]["rev"] == rows[0]["doc"]["_rev"]
    assert "doc" not in abc.all_docs()["rows"][0]


def test_all_docs_keys(abc):
    rows = abc.all_docs(keys=["c", "zz", "a", "e"], include_docs=True)["rows"]
    assert rows[0]["id"] == "c" and rows[0]["doc"]["k"] == "c"
    assert rows[1] == {"key": "zz", "error": "not_found"}
    assert rows[2]["id"] == "a"
    assert rows[3]["value"]["deleted"] is True and rows[3]["doc"] is None


def test_all_docs_excludes_local_docs(db):
    db.put_local({"_id": "_local/cp", "seq": 1})
    db.put({"_id": "a"})
    assert ids(db.all_docs()) == ["a"]


def test_all_docs_conflicts(db):
    replicate(db, "a", ["1-aaaa"])
    replicate(db, "a", ["1-bbbb"])
    doc = db.all_docs(include_docs=True, conflicts=True)["rows"][0]["doc"]
    assert doc["_rev"] == "1-bbbb" and doc["_conflicts"] == ["1-aaaa"]


# --- revision model ----------------------------------------------------------------------


def test_conflicts_and_deterministic_winner(db):
    replicate(db, "a", ["2-aaaa", "1-root"], {"v": "a"})
    replicate(db, "a", ["2-bbbb", "1-root"], {"v": "b"})
    doc = db.get("a", conflicts=True)
    assert doc["_rev"] == "2-bbbb" and doc["v"] == "b"
    assert doc["_conflicts"] == ["2-aaaa"]
    # Deleting the winner hands the win to the other branch.
    db.delete("a", "2-bbbb")
    doc = db.get("a", conflicts=True, deleted_conflicts=True)
    assert doc["_rev"] == "2-aaaa" and "_conflicts" not in doc
    assert doc["_deleted_conflicts"][0].startswith("3-")


def test_resolving_a_conflict_by_deleting_the_loser(db):
    replicate(db, "a", ["2-aaaa", "1-root"], {"v": "a"})
    replicate(db, "a", ["2-bbbb", "1-root"], {"v": "b"})
    seq = db.update_seq
    db.delete("a", "2-aaaa")
    doc = db.get("a", conflicts=True, deleted_conflicts=True)
    assert doc["_rev"] == "2-bbbb" and doc["v"] == "b" and "_conflicts" not in doc
    assert len(doc["_deleted_conflicts"]) == 1
    assert db.changes(since=seq)["results"][0]["changes"] == [{"rev": "2-bbbb"}]
    assert db.info()["doc_count"] == 1


def test_longer_branch_wins_over_higher_id(db):
    replicate(db, "a", ["1-zzzz"])
    replicate(db, "a", ["2-aaaa", "1-aaaa"])
    assert db.get("a")["_rev"] == "2-aaaa"


def test_live_leaf_beats_longer_deleted_branch(db):
    replicate(db, "a", ["1-aaaa"], {"v": 1})
    replicate(db, "a", ["3-cccc", "2-bbbb", "1-aaaa"], deleted=True)
    replicate(db, "a", ["2-dddd", "1-aaaa"], {"v": 2})
    doc = db.get("a", deleted_conflicts=True)
    assert doc["_rev"] == "2-dddd" and doc["_deleted_conflicts"] == ["3-cccc"]


def test_edit_any_current_leaf(db):
    replicate(db, "a", ["2-aaaa", "1-root"], {"v": "a"})
    replicate(db, "a", ["2-bbbb", "1-root"], {"v": "b"})
    res = db.put({"_id": "a", "_rev": "2-aaaa", "v": "a2"})
    assert res["rev"].startswith("3-")
    doc = db.get("a", conflicts=True)
    assert doc["_rev"] == res["rev"] and doc["_conflicts"] == ["2-bbbb"]
    with pytest.raises(Conflict):
        db.put({"_id": "a", "_rev": "1-root"})  # an inner node is not editable


def test_new_edits_false_known_leaf_is_a_noop(db):
    replicate(db, "a", ["2-bbbb", "1-aaaa"], {"v": 1})
    seq = db.update_seq
    res = replicate(db, "a", ["2-bbbb", "1-aaaa"], {"v": "ignored"})
    assert res["rev"] == "2-bbbb"
    assert db.update_seq == seq
    assert db.get("a")["v"] == 1
    res = replicate(db, "a", ["1-aaaa"])  # a known inner node: also nothing new
    assert db.update_seq == seq and db.get("a")["_rev"] == "2-bbbb"


def test_new_edits_false_extends_and_branches(db):
    replicate(db, "a", ["1-aaaa"])
    replicate(db, "a", ["3-cccc", "2-bbbb", "1-aaaa"])
    doc = db.get("a", revs=True, conflicts=True)
    assert doc["_rev"] == "3-cccc" and "_conflicts" not in doc
    assert doc["_revisions"] == {"start": 3, "ids": ["cccc", "bbbb", "aaaa"]}
    # No overlap with the tree: a new branch of its own.
    replicate(db, "a", ["2-xxxx", "1-yyyy"])
    assert db.get("a", conflicts=True)["_conflicts"] == ["2-xxxx"]


def test_new_edits_false_needs_a_rev(db):
    res = db.bulk_docs([{"_id": "a"}], new_edits=False)[0]
    assert res["error"] == "bad_request"


def test_revs_limit_stems_history(db):
    assert db.get_revs_limit() == 1000
    db.set_revs_limit(3)
    assert db.get_revs_limit() == 3
    rev = db.put({"_id": "a", "n": 0})["rev"]
    for n in range(1, 6):
        rev = db.put({"_id": "a", "_rev": rev, "n": n})["rev"]
    revs = db.get("a", revs=True)["_revisions"]
    assert revs["start"] == 6 and len(revs["ids"]) == 3
    with pytest.raises(BadRequest):
        db.set_revs_limit(0)


def test_full_history_from_a_client_does_not_fork_a_stemmed_document(db):
    db.set_revs_limit(3)
    history = [f"{n}-{n:032x}" for n in range(8, 0, -1)]  # newest first
    replicate(db, "a", history[2:], {"v": 6})
    seq = db.update_seq
    # The client resends everything it knows, then edits on top of it.
    replicate(db, "a", history[2:], {"v": 6})
    assert db.update_seq == seq
    replicate(db, "a", history, {"v": 8})
    doc = db.get("a", conflicts=True, revs=True)
    assert doc["_rev"] == history[0] and "_conflicts" not in doc
    assert len(doc["_revisions"]["ids"]) == 3


def test_revs_limit_survives_reopening(tmp_path):
    s1 = EmbeddedStore(tmp_path)
    s1.create_db("t_abc123_x").set_revs_limit(7)
    s1.close()
    s2 = EmbeddedStore(tmp_path)
    assert s2.db("t_abc123_x").get_revs_limit() == 7
    s2.close()


def test_revs_info_statuses(db):
    r1 = db.put({"_id": "a"})["rev"]
    r2 = db.put({"_id": "a", "_rev": r1, "x": 1})["rev"]
    info = db.get("a", revs_info=True)["_revs_info"]
    assert info == [{"rev": r2, "status": "available"}, {"rev": r1, "status": "available"}]
    db.compact()  # as in CouchDB, the ancestor's body is kept until compaction
    info = db.get("a", revs_info=True)["_revs_info"]
    assert info == [{"rev": r2, "status": "available"}, {"rev": r1, "status": "missing"}]


def test_get_non_winning_and_latest(db):
    replicate(db, "a", ["2-aaaa", "1-root"], {"v": "a"})
    replicate(db, "a", ["2-bbbb", "1-root"], {"v": "b"})
    assert db.get("a", rev="2-aaaa")["v"] == "a"
    with pytest.raises(NotFound):
        db.get("a", rev="9-nope")
    with pytest.raises(BadRequest):
        db.get("a", rev="garbage")
    assert db.get("a", rev="1-root", latest=True)["_rev"] == "2-bbbb"


def test_local_seq(db):
    db.put({"_id": "a"})
    db.put({"_id": "b"})
    assert db.get("b", local_seq=True)["_local_seq"] == 2


def test_open_revs(db):
    replicate(db, "a", ["2-aaaa", "1-root"], {"v": "a"})
    replicate(db, "a", ["2-bbbb", "1-root"], {"v": "b"}, deleted=True)
    everything = db.get_open_revs("a", "all")
    assert sorted(e["ok"]["_rev"] for e in everything) == ["2-aaaa", "2-bbbb"]
    deleted = next(e["ok"] for e in everything if e["ok"]["_rev"] == "2-bbbb")
    assert deleted["_deleted"] is True
    some = db.get_open_revs("a", ["2-aaaa", "3-zzzz"], revs=True)
    assert some[0]["ok"]["_revisions"] == {"start": 2, "ids": ["aaaa", "root"]}
    assert some[1] == {"missing": "3-zzzz"}
    latest = db.get_open_revs("a", ["1-root"], latest=True)
    assert sorted(e["ok"]["_rev"] for e in latest) == ["2-aaaa", "2-bbbb"]
    with pytest.raises(NotFound):
        db.get_open_revs("nope", "all")


def test_revs_diff(db):
    replicate(db, "a", ["2-bbbb", "1-aaaa"])
    diff = db.revs_diff({"a": ["2-bbbb", "3-cccc", "1-aaaa"], "b": ["1-xxxx"]})
    assert diff == {
        "a": {"missing": ["3-cccc"], "possible_ancestors": ["2-bbbb"]},
        "b": {"missing": ["1-xxxx"]},
    }
    assert db.revs_diff({"a": ["2-bbbb"]}) == {}


def test_bulk_get(db):
    replicate(db, "a", ["2-bbbb", "1-aaaa"], {"v": 1})
    out = db.bulk_get(
        [{"id": "a", "rev": "2-bbbb"}, {"id": "a", "rev": "9-zzzz"}, {"id": "nope"}, {"id": "a"}], revs=True
    )
    assert out[0]["id"] == "a"
    assert out[0]["docs"][0]["ok"]["_revisions"] == {"start": 2, "ids": ["bbbb", "aaaa"]}
    assert out[1]["docs"][0]["error"]["error"] == "not_found"
    assert out[1]["docs"][0]["error"]["rev"] == "9-zzzz"
    assert out[2]["docs"][0]["error"]["error"] == "not_found"
    assert out[3]["docs"][0]["ok"]["v"] == 1


# --- _changes ----------------------------------------------------------------------------


def test_changes_one_row_per_doc_at_latest_seq(db):
    r = db.put({"_id": "a"})["rev"]
    db.put({"_id": "b"})
    db.put({"_id": "a", "_rev": r, "v": 2})
    ch = db.changes()
    assert [(x["id"], x["seq"]) for x in ch["results"]] == [("b", 2), ("a", 3)]
    assert ch["last_seq"] == 3 and ch["pending"] == 0


def test_changes_since_limit_and_resume(db):
    for i in range(10):
        db.put({"_id": f"d{i}"})
    first = db.changes(limit=4)
    assert len(first["results"]) == 4 and first["pending"] == 6
    rest = db.changes(since=first["last_seq"])
    assert [r["id"] for r in first["results"] + rest["results"]] == [f"d{i}" for i in range(10)]
    assert db.changes(since=rest["last_seq"])["results"] == []
    assert db.changes(since=str(first["last_seq"]))["results"] == rest["results"]
    # Readers paging through the whole feed skip the count of what is left (it walks every row).
    light = db.changes(limit=4, pending=False)
    assert light["results"] == first["results"] and light["last_seq"] == first["last_seq"]
    assert light["pending"] is None
    assert db.changes(limit=4, descending=True, pending=False)["pending"] is None
    assert db.changes(since="now")["results"] == []
    with pytest.raises(BadRequest):
        db.changes(since="bogus")


def test_changes_descending(db):
    for i in range(3):
        db.put({"_id": f"d{i}"})
    assert [r["id"] for r in db.changes(descending=True)["results"]] == ["d2", "d1", "d0"]
    assert [r["id"] for r in db.changes(descending=True, limit=1)["results"]] == ["d2"]


def test_changes_style_all_docs_and_deleted(db):
    replicate(db, "a", ["2-aaaa", "1-root"])
    replicate(db, "a", ["2-bbbb", "1-root"])
    row = db.changes(style="all_docs")["results"][0]
    assert row["changes"] == [{"rev": "2-bbbb"}, {"rev": "2-aaaa"}]
    assert db.changes()["results"][0]["changes"] == [{"rev": "2-bbbb"}]
    r = db.put({"_id": "gone"})["rev"]
    db.delete("gone", r)
    row = db.changes(include_docs=True)["results"][-1]
    assert row["deleted"] is True and row["doc"]["_deleted"] is True


def test_changes_filters(db):
    db.bulk_docs(
        [
            {"_id": "s1", "type": "session", "owner": {"id": "u1"}, "n": 1},
            {"_id": "s2", "type": "session", "owner": {"id": "u2"}, "n": 5},
            {"_id": "t1", "type": "tree", "n": 3},
        ]
    )
    got = db.changes(doc_ids=["s2", "t1", "zz"])
    assert [r["id"] for r in got["results"]] == ["s2", "t1"]
    got = db.changes(selector={"type": "session", "owner.id": {"$ne": "u1"}}, include_docs=True)
    assert [r["id"] for r in got["results"]] == ["s2"]
    assert got["results"][0]["doc"]["n"] == 5
    assert got["last_seq"] == db.update_seq
    got = db.changes(selector={"n": {"$gte": 3}})
    assert [r["id"] for r in got["results"]] == ["s2", "t1"] and "doc" not in got["results"][0]
    with pytest.raises(BadRequest):
        db.changes(selector={"n": {"$bogus": 1}})


def test_changes_keep_leaves_rows_out_before_reading_them_and_counts_only_kept_rows(db):
    """`keep` (a feed's id-level pre-filter): rows it refuses are left out, the limit counts
    only rows sent, and resuming from `last_seq` neither skips nor repeats a kept row."""
    db.bulk_docs([{"_id": f"{'mine' if i % 3 == 0 else 'other'}{i:03d}", "n": i} for i in range(300)])
    r = db.put({"_id": "mine000", "_rev": db.get("mine000")["_rev"], "n": 1000})
    assert r["ok"]
    judged = []

    def keep(docid):
        judged.append(docid)
        return docid.startswith("mine")

    wanted = [f"mine{i:03d}" for i in range(3, 300, 3)] + ["mine000"]  # mine000 moved to the end
    got = db.changes(keep=keep, include_docs=True)
    assert [r["id"] for r in got["results"]] == wanted
    assert got["results"][-1]["doc"]["n"] == 1000 and got["last_seq"] == db.update_seq
    assert len(judged) == 300  # each document once, at its latest seq
    pages, since = [], 0
    while True:
        page = db.changes(since=since, limit=7, keep=keep)
        pages += [r["id"] for r in page["results"]]
        if len(page["results"]) < 7:
            break
        assert page["pending"] > 0
        since = page["last_seq"]
    assert pages == wanted
    # With a selector too, the limit still counts rows that pass both.
    got = db.changes(keep=keep, selector={"n": {"$gte": 150}}, limit=5)
    assert [r["id"] for r in got["results"]] == [f"mine{i:03d}" for i in range(150, 165, 3)]
    # And with doc_ids.
    got = db.changes(keep=keep, doc_ids=["mine003", "other001", "mine006"])
    assert [r["id"] for r in got["results"]] == ["mine003", "mine006"]


def test_changes_with_empty_doc_ids_is_empty(db):
    db.put({"_id": "a"})
    assert db.changes(doc_ids=[])["results"] == []


def test_changes_with_many_doc_ids(db):
    db.bulk_docs([{"_id": f"d{i:04d}"} for i in range(1200)])
    wanted = [f"d{i:04d}" for i in range(0, 1200, 2)] + ["missing"]
    assert [r["id"] for r in db.changes(doc_ids=wanted)["results"]] == wanted[:-1]


def test_changes_excludes_local_docs(db):
    db.put_local({"_id": "_local/checkpoint", "last_seq": 5})
    assert db.changes()["results"] == []
    assert db.update_seq == 0


# --- _local ------------------------------------------------------------------------------


def test_local_documents(db):
    res = db.put_local({"_id": "_local/cp", "seq": 1})
    assert res["rev"] == "0-1"
    assert db.get_local("_local/cp") == {"_id": "_local/cp", "_rev": "0-1", "seq": 1}
    assert db.get("_local/cp")["seq"] == 1
    with pytest.raises(Conflict):
        db.put_local({"_id": "_local/cp", "seq": 2})
    assert db.put_local({"_id": "_local/cp", "_rev": "0-1", "seq": 2})["rev"] == "0-2"
    assert db.put({"_id": "_local/cp", "_rev": "0-2", "seq": 3})["rev"] == "0-3"
    db.delete_local("_local/cp", "0-3")
    with pytest.raises(NotFound):
        db.get_local("_local/cp")
    # Re-created from scratch after deletion.
    assert db.put_local({"_id": "_local/cp", "seq": 9})["rev"] == "0-1"


# --- attachments -------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def test_inline_attachment_becomes_stub_with_md5_digest(db):
    rev = db.put({"_id": "a", "_attachments": {"shot.png": {"content_type": "image/png", "data": b64(PNG)}}})[
        "rev"
    ]
    stub = db.get("a")["_attachments"]["shot.png"]
    assert stub == {
        "content_type": "image/png",
        "digest": md5_digest(PNG),
        "length": len(PNG),
        "revpos": 1,
        "stub": True,
    }
    data, ctype, digest = db.get_attachment("a", "shot.png")
    assert (data, ctype, digest) == (PNG, "image/png", md5_digest(PNG))
    full = db.get("a", attachments=True)["_attachments"]["shot.png"]
    assert base64.b64decode(full["data"]) == PNG and "stub" not in full
    assert db.get_attachment("a", "shot.png", rev=rev)[0] == PNG


def test_stubs_carry_forward_and_missing_stubs_fail(db):
    rev = db.put(
        {"_id": "a", "_attachments": {"n.txt": {"content_type": "text/plain", "data": b64(b"hello")}}}
    )["rev"]
    doc = db.get("a")
    doc["title"] = "edited"
    rev2 = db.put(doc)["rev"]
    assert db.get_attachment("a", "n.txt", rev=rev2)[0] == b"hello"
    assert db.get("a")["_attachments"]["n.txt"]["revpos"] == 1
    with pytest.raises(PreconditionFailed) as exc:
        db.put({"_id": "a", "_rev": rev2, "_attachments": {"other": {"stub": True}}})
    assert exc.value.error == "missing_stub"
    # An edit without _attachments drops them, as in CouchDB.
    rev3 = db.put({"_id": "a", "_rev": rev2, "title": "no files"})["rev"]
    assert "_attachments" not in db.get("a")
    with pytest.raises(NotFound):
        db.get_attachment("a", "n.txt", rev=rev3)
    assert rev != rev3


def test_attachment_from_a_losing_revision(db):
    replicate(
        db, "a", ["1-aaaa"], attachments={"x.txt": {"content_type": "text/plain", "data": b64(b"loser")}}
    )
    replicate(
        db, "a", ["1-bbbb"], attachments={"x.txt": {"content_type": "text/plain", "data": b64(b"winner")}}
    )
    assert db.get_attachment("a", "x.txt")[0] == b"winner"
    assert db.get_attachment("a", "x.txt", rev="1-aaaa")[0] == b"loser"


def test_put_and_delete_attachment(db):
    res = db.put_attachment("a", "f.bin", b"\x00\x01", "application/octet-stream", rev=None)
    res2 = db.put_attachment("a", "g.txt", b"g", "text/plain", rev=res["rev"])
    doc = db.get("a")
    assert set(doc["_attachments"]) == {"f.bin", "g.txt"}
    assert doc["_attachments"]["f.bin"]["revpos"] == 1
    assert doc["_attachments"]["g.txt"]["revpos"] == 2
    with pytest.raises(Conflict):
        db.put_attachment("a", "h.txt", b"h", "text/plain", rev=res["rev"])
    db.delete_attachment("a", "f.bin", rev=res2["rev"])
    assert set(db.get("a")["_attachments"]) == {"g.txt"}
    with pytest.raises(NotFound):
        db.delete_attachment("a", "nope", rev=db.get("a")["_rev"])


def test_replicated_stub_uses_known_content_and_unknown_fails(db):
    replicate(
        db, "a", ["1-aaaa"], attachments={"x.txt": {"content_type": "text/plain", "data": b64(b"data")}}
    )
    digest = md5_digest(b"data")
    res = replicate(
        db,
        "a",
        ["2-bbbb", "1-aaaa"],
        attachments={"x.txt": {"content_type": "text/plain", "digest": digest, "revpos": 1, "stub": True}},
    )
    assert res["ok"]
    assert db.get_attachment("a", "x.txt")[0] == b"data"
    res = replicate(
        db,
        "b",
        ["1-cccc"],
        attachments={"y.txt": {"content_type": "text/plain", "digest": "md5-nothere", "stub": True}},
    )
    assert res["error"] == "missing_stub"


def test_atts_since_skips_data_the_client_has(db):
    r1 = db.put({"_id": "a", "_attachments": {"old": {"content_type": "text/plain", "data": b64(b"old")}}})[
        "rev"
    ]
    r2 = db.put_attachment("a", "new", b"new", "text/plain", rev=r1)["rev"]
    atts = db.get("a", rev=r2, attachments=True, atts_since=[r1])["_attachments"]
    assert atts["old"].get("stub") is True and "data" not in atts["old"]
    assert base64.b64decode(atts["new"]["data"]) == b"new"


def test_compact_drops_only_unreferenced_attachment_content(db):
    r1 = db.put(
        {
            "_id": "a",
            "_attachments": {
                "keep": {"content_type": "text/plain", "data": b64(b"keep")},
                "drop": {"content_type": "text/plain", "data": b64(b"drop")},
            },
        }
    )["rev"]
    db.put({"_id": "b", "_attachments": {"same": {"content_type": "text/plain", "data": b64(b"keep")}}})
    db.delete_attachment("a", "drop", rev=r1)
    assert db.compact() == 1
    assert db.get_attachment("a", "keep")[0] == b"keep"
    assert db.get_attachment("b", "same")[0] == b"keep"
    assert db.compact() == 0


def test_invalid_attachment_data_is_refused(db):
    with pytest.raises(BadRequest):
        db.put({"_id": "a", "_attachments": {"x": {"content_type": "text/plain", "data": "not base64!!"}}})


# --- convergence: replicas that receive the same revisions agree --------------------------


@st.composite
def replicated_writes(draw):
    """Revisions of one document from several devices: (path newest first, deleted, body)."""
    revs: list[str] = []
    writes = []
    for n in range(draw(st.integers(1, 8))):
        if revs and draw(st.booleans()):
            parent = draw(st.sampled_from(revs))
            pos = int(parent.split("-")[0]) + 1
        else:
            parent, pos = None, 1
        rev = f"{pos}-{draw(st.sampled_from('abc'))}{n:031x}"
        revs.append(rev)
        path = [rev]
        parents = {w[0][0]: w[0] for w in writes}
        if parent is not None:
            path += parents[parent]
        writes.append((path, draw(st.booleans()), {"n": n}))
    return writes


@settings(max_examples=40, deadline=None)
@given(replicated_writes(), st.randoms())
def test_replicas_converge_whatever_the_arrival_order(tmp_path_factory, writes, rnd):
    shuffled = list(writes)
    rnd.shuffle(shuffled)
    store = EmbeddedStore(tmp_path_factory.mktemp("conv"))
    try:
        states = []
        for i, order in enumerate((writes, shuffled)):
            d = store.create_db(f"t_conv{i}_db")
            for path, deleted, body in order:
                assert replicate(d, "doc", path, body, deleted=deleted)["ok"]
            leaves = sorted(
                (e["ok"]["_rev"], e["ok"].get("_deleted", False), e["ok"]["n"])
                for e in d.get_open_revs("doc", "all")
            )
            try:
                doc = d.get("doc", conflicts=True, deleted_conflicts=True)
            except NotFound as exc:
                doc = exc.reason
            row = d.changes(style="all_docs")["results"][0]
            states.append((leaves, doc, row["changes"], row.get("deleted", False)))
        assert states[0] == states[1]
    finally:
        store.close()
