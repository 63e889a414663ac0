"""Database endpoints: create, info, delete, _revs_limit, _security, _ensure_full_commit."""

from __future__ import annotations

import uuid

from app_for_tests import VIEWER


def test_create_info_delete(client):
    name = "db-" + uuid.uuid4().hex[:10]
    assert client.get(name).status_code == 404
    r = client.put(name)
    assert r.status_code == 201 and r.json() == {"ok": True}
    info = client.get(name).json()
    assert info["db_name"] == name
    assert info["doc_count"] == 0 and info["doc_del_count"] == 0
    assert client.put(name).status_code == 412
    assert client.put(name).json()["error"] == "file_exists"
    r = client.delete(name)
    assert r.status_code == 200 and r.json() == {"ok": True}
    r = client.get(name)
    assert r.json() == {"error": "not_found", "reason": "Database does not exist."}
    assert client.delete(name).status_code == 404


def test_info_counts_documents_and_deletions(client, db):
    client.put(f"{db}/a", json={})
    rev = client.put(f"{db}/b", json={}).json()["rev"]
    client.delete(f"{db}/b", params={"rev": rev})
    info = client.get(db).json()
    assert info["doc_count"] == 1 and info["doc_del_count"] == 1
    assert info["update_seq"]


def test_illegal_database_name_is_400(client):
    r = client.put("Bad%20Name")
    assert r.status_code == 400 and r.json()["error"] == "illegal_database_name"


def test_viewer_may_not_create_or_delete_databases(as_user, client, db):
    viewer = as_user(VIEWER)
    r = viewer.put("db-" + uuid.uuid4().hex[:10])
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert viewer.delete(db).status_code == 403
    assert client.get(db).status_code == 200
    assert viewer.get(db).status_code == 200


def test_revs_limit_get_and_put(client, db, as_user):
    assert client.get(f"{db}/_revs_limit").json() == 1000
    r = client.put(f"{db}/_revs_limit", content=b"5")
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert client.get(f"{db}/_revs_limit").json() == 5
    assert client.put(f"{db}/_revs_limit", content=b"0").status_code == 400
    assert client.put(f"{db}/_revs_limit", content=b'"x"').status_code == 400
    assert as_user(VIEWER).put(f"{db}/_revs_limit", content=b"3").status_code == 403


def test_security_is_for_admins_only(client, db, as_user):
    default = client.get(f"{db}/_security").json()
    assert default["members"] == {"names": [], "roles": []}
    sec = {"admins": {"names": ["x"], "roles": []}, "members": {"names": [], "roles": ["r"]}}
    assert client.put(f"{db}/_security", json=sec).json() == {"ok": True}
    assert client.get(f"{db}/_security").json() == sec
    viewer = as_user(VIEWER)
    assert viewer.get(f"{db}/_security").status_code == 403
    assert viewer.put(f"{db}/_security", json={}).status_code == 403
    # The object is not reachable as a _local document.
    assert client.get(f"{db}/_local/_branchline_security").status_code == 403


def test_ensure_full_commit(client, db):
    r = client.post(f"{db}/_ensure_full_commit")
    assert r.status_code == 201 and r.json()["ok"] is True


def test_unsupported_database_endpoints_answer_501(client, db):
    r = client.post(f"{db}/_find", json={"selector": {}})
    assert r.status_code == 501 and r.json()["error"] == "not_implemented"


def test_unknown_underscore_id_is_400(client, db):
    r = client.get(f"{db}/_nonsense")
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
