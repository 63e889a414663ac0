"""Per-document access on every read and write path, with the test app's DocPolicy.

DocPolicy: a document with `private_to` is readable by that user, admins, and users named
by a `share:{docid}:{user}` document; `locked` documents are written by admins only.
Unreadable documents behave as if missing (left out of listings, 404 on direct fetch).
"""

from __future__ import annotations

import orjson
from app_for_tests import ENGINEER

SYNC_POLICY = "doc"


def seed(client, db):
    r = client.post(
        f"{db}/_bulk_docs",
        json={
            "docs": [
                {"_id": "open1", "v": 1},
                {"_id": "mine", "private_to": "engineer-a"},
                {"_id": "secret", "private_to": "admin-a", "body": "hidden"},
                {"_id": "open2", "v": 2},
            ]
        },
    )
    assert r.status_code == 201
    return {d["id"]: d["rev"] for d in r.json()}


def test_direct_fetch_of_an_unreadable_document_is_404(client, db, as_user):
    revs = seed(client, db)
    eng = as_user(ENGINEER)
    r = eng.get(f"{db}/secret")
    assert r.status_code == 404 and r.json() == {"error": "not_found", "reason": "missing"}
    assert eng.get(f"{db}/mine").status_code == 200
    assert client.get(f"{db}/secret").status_code == 200
    r = eng.get(f"{db}/secret", params={"open_revs": "all"})
    assert r.json() == [{"missing": revs["secret"]}]
    assert eng.get(f"{db}/secret", params={"open_revs": orjson.dumps([revs["secret"]]).decode()}).json() == [
        {"missing": revs["secret"]}
    ]


def test_listings_leave_unreadable_documents_out(client, db, as_user):
    seed(client, db)
    eng = as_user(ENGINEER)
    changes = eng.get(f"{db}/_changes", params={"include_docs": "true"}).json()
    assert [r["id"] for r in changes["results"]] == ["open1", "mine", "open2"]
    assert "hidden" not in orjson.dumps(changes).decode()
    rows = eng.get(f"{db}/_all_docs").json()["rows"]
    assert [r["id"] for r in rows] == ["mine", "open1", "open2"]
    assert all("doc" not in r for r in rows)
    keyed = eng.post(f"{db}/_all_docs", json={"keys": ["secret", "open1"]}).json()["rows"]
    assert keyed[0] == {"key": "secret", "error": "not_found"}
    assert keyed[1]["id"] == "open1"


def test_changes_pages_stay_full_when_rows_are_filtered(client, db, as_user):
    """PouchDB stops paging at a short page, so filtered pages must be refilled."""
    docs = [{"_id": f"s{i:02d}", "private_to": "admin-a"} for i in range(10)]
    docs += [{"_id": f"o{i:02d}"} for i in range(3)]
    client.post(f"{db}/_bulk_docs", json={"docs": docs})
    eng = as_user(ENGINEER)
    page = eng.get(f"{db}/_changes", params={"limit": 2}).json()
    assert [r["id"] for r in page["results"]] == ["o00", "o01"]
    rest = eng.get(f"{db}/_changes", params={"limit": 2, "since": page["last_seq"]}).json()
    assert [r["id"] for r in rest["results"]] == ["o02"]
    all_docs = eng.get(f"{db}/_all_docs", params={"limit": 2, "startkey": '"a"'}).json()["rows"]
    assert [r["id"] for r in all_docs] == ["o00", "o01"]


def test_bulk_get_refuses_unreadable_documents(client, db, as_user):
    revs = seed(client, db)
    r = as_user(ENGINEER).post(
        f"{db}/_bulk_get", json={"docs": [{"id": "secret", "rev": revs["secret"]}, {"id": "open1"}]}
    )
    results = r.json()["results"]
    assert results[0]["docs"][0]["error"]["error"] == "not_found"
    assert "ok" not in results[0]["docs"][0]
    assert results[1]["docs"][0]["ok"]["v"] == 1


def test_attachment_of_an_unreadable_document_is_404(client, db, as_user):
    rev = client.put(f"{db}/secret", json={"private_to": "admin-a"}).json()["rev"]
    client.put(
        f"{db}/secret/a.txt", params={"rev": rev}, content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert as_user(ENGINEER).get(f"{db}/secret/a.txt").status_code == 404


def test_bulk_docs_refuses_one_document_and_accepts_the_rest(client, db, as_user):
    eng = as_user(ENGINEER)
    r = eng.post(
        f"{db}/_bulk_docs",
        json={
            "docs": [
                {"_id": "ok1", "v": 1},
                {"_id": "bad", "locked": True},
                {"_id": "ok2", "v": 2},
            ]
        },
    )
    assert r.status_code == 201
    res = r.json()
    assert res[0]["id"] == "ok1" and "rev" in res[0]
    assert res[1]["id"] == "bad" and res[1]["error"] == "forbidden" and res[1]["reason"]
    assert res[2]["id"] == "ok2" and "rev" in res[2]
    assert client.get(f"{db}/bad").status_code == 404
    assert client.get(f"{db}/ok2").status_code == 200

    # Replication writes (new_edits=false) get the same check, and only errors come back.
    r = eng.post(
        f"{db}/_bulk_docs",
        json={
            "new_edits": False,
            "docs": [{"_id": "rep1", "_rev": "1-aaaa"}, {"_id": "rep2", "_rev": "1-bbbb", "locked": True}],
        },
    )
    assert r.json() == [{"id": "rep2", "error": "forbidden", "reason": r.json()[0]["reason"]}]
    assert client.get(f"{db}/rep1").status_code == 200


def test_writes_to_a_locked_document_are_forbidden(client, db, as_user):
    rev = client.put(f"{db}/lockme", json={"locked": True}).json()["rev"]
    eng = as_user(ENGINEER)
    r = eng.put(f"{db}/lockme", json={"_rev": rev, "locked": False})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert eng.delete(f"{db}/lockme", params={"rev": rev}).status_code == 403
    r = eng.put(
        f"{db}/lockme/a.txt", params={"rev": rev}, content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 403
    assert client.get(f"{db}/lockme").json()["_rev"] == rev


def test_a_document_shared_after_since_reaches_the_next_changes(client, db, as_user):
    seed(client, db)
    eng = as_user(ENGINEER)
    first = eng.get(f"{db}/_changes").json()
    assert "secret" not in [r["id"] for r in first["results"]]
    client.put(f"{db}/share:secret:engineer-a", json={"user": "engineer-a", "target": "secret"})
    nxt = eng.get(f"{db}/_changes", params={"since": first["last_seq"], "include_docs": "true"}).json()
    got = [r["id"] for r in nxt["results"]]
    assert got[0] == "secret", got
    assert "share:secret:engineer-a" in got
    assert nxt["results"][0]["doc"]["body"] == "hidden"
    # PouchDB checkpoints at the last row's seq: it must move forward, not back.
    assert nxt["results"][-1]["seq"] == nxt["last_seq"]
    again = eng.get(f"{db}/_changes", params={"since": nxt["last_seq"]}).json()
    assert again["results"] == []
    assert eng.get(f"{db}/secret").status_code == 200
