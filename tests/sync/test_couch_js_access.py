"""Design functions under a per-document policy: access rules come first, so a filter can
only narrow what a caller receives, and views (computed over every document) are refused
to callers who may not read every document. Validation runs after the policy."""

from __future__ import annotations

from app_for_tests import ENGINEER

SYNC_POLICY = "doc"


def test_a_filter_only_narrows_what_the_caller_may_read(client, db, as_user):
    docs = [
        {"_id": "open-1", "kind": "x"},
        {"_id": "secret", "kind": "x", "private_to": "someone"},
        {"_id": "open-2", "kind": "y"},
    ]
    assert client.post(f"{db}/_bulk_docs", json={"docs": docs}).status_code == 201
    assert (
        client.put(
            f"{db}/_design/app",
            json={
                "filters": {
                    "all": "function (doc, req) { return true; }",
                    "x": "function (doc, req) { return doc.kind === 'x'; }",
                }
            },
        ).status_code
        == 201
    )
    engineer = as_user(ENGINEER)
    ids = [
        row["id"] for row in engineer.get(f"{db}/_changes", params={"filter": "app/all"}).json()["results"]
    ]
    assert "secret" not in ids and {"open-1", "open-2"} <= set(ids)
    ids = [row["id"] for row in engineer.get(f"{db}/_changes", params={"filter": "app/x"}).json()["results"]]
    assert ids == ["open-1"]


def test_views_are_refused_where_documents_are_screened_per_reader(client, db, as_user):
    client.put(f"{db}/secret", json={"private_to": "someone", "n": 1})
    assert (
        client.put(
            f"{db}/_design/app",
            json={"views": {"count": {"map": "function (doc) { emit(doc._id, 1); }", "reduce": "_count"}}},
        ).status_code
        == 201
    )
    r = as_user(ENGINEER).get(f"{db}/_design/app/_view/count")
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text


def test_validation_runs_after_the_policy(client, db, as_user):
    assert (
        client.put(
            f"{db}/_design/rules",
            json={
                "validate_doc_update": (
                    "function (newDoc, oldDoc, userCtx) { "
                    "if (userCtx.roles.indexOf('_admin') === -1 && newDoc.big) "
                    "{ throw({forbidden: 'Only admins write big documents.'}); } }"
                )
            },
        ).status_code
        == 201
    )
    engineer = as_user(ENGINEER)
    r = engineer.put(f"{db}/e1", json={"big": True})
    assert r.status_code == 403 and r.json()["reason"] == "Only admins write big documents."
    assert engineer.put(f"{db}/e2", json={"big": False}).status_code == 201
    assert client.put(f"{db}/a1", json={"big": True}).status_code == 201
    # The policy refuses first: a locked document is the policy's, whatever the validator says.
    r = engineer.put(f"{db}/e3", json={"locked": True})
    assert r.status_code == 403 and "locked" in r.json()["reason"]
