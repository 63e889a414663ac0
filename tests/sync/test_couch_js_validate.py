"""`validate_doc_update(newDoc, oldDoc, userCtx, secObj)` on every write through sync, as
CouchDB's documentation describes it: `throw({forbidden: msg})` answers 403, `throw({unauthorized:
msg})` 401, with the message as the reason. Also run on the CouchDB backend
(tests/couchdb/http_suite/test_couch_http_couch_js.py)."""

from __future__ import annotations

import base64

VALIDATE = """function (newDoc, oldDoc, userCtx, secObj) {
  if (newDoc._deleted) { return; }
  if (!newDoc.title) { throw({forbidden: 'Every document needs a title.'}); }
  if (newDoc.owner && newDoc.owner !== userCtx.name) {
    throw({unauthorized: 'Only its owner may write it.'});
  }
  if (oldDoc && oldDoc.final) { throw({forbidden: 'Final documents never change.'}); }
}"""


def _install(client, db):
    r = client.put(f"{db}/_design/rules", json={"validate_doc_update": VALIDATE})
    assert r.status_code == 201, r.text


def test_forbidden_is_403_with_the_message(client, db):
    _install(client, db)
    r = client.put(f"{db}/a", json={"body": "no title"})
    assert r.status_code == 403 and r.json() == {
        "error": "forbidden",
        "reason": "Every document needs a title.",
    }
    assert client.post(db, json={"body": "x"}).status_code == 403
    assert client.put(f"{db}/a", json={"title": "ok"}).status_code == 201
    assert client.get(f"{db}/a").json()["title"] == "ok"


def test_unauthorized_is_401_with_the_message(client, db):
    _install(client, db)
    r = client.put(f"{db}/b", json={"title": "t", "owner": "someone-else@example.com"})
    assert r.status_code == 401 and r.json() == {
        "error": "unauthorized",
        "reason": "Only its owner may write it.",
    }
    assert client.get(f"{db}/b").status_code == 404


def test_old_document_is_passed_and_deletions_are_validated_too(client, db):
    _install(client, db)
    rev = client.put(f"{db}/c", json={"title": "t", "final": True}).json()["rev"]
    r = client.put(f"{db}/c", json={"title": "changed", "_rev": rev})
    assert r.status_code == 403 and r.json()["reason"] == "Final documents never change."
    assert client.delete(f"{db}/c", params={"rev": rev}).status_code == 200


def test_bulk_docs_and_replicated_writes_are_validated_per_document(client, db):
    _install(client, db)
    r = client.post(f"{db}/_bulk_docs", json={"docs": [{"_id": "good", "title": "t"}, {"_id": "bad"}]})
    assert r.status_code == 201
    by_id = {row["id"]: row for row in r.json()}
    assert "rev" in by_id["good"]
    assert by_id["bad"]["error"] == "forbidden" and by_id["bad"]["reason"] == "Every document needs a title."
    r = client.post(
        f"{db}/_bulk_docs",
        json={
            "new_edits": False,
            "docs": [{"_id": "rep-ok", "_rev": "1-aaa", "title": "t"}, {"_id": "rep-bad", "_rev": "1-bbb"}],
        },
    )
    assert r.status_code == 201
    assert [(row["id"], row["error"]) for row in r.json()] == [("rep-bad", "forbidden")]
    assert client.get(f"{db}/rep-ok").status_code == 200
    assert client.get(f"{db}/rep-bad").status_code == 404


def test_attachment_writes_are_validated(client, db):
    _install(client, db)
    rev = client.put(f"{db}/d", json={"title": "t", "final": True}).json()["rev"]
    r = client.put(f"{db}/d/a.txt", params={"rev": rev}, content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 403 and r.json()["reason"] == "Final documents never change."
    r = client.put(
        f"{db}/e",
        json={
            "title": "t",
            "_attachments": {
                "a.txt": {"content_type": "text/plain", "data": base64.b64encode(b"hi").decode()}
            },
        },
    )
    assert r.status_code == 201


def test_design_documents_themselves_are_not_validated(client, db):
    _install(client, db)
    r = client.put(f"{db}/_design/other", json={"views": {}})
    assert r.status_code == 201, r.text


def test_a_design_document_whose_functions_do_not_compile_is_refused(client, db):
    r = client.put(f"{db}/_design/bad", json={"views": {"v": {"map": "function (doc) {"}}})
    assert r.status_code == 400 and r.json()["error"] == "compilation_error", r.text
    assert "'v'" in r.json()["reason"]
    r = client.put(f"{db}/_design/bad", json={"filters": {"f": "not a function"}})
    assert r.status_code == 400 and r.json()["error"] == "compilation_error", r.text
    r = client.put(f"{db}/_design/bad", json={"views": {"v": {"reduce": "_count"}}})
    assert r.status_code == 400 and r.json()["error"] == "invalid_design_doc", r.text
    assert client.get(f"{db}/_design/bad").status_code == 404
    r = client.put(
        f"{db}/_design/good", json={"views": {"v": {"map": "function (doc) { emit(1); }", "reduce": "_sum"}}}
    )
    assert r.status_code == 201, r.text


def test_a_function_added_changed_or_removed_counts_from_the_very_next_write(client, db):
    # Writes before any function: nothing to run (and the server remembers that).
    assert client.put(f"{db}/free", json={"body": "no title needed yet"}).status_code == 201
    _install(client, db)
    assert client.put(f"{db}/a", json={"body": "no title"}).status_code == 403
    ddoc = client.get(f"{db}/_design/rules").json()
    ddoc["validate_doc_update"] = (
        "function (newDoc) { if (!newDoc.kind) { throw({forbidden: 'Every document needs a kind.'}); } }"
    )
    assert client.put(f"{db}/_design/rules", json=ddoc).status_code == 201
    r = client.put(f"{db}/b", json={"title": "a title is not enough now"})
    assert r.status_code == 403 and "kind" in r.json()["reason"], r.text
    assert client.put(f"{db}/c", json={"kind": "note"}).status_code == 201
    rev = client.get(f"{db}/_design/rules").json()["_rev"]
    assert client.delete(f"{db}/_design/rules", params={"rev": rev}).status_code == 200
    assert client.put(f"{db}/d", json={"body": "anything again"}).status_code == 201
