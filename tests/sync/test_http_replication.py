"""The replicator's endpoints: _revs_diff, _bulk_docs, _bulk_get, _all_docs."""

from __future__ import annotations

import base64

import orjson
from app_for_tests import VIEWER


def test_revs_diff_reports_missing_revisions(client, db):
    rev = client.put(f"{db}/a", json={}).json()["rev"]
    r = client.post(f"{db}/_revs_diff", json={"a": [rev, "2-ffff"], "b": ["1-abcd"]})
    assert r.status_code == 200
    body = r.json()
    assert body["a"]["missing"] == ["2-ffff"]
    assert body["b"]["missing"] == ["1-abcd"]
    assert rev in body["a"].get("possible_ancestors", [])
    assert client.post(f"{db}/_revs_diff", json={"a": [rev]}).json() == {}


def test_bulk_docs_new_edits_true_with_per_document_errors(client, db):
    rev = client.put(f"{db}/exists", json={}).json()["rev"]
    r = client.post(
        f"{db}/_bulk_docs",
        json={
            "docs": [
                {"_id": "new1", "v": 1},
                {"_id": "exists", "v": 2},  # no _rev: conflict
                {"v": 3},  # id generated
                {"_id": "exists2", "_rev": rev},  # unknown doc with a rev: conflict / not found
            ]
        },
    )
    assert r.status_code == 201
    res = r.json()
    assert len(res) == 4
    assert res[0]["id"] == "new1" and res[0]["rev"].startswith("1-")
    assert res[1] == {"id": "exists", "error": "conflict", "reason": res[1]["reason"]}
    assert res[2]["id"] and res[2]["rev"].startswith("1-")
    assert res[3]["error"] in ("conflict", "not_found")
    assert client.get(f"{db}/new1").json()["v"] == 1


def test_bulk_docs_new_edits_false_answers_only_errors(client, db):
    docs = [
        {"_id": f"r{i}", "_rev": "3-abc", "_revisions": {"start": 3, "ids": ["abc", "b", "a"]}, "i": i}
        for i in range(5)
    ]
    r = client.post(f"{db}/_bulk_docs", json={"docs": docs, "new_edits": False})
    assert r.status_code == 201 and r.json() == []
    assert client.get(f"{db}/r3").json()["_rev"] == "3-abc"
    # Replaying the same batch is harmless: nothing new, no errors.
    assert client.post(f"{db}/_bulk_docs", json={"docs": docs, "new_edits": False}).json() == []
    # As in CouchDB, a replicated document without its rev refuses the whole request.
    bad = client.post(f"{db}/_bulk_docs", json={"new_edits": False, "docs": [{"_id": "x"}]})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"


def test_bulk_docs_body_must_have_docs(client, db):
    r = client.post(f"{db}/_bulk_docs", json={"nodocs": []})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


def test_bulk_docs_viewer_is_forbidden(client, db, as_user):
    r = as_user(VIEWER).post(f"{db}/_bulk_docs", json={"docs": [{"_id": "x"}]})
    assert r.status_code == 403


def test_bulk_get_revs_latest_attachments(client, db):
    att = base64.b64encode(b"payload").decode()
    rev1 = client.put(
        f"{db}/a", json={"v": 1, "_attachments": {"f.txt": {"content_type": "text/plain", "data": att}}}
    ).json()["rev"]
    rev2 = client.put(
        f"{db}/a",
        json={"_rev": rev1, "v": 2, "_attachments": {"f.txt": {"content_type": "text/plain", "data": att}}},
    ).json()["rev"]
    r = client.post(
        f"{db}/_bulk_get",
        params={"revs": "true", "attachments": "true"},
        json={"docs": [{"id": "a", "rev": rev2}, {"id": "a"}, {"id": "nope"}]},
    )
    assert r.status_code == 200
    results = r.json()["results"]
    first = results[0]["docs"][0]["ok"]
    assert first["_rev"] == rev2 and first["_revisions"]["start"] == 2
    assert base64.b64decode(first["_attachments"]["f.txt"]["data"]) == b"payload"
    assert results[1]["docs"][0]["ok"]["_rev"] == rev2
    assert results[2]["docs"][0]["error"]["error"] == "not_found"

    latest = client.post(
        f"{db}/_bulk_get", params={"latest": "true"}, json={"docs": [{"id": "a", "rev": rev1}]}
    ).json()
    assert latest["results"][0]["docs"][0]["ok"]["_rev"] == rev2


def test_all_docs_options(client, db):
    for i in range(6):
        client.put(f"{db}/k{i}", json={"i": i})
    rev = client.get(f"{db}/k5").json()["_rev"]
    client.delete(f"{db}/k5", params={"rev": rev})

    body = client.get(f"{db}/_all_docs").json()
    assert body["total_rows"] == 5
    assert [r["id"] for r in body["rows"]] == ["k0", "k1", "k2", "k3", "k4"]

    page = client.get(
        f"{db}/_all_docs", params={"startkey": '"k1"', "endkey": '"k3"', "include_docs": "true"}
    ).json()
    assert [r["doc"]["i"] for r in page["rows"]] == [1, 2, 3]
    assert [
        r["id"]
        for r in client.get(
            f"{db}/_all_docs", params={"startkey": '"k1"', "endkey": '"k3"', "inclusive_end": "false"}
        ).json()["rows"]
    ] == ["k1", "k2"]
    assert [
        r["id"]
        for r in client.get(f"{db}/_all_docs", params={"descending": "true", "limit": 2}).json()["rows"]
    ] == ["k4", "k3"]
    assert [
        r["id"] for r in client.get(f"{db}/_all_docs", params={"skip": 1, "limit": 2}).json()["rows"]
    ] == ["k1", "k2"]
    assert [r["id"] for r in client.get(f"{db}/_all_docs", params={"key": '"k2"'}).json()["rows"]] == ["k2"]

    keyed = client.post(f"{db}/_all_docs", json={"keys": ["k4", "zz", "k5"]}).json()["rows"]
    assert keyed[0]["id"] == "k4"
    assert keyed[1] == {"key": "zz", "error": "not_found"}
    assert keyed[2]["value"]["deleted"] is True
    keyed_get = client.get(f"{db}/_all_docs", params={"keys": orjson.dumps(["k1"]).decode()}).json()
    assert [r["id"] for r in keyed_get["rows"]] == ["k1"]

    assert client.get(f"{db}/_all_docs", params={"startkey": "k1"}).status_code == 400
