"""Runaway design functions are stopped by the sandbox's CPU-time and memory limits and
reported CouchDB's way (500 `os_process_error`), while other requests and other tenants
carry on. Also run on the CouchDB backend (tests/couchdb/http_suite/test_couch_http_couch_js.py)."""

from __future__ import annotations

import threading

import httpx
from app_for_tests import ADMIN_B, TENANT_B

LOOP = "function (doc) { while (true) {} }"
HOG = "function (doc) { var a = []; while (true) { a.push('grow' + a.length); } }"


def test_an_endless_filter_is_stopped_and_others_are_served_meanwhile(client, db, sync_server):
    client.put(f"{db}/one", json={})
    assert client.put(f"{db}/_design/bad", json={"filters": {"loop": LOOP}}).status_code == 201
    answer: dict[str, httpx.Response] = {}

    def runaway() -> None:
        answer["r"] = client.get(f"{db}/_changes", params={"filter": "bad/loop"})

    worker = threading.Thread(target=runaway)
    worker.start()
    served_meanwhile = 0
    with httpx.Client(base_url=sync_server.tenant_url(TENANT_B) + "/", auth=ADMIN_B, timeout=30) as other:
        while worker.is_alive():
            assert other.get("_all_dbs").status_code == 200
            if worker.is_alive():
                served_meanwhile += 1
    worker.join()
    r = answer["r"]
    assert r.status_code == 500 and r.json()["error"] == "os_process_error", r.text
    assert "CPU time" in r.json()["reason"]
    assert served_meanwhile > 0, "another tenant waited for the runaway function"
    assert client.get(f"{db}/one").status_code == 200


def test_a_map_that_allocates_without_end_is_stopped_and_the_view_recovers(client, db):
    client.put(f"{db}/one", json={"n": 1})
    assert client.put(f"{db}/_design/v", json={"views": {"hog": {"map": HOG}}}).status_code == 201
    r = client.get(f"{db}/_design/v/_view/hog")
    assert r.status_code == 500 and r.json()["error"] == "os_process_error", r.text
    assert "MB" in r.json()["reason"]
    ddoc = client.get(f"{db}/_design/v").json()
    ddoc["views"]["hog"]["map"] = "function (doc) { emit(doc.n, 1); }"
    assert client.put(f"{db}/_design/v", json=ddoc).status_code == 201
    r = client.get(f"{db}/_design/v/_view/hog")
    assert r.status_code == 200 and [row["key"] for row in r.json()["rows"]] == [1]


def test_an_endless_validation_function_refuses_the_write(client, db):
    assert client.put(f"{db}/_design/v", json={"validate_doc_update": LOOP}).status_code == 201
    r = client.put(f"{db}/doc", json={})
    assert r.status_code == 500 and r.json()["error"] == "os_process_error", r.text
    assert client.get(f"{db}/doc").status_code == 404


def test_a_replicated_design_document_that_does_not_compile_is_refused(client, db):
    # As CouchDB checks a design document written by a client (see test_couch_js_validate).
    r = client.post(
        f"{db}/_bulk_docs",
        json={
            "new_edits": False,
            "docs": [{"_id": "_design/v", "_rev": "1-abc", "views": {"v": {"map": "function (doc) {"}}}],
        },
    )
    assert r.status_code == 201 and r.json() == [
        {"id": "_design/v", "error": "compilation_error", "reason": r.json()[0]["reason"]}
    ], r.text


def test_a_design_document_that_loops_when_compiled_does_not_stall_other_requests(client, db, sync_server):
    # A source that runs code as it is evaluated; checking the design document stops it at
    # its CPU budget, on a worker thread, while the server goes on answering others.
    source = "0) || (function () { while (true) {} })() || (0"
    client.put(f"{db}/warm", json={})  # the database is open and its validators known
    answer: dict[str, httpx.Response] = {}

    def push() -> None:
        answer["r"] = client.post(
            f"{db}/_bulk_docs",
            json={
                "new_edits": False,
                "docs": [{"_id": "_design/slow", "_rev": "1-abc", "views": {"v": {"map": source}}}],
            },
        )

    worker = threading.Thread(target=push)
    worker.start()
    served_meanwhile = 0
    with httpx.Client(base_url=sync_server.tenant_url(TENANT_B) + "/", auth=ADMIN_B, timeout=30) as other:
        while worker.is_alive():
            assert other.get("_all_dbs").status_code == 200
            if worker.is_alive():
                served_meanwhile += 1
    worker.join()
    assert answer["r"].status_code == 201
    assert answer["r"].json()[0]["error"] == "os_process_error", answer["r"].text
    assert served_meanwhile > 0, "the server stalled while a design document was checked"
