"""Design-document filters on `_changes`, as CouchDB's documentation describes them:
`filter=ddoc/name` runs `function(doc, req)` with the request's query parameters in
`req.query`; `filter=_view&view=ddoc/view` passes the documents the view's map emits for.
Also run on the CouchDB backend (tests/couchdb/http_suite/test_couch_http_couch_js.py)."""

from __future__ import annotations

from app_for_tests import ADMIN

DDOC = {
    "filters": {
        "by_kind": "function (doc, req) { return doc.kind === req.query.kind; }",
        "by_user": "function (doc, req) { return doc.owner === req.userCtx.name; }",
        "broken": "function (doc, req) { return doc.nothing.here; }",
    },
    "views": {"trees": {"map": "function (doc) { if (doc.kind === 'tree') { emit(doc._id, null); } }"}},
}


def _fill(client, db):
    docs = [{"_id": f"item-{i:02d}", "kind": "tree" if i % 3 == 0 else "session", "i": i} for i in range(9)]
    docs.append({"_id": "mine", "kind": "note", "owner": "admin-a@example.com"})
    assert client.post(f"{db}/_bulk_docs", json={"docs": docs}).status_code == 201
    assert client.put(f"{db}/_design/app", json=DDOC).status_code == 201


def _ids(r):
    assert r.status_code == 200, r.text
    return [row["id"] for row in r.json()["results"]]


def test_filter_function_gets_the_query_parameters(client, db):
    _fill(client, db)
    assert _ids(client.get(f"{db}/_changes", params={"filter": "app/by_kind", "kind": "tree"})) == [
        "item-00",
        "item-03",
        "item-06",
    ]
    r = client.post(
        f"{db}/_changes", params={"filter": "app/by_kind", "kind": "note", "include_docs": "true"}, json={}
    )
    assert _ids(r) == ["mine"] and r.json()["results"][0]["doc"]["owner"] == "admin-a@example.com"
    assert _ids(client.get(f"{db}/_changes", params={"filter": "app/by_user"})) == ["mine"]


def test_filter_pages_stay_full_and_longpoll_waits_for_a_passing_change(client, db):
    _fill(client, db)
    r = client.get(f"{db}/_changes", params={"filter": "app/by_kind", "kind": "tree", "limit": "2"})
    assert _ids(r) == ["item-00", "item-03"]
    since = client.get(f"{db}/_changes", params={"since": "now"}).json()["last_seq"]
    client.put(f"{db}/other", json={"kind": "session"})
    client.put(f"{db}/new-tree", json={"kind": "tree"})
    r = client.get(
        f"{db}/_changes",
        params={
            "filter": "app/by_kind",
            "kind": "tree",
            "since": str(since),
            "feed": "longpoll",
            "timeout": "5000",
        },
    )
    assert _ids(r) == ["new-tree"]


def test_filter_by_view_passes_documents_the_map_emits_for(client, db):
    _fill(client, db)
    assert _ids(client.get(f"{db}/_changes", params={"filter": "_view", "view": "app/trees"})) == [
        "item-00",
        "item-03",
        "item-06",
    ]


def test_a_filter_that_throws_fails_the_request_and_says_why(client, db):
    _fill(client, db)
    r = client.get(f"{db}/_changes", params={"filter": "app/broken"})
    assert r.status_code == 500, r.text
    assert "TypeError" in r.text


def test_pouchdb_replicates_with_a_design_filter_and_a_view(client, db, node, sync_server):
    _fill(client, db)
    out = node(
        "design_functions.js",
        {
            "url": f"{sync_server.tenant_url()}/{db}",
            "auth": {"basic": list(ADMIN)},
            "filter": "app/by_kind",
            "query_params": {"kind": "tree"},
            "filter_view": "app/trees",
        },
    )
    assert out["filtered"] == ["item-00", "item-03", "item-06"]
    assert out["by_view"] == ["item-00", "item-03", "item-06"]
