"""Map views with built-in reduces, as CouchDB's view API documentation describes them
(`GET|POST /{db}/_design/{ddoc}/_view/{view}`). Also run on the CouchDB backend
(tests/couchdb/http_suite/test_couch_http_couch_js.py)."""

from __future__ import annotations

from app_for_tests import ADMIN, ADMIN_B, TENANT_B, VIEWER

MAP_BY_TYPE = "function (doc) { if (doc.type) { emit(doc.type, doc.n); } }"
MAP_BY_DATE = "function (doc) { if (doc.date) { emit(doc.date, doc.n); } }"


def _fill(client, db):
    docs = [
        {"_id": "a", "type": "ticket", "n": 1, "date": [2024, 1, 5]},
        {"_id": "b", "type": "Ticket", "n": 2, "date": [2024, 1, 9]},
        {"_id": "c", "type": "note", "n": 3, "date": [2024, 2, 1]},
        {"_id": "d", "type": "ticket", "n": 4, "date": [2025, 3, 2]},
        {"_id": "e", "n": 5},
    ]
    r = client.post(f"{db}/_bulk_docs", json={"docs": docs})
    assert r.status_code == 201, r.text
    r = client.put(
        f"{db}/_design/app",
        json={
            "views": {
                "by_type": {"map": MAP_BY_TYPE},
                "count": {"map": MAP_BY_TYPE, "reduce": "_count"},
                "sum": {"map": MAP_BY_TYPE, "reduce": "_sum"},
                "stats": {"map": MAP_BY_TYPE, "reduce": "_stats"},
                "by_date": {"map": MAP_BY_DATE, "reduce": "_sum"},
            }
        },
    )
    assert r.status_code == 201, r.text


def _view(client, db, view, **params):
    encoded = {k: (v if isinstance(v, str) and k.endswith("docid") else _json(v)) for k, v in params.items()}
    r = client.get(f"{db}/_design/app/_view/{view}", params=encoded)
    assert r.status_code == 200, r.text
    return r.json()


def _json(v):
    import json

    return json.dumps(v)


def test_map_rows_come_in_collation_order_with_totals(client, db):
    _fill(client, db)
    body = _view(client, db, "by_type")
    # Strings collate case-insensitively first, lowercase before uppercase on a tie.
    assert [(r["key"], r["id"], r["value"]) for r in body["rows"]] == [
        ("note", "c", 3),
        ("ticket", "a", 1),
        ("ticket", "d", 4),
        ("Ticket", "b", 2),
    ]
    assert body["total_rows"] == 4 and body["offset"] == 0


def test_key_ranges_limit_skip_descending_and_inclusive_end(client, db):
    _fill(client, db)
    assert [r["id"] for r in _view(client, db, "by_type", key="ticket")["rows"]] == ["a", "d"]
    assert [r["id"] for r in _view(client, db, "by_type", startkey="ticket")["rows"]] == ["a", "d", "b"]
    body = _view(client, db, "by_type", startkey="ticket", limit=2, skip=1)
    assert [r["id"] for r in body["rows"]] == ["d", "b"] and body["offset"] == 2
    assert [r["id"] for r in _view(client, db, "by_type", descending=True)["rows"]] == ["b", "d", "a", "c"]
    assert [r["id"] for r in _view(client, db, "by_type", endkey="ticket", inclusive_end=False)["rows"]] == [
        "c"
    ]
    assert [
        r["id"]
        for r in _view(client, db, "by_type", startkey="Ticket", endkey="note", descending=True)["rows"]
    ] == ["b", "d", "a", "c"]
    r = client.post(f"{db}/_design/app/_view/by_type", json={"keys": ["Ticket", "note", "nothing"]})
    assert [row["id"] for row in r.json()["rows"]] == ["b", "c"]
    r = client.get(f"{db}/_design/app/_view/by_type", params={"startkey": '"z"', "endkey": '"a"'})
    assert r.status_code == 400 and r.json()["error"] == "query_parse_error"


def test_builtin_reduces_count_sum_stats_and_grouping(client, db):
    _fill(client, db)
    assert _view(client, db, "count")["rows"] == [{"key": None, "value": 4}]
    assert _view(client, db, "sum")["rows"] == [{"key": None, "value": 10}]
    stats = _view(client, db, "stats")["rows"][0]["value"]
    assert stats == {"sum": 10, "count": 4, "min": 1, "max": 4, "sumsqr": 30}
    assert _view(client, db, "count", group=True)["rows"] == [
        {"key": "note", "value": 1},
        {"key": "ticket", "value": 2},
        {"key": "Ticket", "value": 1},
    ]
    assert _view(client, db, "sum", key="ticket")["rows"] == [{"key": None, "value": 5}]
    by_year = _view(client, db, "by_date", group_level=1)["rows"]
    assert by_year == [{"key": [2024], "value": 6}, {"key": [2025], "value": 4}]
    by_month = _view(client, db, "by_date", group_level=2, startkey=[2024], endkey=[2024, {}])["rows"]
    assert by_month == [{"key": [2024, 1], "value": 3}, {"key": [2024, 2], "value": 3}]
    assert len(_view(client, db, "count", reduce=False)["rows"]) == 4
    r = client.get(f"{db}/_design/app/_view/count", params={"include_docs": "true"})
    assert r.status_code == 400 and r.json()["error"] == "query_parse_error"


