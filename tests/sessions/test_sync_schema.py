"""Sync writes pass the same schema as the API (issue 15, point 7).

Every malformed document kind goes through each path a device or a script has: the REST API,
a sync PUT and a replicator's `_bulk_docs` (`new_edits: false`). The API answers 400
`bad_request`, sync answers `forbidden` (as CouchDB's validate_doc_update does, so PouchDB
marks the document denied and replicates the rest); both name the wrong field, and for events
the reason is the same sentence. Attachments written over sync get the uploads' content check.
tests/couchdb/api_suite/test_couch_sync_schema.py reruns this module on the couchdb backend.
"""

from __future__ import annotations

import base64
import time

import pytest

from api.sessions.ids import ulid
from tests.sessions.test_sessions_api import publish_tree, start

PE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)

BAD_EVENTS = [
    ("type", {"type": "bogus"}),
    ("ts", {"type": "back", "ts": "yesterday"}),
    ("ts", {"type": "note", "node_id": "scope", "note_id": "n1", "text": "x", "ts": 1.5}),
    ("answer", {"type": "answered", "node_id": "scope"}),
    ("text", {"type": "note", "node_id": "scope", "note_id": "n1", "text": 5}),
    ("answer", {"type": "custom_step", "node_id": "scope", "text": "Cleared the cache", "answer": "maybe"}),
    ("text", {"type": "custom_step", "node_id": "scope", "text": "   ", "answer": "done"}),
    ("outcome", {"type": "completed", "outcome": "great"}),
    ("node_id", {"type": "back", "node_id": "scope"}),
    ("value", {"type": "input_value", "node_id": "vda", "value": 42}),
    (
        "size",
        {
            "type": "attachment_added",
            "node_id": "scope",
            "attachment_id": "a1",
            "name": "s.png",
            "content_type": "image/png",
            "size": "big",
            "sha256": "0" * 64,
        },
    ),
    ("reason", {"type": "abandoned", "reason": ["no time"]}),
    ("device_id", {"type": "reopened", "device_id": 7}),
]


def _sync(server, tenant, db: str) -> str:
    return f"{server.url}/sync/{tenant.id}/{db}"


def _event_doc(tenant, sid: str, body: dict) -> dict:
    doc = {
        "_id": f"session:{sid}:ev:{ulid()}",
        "schema_version": 1,
        "session_id": sid,
        "ts": int(time.time() * 1000),
        "device_id": "dev-test",
        "user_id": tenant.me["user"]["id"],
    }
    return {**doc, **body}


def _replicated(doc: dict) -> dict:
    """The document as a replicator pushes it: with its revision and `new_edits: false`."""
    return {**doc, "_rev": "1-" + "a" * 32, "_revisions": {"start": 1, "ids": ["a" * 32]}}


def _bulk(http, url: str, tenant, docs: list[dict]) -> list[dict]:
    r = http.post(f"{url}/_bulk_docs", headers=tenant.headers, json={"docs": docs, "new_edits": False})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def session_id(http, tenant):
    return start(http, tenant, publish_tree(http, tenant))["session_id"]


@pytest.mark.parametrize("field,body", BAD_EVENTS, ids=[f"{b['type']}-{f}" for f, b in BAD_EVENTS])
def test_a_malformed_event_is_refused_alike_by_the_api_and_over_sync(
    server, http, tenant, session_id, field, body
):
    sid = session_id
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json=body)
    assert r.status_code == 400 and r.json()["error"] == "bad_request", r.text
    api_reason = r.json()["reason"]
    assert field in api_reason, api_reason

    url = _sync(server, tenant, "sessions")
    doc = _event_doc(tenant, sid, body)
    r = http.put(f"{url}/{doc['_id']}", headers=tenant.headers, json=doc)
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert api_reason in r.json()["reason"]

    pushed = _event_doc(tenant, sid, body)
    results = _bulk(http, url, tenant, [_replicated(pushed)])
    assert [(x["id"], x["error"]) for x in results] == [(pushed["_id"], "forbidden")]
    assert api_reason in results[0]["reason"]
    for stored in (doc, pushed):
        assert http.get(f"{url}/{stored['_id']}", headers=tenant.headers).status_code == 404


