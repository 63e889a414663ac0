"""Behaviours CouchDB clients rely on, as CouchDB's API documentation describes them.

Every test here also runs on the CouchDB backend (tests/couchdb/http_suite), so both
backends answer what a real CouchDB answers.
"""

from __future__ import annotations

import base64

import httpx


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- attachments ------------------------------------------------------------------------
def test_inline_attachments_carry_data_without_length(client, db):
    r = client.put(
        f"{db}/d", json={"_attachments": {"a.txt": {"content_type": "text/plain", "data": _b64(b"hello")}}}
    )
    assert r.status_code == 201, r.text
    inline = client.get(f"{db}/d", params={"attachments": "true"}).json()["_attachments"]["a.txt"]
    assert set(inline) == {"content_type", "revpos", "digest", "data"}
    assert base64.b64decode(inline["data"]) == b"hello"
    stub = client.get(f"{db}/d").json()["_attachments"]["a.txt"]
    assert stub["stub"] is True and stub["length"] == 5


def test_attachment_is_served_with_exactly_its_stored_type_and_inert(client, db):
    r = client.put(f"{db}/d/notes.txt", content=b"plain", headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    rev = r.json()["rev"]
    got = client.get(f"{db}/d/notes.txt")
    assert got.headers["content-type"] == "text/plain"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    r = client.put(
        f"{db}/d/table.csv", params={"rev": rev}, content=b"a,b", headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 201, r.text
    got = client.get(f"{db}/d/table.csv")
    assert got.headers["content-type"] == "text/csv"
    assert got.headers["content-disposition"] == "attachment"


def test_attachment_names_starting_with_underscore_are_refused(client, db):
    r = client.put(f"{db}/d/_hidden.txt", content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert "_hidden.txt" in r.json()["reason"]
    r = client.put(
        f"{db}/e", json={"_attachments": {"_x": {"content_type": "text/plain", "data": _b64(b"x")}}}
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = client.post(
        f"{db}/_bulk_docs",
        json={
            "docs": [{"_id": "f", "_attachments": {"_x": {"content_type": "text/plain", "data": _b64(b"x")}}}]
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    for docid in ("d", "e", "f"):
        assert client.get(f"{db}/{docid}").status_code == 404


# --- _bulk_docs -------------------------------------------------------------------------
def _refused_whole(client, db, body, error):
    r = client.post(f"{db}/_bulk_docs", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == error and r.json()["reason"]
    assert client.get(f"{db}/fine").status_code == 404  # the good document was not written


def test_bulk_docs_refuses_the_whole_request_for_a_bad_special_member(client, db):
    _refused_whole(client, db, {"docs": [{"_id": "fine"}, {"_id": "bad", "_zing": 1}]}, "doc_validation")


def test_bulk_docs_refuses_the_whole_request_for_an_unreserved_underscore_id(client, db):
    _refused_whole(client, db, {"docs": [{"_id": "fine"}, {"_id": "_nope"}]}, "illegal_docid")


def test_bulk_docs_refuses_replicated_documents_without_rev(client, db):
    _refused_whole(
        client,
        db,
        {"new_edits": False, "docs": [{"_id": "fine", "_rev": "1-abc"}, {"_id": "norev"}]},
        "bad_request",
    )


def test_bulk_docs_accepts_the_replicators_own_members(client, db):
    doc = {
        "_id": "job",
        "_replication_id": "r1",
        "_replication_state": "completed",
        "_replication_state_time": "2026-01-01T00:00:00Z",
        "_replication_stats": {"docs_written": 1},
    }
    r = client.post(f"{db}/_bulk_docs", json={"docs": [doc]})
    assert r.status_code == 201 and r.json()[0]["ok"] is True, r.text
    stored = client.get(f"{db}/job").json()
    assert stored["_replication_state"] == "completed"
    assert stored["_replication_stats"] == {"docs_written": 1}


def test_bulk_docs_unknown_but_well_formed_rev_is_a_conflict(client, db):
    client.put(f"{db}/d", json={"v": 1})
    r = client.post(f"{db}/_bulk_docs", json={"docs": [{"_id": "d", "_rev": "3-totally_fake_rev"}]})
    assert r.status_code == 201
    assert r.json()[0]["error"] == "conflict"


# --- query parameters -------------------------------------------------------------------
def test_all_docs_refuses_key_together_with_keys(client, db):
    client.put(f"{db}/a", json={})
    r = client.get(f"{db}/_all_docs", params={"key": '"a"', "keys": '["a"]'})
    assert r.status_code == 400 and r.json()["error"] == "query_parse_error", r.text
    r = client.post(f"{db}/_all_docs", params={"key": '"a"'}, json={"keys": ["a"]})
    assert r.status_code == 400 and r.json()["error"] == "query_parse_error", r.text
    assert [row["id"] for row in client.get(f"{db}/_all_docs", params={"key": '"a"'}).json()["rows"]] == ["a"]


def test_changes_naming_a_missing_design_document_or_view_is_not_found(client, db):
    client.put(f"{db}/_design/app", json={"filters": {"mine": "function (doc) { return true; }"}})
    for params in (
        {"filter": "nodesign/mine"},
        {"filter": "app/nofilter"},
        {"filter": "_view", "view": "nodesign/by_type"},
        {"filter": "_view", "view": "app/noview"},
    ):
        r = client.get(f"{db}/_changes", params=params)
        assert r.status_code == 404 and r.json()["error"] == "not_found", (params, r.text)
    r = client.get(f"{db}/_changes", params={"filter": "_view"})
    assert r.status_code == 400 and r.json()["error"] == "query_parse_error", r.text


# --- _selector --------------------------------------------------------------------------
def test_selector_errors_use_couchdbs_names_and_reasons(client, db):
    cases = [
        ({"a": {"$foo": 1}}, "invalid_operator", "Invalid operator: $foo"),
        ({"a": {"$in": 1}}, "bad_arg", "Bad argument for operator $in: 1"),
        ({"a": {"$regex": "("}}, "bad_arg", 'Bad argument for operator $regex: "("'),
        ({"$or": 5}, "bad_arg", "Bad argument for operator $or: 5"),
        ({"$gt": 1}, "invalid_selector", "One or more conditions is missing a field name."),
    ]
    for selector, error, reason in cases:
        r = client.post(f"{db}/_changes", params={"filter": "_selector"}, json={"selector": selector})
        assert r.status_code == 400, (selector, r.text)
        assert r.json() == {"error": error, "reason": reason}


# --- the tenant root --------------------------------------------------------------------
def test_tenant_root_welcomes_clients_before_they_sign_in(sync_server, client):
    signed_in = client.get("").json()
    for url in (sync_server.tenant_url() + "/", sync_server.tenant_url()):
        r = httpx.get(url)
        assert r.status_code == 200, r.text
        assert r.json() == signed_in
    # Any tenant id gets the same kind of answer: it does not tell whether the tenant exists.
    other = httpx.get(sync_server.tenant_url("nosuchtenant9") + "/")
    assert other.status_code == 200 and other.json()["couchdb"] == "Welcome"
    assert set(other.json()) == set(signed_in) and other.json()["uuid"] != signed_in["uuid"]
    # Everything below the root still needs credentials.
    for path in ("/_all_dbs", "/_session", "/_uuids", "/trees"):
        r = httpx.get(sync_server.tenant_url() + path)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized", path