def test_include_docs_and_update_seq(client, db):
    _fill(client, db)
    body = _view(client, db, "by_type", key="note", include_docs=True, update_seq=True)
    assert body["rows"][0]["doc"]["_id"] == "c" and body["rows"][0]["doc"]["n"] == 3
    assert "update_seq" in body


def test_views_follow_writes_and_design_changes(client, db):
    _fill(client, db)
    assert _view(client, db, "count")["rows"][0]["value"] == 4
    rev = client.get(f"{db}/a").json()["_rev"]
    assert client.delete(f"{db}/a", params={"rev": rev}).status_code == 200
    client.put(f"{db}/f", json={"type": "note", "n": 6})
    assert _view(client, db, "count", group=True)["rows"] == [
        {"key": "note", "value": 2},
        {"key": "ticket", "value": 1},
        {"key": "Ticket", "value": 1},
    ]
    ddoc = client.get(f"{db}/_design/app").json()
    ddoc["views"]["count"]["map"] = "function (doc) { if (doc.n > 4) { emit(doc._id, 1); } }"
    assert client.put(f"{db}/_design/app", json=ddoc).status_code == 201
    assert _view(client, db, "count", group=True)["rows"] == [
        {"key": "e", "value": 1},
        {"key": "f", "value": 1},
    ]


def test_missing_design_document_or_view_is_not_found(client, db):
    _fill(client, db)
    r = client.get(f"{db}/_design/nope/_view/by_type")
    assert r.status_code == 404 and r.json() == {"error": "not_found", "reason": "missing"}
    r = client.get(f"{db}/_design/app/_view/nope")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_viewer_may_query_views_of_a_database_it_reads(client, db, as_user):
    _fill(client, db)
    r = as_user(VIEWER).get(f"{db}/_design/app/_view/count")
    assert r.status_code == 200 and r.json()["rows"] == [{"key": None, "value": 4}]


def test_pouchdb_queries_a_remote_view(client, db, node, sync_server):
    _fill(client, db)
    out = node(
        "design_functions.js",
        {
            "url": f"{sync_server.tenant_url()}/{db}",
            "auth": {"basic": list(ADMIN)},
            "view": "app/count",
            "options": {"group": True},
        },
    )
    assert out["rows"] == [
        {"key": "note", "value": 1},
        {"key": "ticket", "value": 2},
        {"key": "Ticket", "value": 1},
    ]


def test_view_cleanup_is_accepted_for_admins_and_views_answer_after_it(client, db, as_user):
    _fill(client, db)
    assert _view(client, db, "count")["rows"] == [{"key": None, "value": 4}]
    ddoc = client.get(f"{db}/_design/app").json()
    ddoc["views"] = {"count": {"map": "function (doc) { emit(doc._id, 1); }", "reduce": "_count"}}
    assert client.put(f"{db}/_design/app", json=ddoc).status_code == 201
    r = client.post(f"{db}/_view_cleanup", json={})
    assert r.status_code == 202 and r.json() == {"ok": True}
    assert _view(client, db, "count")["rows"] == [{"key": None, "value": 5}]
    assert as_user(VIEWER).post(f"{db}/_view_cleanup", json={}).status_code == 403


def test_tenants_never_see_each_others_views(client, db, as_user):
    _fill(client, db)
    other = as_user(ADMIN_B, tenant=TENANT_B)
    assert other.put(db).status_code == 201
    try:
        assert other.put(f"{db}/only-b", json={"type": "b-thing", "n": 100}).status_code == 201
        assert (
            other.put(
                f"{db}/_design/app", json={"views": {"count": {"map": MAP_BY_TYPE, "reduce": "_count"}}}
            ).status_code
            == 201
        )
        r = other.get(f"{db}/_design/app/_view/count", params={"group": "true"})
        assert r.status_code == 200 and r.json()["rows"] == [{"key": "b-thing", "value": 1}]
        assert _view(client, db, "count")["rows"] == [{"key": None, "value": 4}]
        # Tenant A's credentials on tenant B's URL are refused.
        r = as_user(ADMIN, tenant=TENANT_B).get(f"{db}/_design/app/_view/count")
        assert r.status_code in (401, 403)
    finally:
        other.delete(db)


def test_javascript_reduce_functions_run_per_group(client, db):
    _fill(client, db)
    ddoc = client.get(f"{db}/_design/app").json()
    ddoc["views"]["js"] = {
        "map": MAP_BY_TYPE,
        "reduce": "function (keys, values, rereduce) { return sum(values) * 10; }",
    }
    assert client.put(f"{db}/_design/app", json=ddoc).status_code == 201
    assert _view(client, db, "js")["rows"] == [{"key": None, "value": 100}]
    assert _view(client, db, "js", group=True)["rows"] == [
        {"key": "note", "value": 30},
        {"key": "ticket", "value": 50},
        {"key": "Ticket", "value": 20},
    ]