def test_the_events_the_app_writes_pass_over_sync(server, http, tenant, session_id):
    sid = session_id
    bodies = [
        {"type": "answered", "node_id": "scope", "answer": "yes"},
        {"type": "note", "node_id": "vda", "note_id": ulid(), "text": "Only CTX-W11-07."},
        {"type": "input_value", "node_id": "vda", "value": "CTX-W11-0"},
        {"type": "answered", "node_id": "vda", "answer": "submitted", "value": "CTX-W11-07"},
        {
            "type": "custom_step",
            "node_id": "service",
            "text": "Cleared ListOfDDCs",
            "answer": "done",
            "note": "Was stale.",
        },
        {"type": "back"},
        {"type": "completed", "outcome": "resolved", "summary": ""},
        {"type": "reopened"},
        {"type": "abandoned", "reason": "Customer left."},
        {"type": "abandoned"},
    ]
    docs = [_replicated(_event_doc(tenant, sid, b)) for b in bodies]
    url = _sync(server, tenant, "sessions")
    assert _bulk(http, url, tenant, docs) == []
    state = http.get(f"/api/v1/sessions/{sid}", headers=tenant.headers).json()
    assert state["status"] == "abandoned"


@pytest.mark.parametrize(
    "field,change",
    [
        ("status", {"status": "paused"}),
        ("tree_version", {"tree_version": "3"}),
        ("shared_with", {"shared_with": "everyone"}),
        ("created_at", {"created_at": "yesterday"}),
    ],
)
def test_a_malformed_session_header_is_refused_over_sync(server, http, tenant, field, change):
    sid = ulid()
    url = _sync(server, tenant, "sessions")
    now = int(time.time() * 1000)
    header = {
        "_id": f"session:{sid}",
        "type": "session",
        "schema_version": 1,
        "tree_id": "tree:x",
        "tree_version": 1,
        "owner_id": tenant.me["user"]["id"],
        "shared_with": [],
        "status": "in_progress",
        "created_at": now,
        "updated_at": now,
        "device_id": "dev-test",
        **change,
    }
    r = http.put(f"{url}/{header['_id']}", headers=tenant.headers, json=header)
    assert r.status_code == 403 and f"`{field}`" in r.json()["reason"], r.text
    results = _bulk(http, url, tenant, [_replicated(header)])
    assert results[0]["error"] == "forbidden" and f"`{field}`" in results[0]["reason"]


def test_a_malformed_session_header_edit_is_refused_by_the_api(http, tenant, session_id):
    header = http.get(f"/api/v1/sessions/{session_id}", headers=tenant.headers).json()["header"]
    r = http.patch(
        f"/api/v1/sessions/{session_id}", headers=tenant.headers, json={"_rev": header["_rev"], "ticket": 5}
    )
    assert r.status_code == 400 and "ticket" in r.json()["reason"], r.text


@pytest.mark.parametrize(
    "field,doc",
    [
        ("name", {"type": "client", "name": ""}),
        ("notes", {"type": "client", "name": "Acme", "notes": 5}),
        ("values", {"type": "client", "name": "Acme", "values": ["a"]}),
    ],
)
def test_a_malformed_client_context_is_refused_alike(server, http, tenant, field, doc):
    r = http.post(
        "/api/v1/clients", headers=tenant.headers, json={k: v for k, v in doc.items() if k != "type"}
    )
    assert r.status_code == 400 and field in r.json()["reason"], r.text
    url = _sync(server, tenant, "clients")
    r = http.put(f"{url}/client:acme-{ulid().lower()}", headers=tenant.headers, json=doc)
    assert r.status_code == 403 and f"`{field}`" in r.json()["reason"], r.text
    results = _bulk(http, url, tenant, [_replicated({"_id": f"client:acme-{ulid().lower()}", **doc})])
    assert results[0]["error"] == "forbidden" and f"`{field}`" in results[0]["reason"]


def test_a_malformed_tree_draft_is_refused_alike(server, http, tenant):
    draft = {
        "type": "tree",
        "schema_version": 1,
        "title": "Bad",
        "start": "scope",
        "nodes": {"scope": {"type": "teleport", "title": "Where?"}},
    }
    r = http.post("/api/v1/trees", headers=tenant.headers, json=draft)
    assert r.status_code == 400 and "teleport" in r.json()["reason"], r.text
    url = _sync(server, tenant, "trees")
    r = http.put(f"{url}/tree:bad-one", headers=tenant.headers, json=draft)
    assert r.status_code == 403 and "teleport" in r.json()["reason"], r.text
    results = _bulk(http, url, tenant, [_replicated({"_id": "tree:bad-two", **draft})])
    assert results[0]["error"] == "forbidden" and "teleport" in results[0]["reason"]


def test_an_executable_named_screenshot_png_is_refused_over_sync(server, http, tenant, session_id):
    """Upload, attachment PUT and inline `_attachments` all judge the bytes, not the name."""
    r = http.post(
        f"/api/v1/sessions/{session_id}/attachments",
        headers=tenant.headers,
        data={"node_id": "scope"},
        files={"file": ("screenshot.png", PE_BYTES, "image/png")},
    )
    assert r.status_code == 415 and "Windows executable" in r.json()["reason"], r.text

    url = _sync(server, tenant, "clients")
    r = http.put(f"{url}/client:acme", headers=tenant.headers, json={"type": "client", "name": "Acme"})
    assert r.status_code == 201, r.text
    rev = r.json()["rev"]

    def put_att(data, rev):
        return http.put(
            f"{url}/client:acme/screenshot.png",
            params={"rev": rev},
            headers={**tenant.headers, "Content-Type": "image/png"},
            content=data,
        )

    r = put_att(PE_BYTES, rev)
    assert r.status_code == 403 and "Windows executable" in r.json()["reason"], r.text

    def inline(data):
        return {"screenshot.png": {"content_type": "image/png", "data": base64.b64encode(data).decode()}}

    r = http.put(
        f"{url}/client:acme",
        headers=tenant.headers,
        json={"_rev": rev, "type": "client", "name": "Acme", "_attachments": inline(PE_BYTES)},
    )
    assert r.status_code == 403 and "Windows executable" in r.json()["reason"], r.text
    sessions = _sync(server, tenant, "sessions")
    header = http.get(f"{sessions}/session:{session_id}", headers=tenant.headers).json()
    results = _bulk(
        http,
        sessions,
        tenant,
        [
            {
                **header,
                "_rev": "9-" + "b" * 32,
                "_attachments": inline(PE_BYTES),
                "_revisions": {"start": 9, "ids": ["b" * 32]},
            }
        ],
    )
    assert results[0]["error"] == "forbidden" and "Windows executable" in results[0]["reason"]
    r = http.get(f"{url}/client:acme/screenshot.png", headers=tenant.headers)
    assert r.status_code == 404

    # A real PNG passes both ways; one declared as something else does not.
    r = put_att(PNG_BYTES, rev)
    assert r.status_code == 201, r.text
    r = http.put(
        f"{url}/client:acme",
        headers=tenant.headers,
        json={
            "_rev": r.json()["rev"],
            "type": "client",
            "name": "Acme",
            "_attachments": {
                "logo.png": {"content_type": "text/html", "data": base64.b64encode(PNG_BYTES).decode()}
            },
        },
    )
    assert r.status_code == 403 and "PNG" in r.json()["reason"], r.text
