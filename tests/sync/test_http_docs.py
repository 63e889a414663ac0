"""Documents: PUT/GET/DELETE, POST, ETags, revision options, open_revs, design documents."""

from __future__ import annotations

import orjson
from app_for_tests import ENGINEER, VIEWER


def put(client, db, docid, body, **params):
    r = client.put(f"{db}/{docid}", json=body, params=params)
    assert r.status_code == 201, r.text
    return r.json()["rev"]


def test_put_get_update_delete_cycle(client, db):
    r = client.put(f"{db}/note", json={"text": "first"})
    assert r.status_code == 201
    body = r.json()
    assert body["ok"] is True and body["id"] == "note" and body["rev"].startswith("1-")
    assert r.headers["etag"] == f'"{body["rev"]}"'

    doc = client.get(f"{db}/note")
    assert doc.json() == {"_id": "note", "_rev": body["rev"], "text": "first"}
    assert doc.headers["etag"] == f'"{body["rev"]}"'

    stale = client.put(f"{db}/note", json={"text": "x"})
    assert stale.status_code == 409 and stale.json()["error"] == "conflict"

    rev2 = put(client, db, "note", {"_rev": body["rev"], "text": "second"})
    assert rev2.startswith("2-")
    r = client.delete(f"{db}/note", params={"rev": rev2})
    assert r.status_code == 200 and r.json()["rev"].startswith("3-")
    gone = client.get(f"{db}/note")
    assert gone.status_code == 404
    assert gone.json() == {"error": "not_found", "reason": "deleted"}
    assert client.get(f"{db}/never").json() == {"error": "not_found", "reason": "missing"}


def test_rev_given_by_query_or_if_match(client, db):
    rev = put(client, db, "d", {"v": 1})
    rev2 = put(client, db, "d", {"v": 2}, rev=rev)
    r = client.put(f"{db}/d", json={"v": 3}, headers={"If-Match": f'"{rev2}"'})
    assert r.status_code == 201
    r = client.put(f"{db}/d", json={"_rev": rev, "v": 4}, params={"rev": rev2})
    assert r.status_code == 400


def test_delete_without_rev_is_a_conflict_and_missing_is_404(client, db):
    put(client, db, "d", {})
    assert client.delete(f"{db}/d").status_code == 409
    assert client.delete(f"{db}/nothing").status_code == 404


def test_if_none_match_gives_304(client, db):
    rev = put(client, db, "d", {"v": 1})
    r = client.get(f"{db}/d", headers={"If-None-Match": f'"{rev}"'})
    assert r.status_code == 304


def test_head_answers_the_etag_without_a_body(client, db):
    rev = put(client, db, "d", {"v": 1})
    r = client.head(f"{db}/d")
    assert r.status_code == 200 and r.headers["etag"] == f'"{rev}"' and r.content == b""


def test_post_creates_a_document_with_a_generated_id(client, db):
    r = client.post(db, json={"kind": "generated"})
    assert r.status_code == 201
    docid = r.json()["id"]
    assert len(docid) >= 16
    assert client.get(f"{db}/{docid}").json()["kind"] == "generated"
    r = client.post(db, json={"_id": "chosen", "kind": "named"})
    assert r.json()["id"] == "chosen"


def test_ids_with_encoded_slash_are_documents_not_attachments(client, db):
    r = client.put(f"{db}/session%2F1", json={"v": 1})
    assert r.status_code == 201 and r.json()["id"] == "session/1"
    assert client.get(f"{db}/session%2F1").json()["_id"] == "session/1"
    ids = [row["id"] for row in client.get(f"{db}/_all_docs").json()["rows"]]
    assert ids == ["session/1"]


def test_unicode_ids_round_trip(client, db):
    r = client.put(f"{db}/caf%C3%A9", json={"v": 1})
    assert r.json()["id"] == "café"
    assert client.get(f"{db}/caf%C3%A9").json()["_id"] == "café"


def test_invalid_json_is_400(client, db):
    r = client.put(f"{db}/d", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = client.put(f"{db}/d", content=b"[1,2]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_revs_and_revs_info(client, db):
    rev1 = put(client, db, "d", {"v": 1})
    rev2 = put(client, db, "d", {"_rev": rev1, "v": 2})
    doc = client.get(f"{db}/d", params={"revs": "true"}).json()
    assert doc["_revisions"] == {"start": 2, "ids": [rev2.split("-")[1], rev1.split("-")[1]]}
    info = client.get(f"{db}/d", params={"revs_info": "true"}).json()["_revs_info"]
    assert [i["rev"] for i in info] == [rev2, rev1]
    assert info[0]["status"] == "available"
    old = client.get(f"{db}/d", params={"rev": rev1})
    assert old.status_code in (200, 404)  # an old body may be compacted away, as in CouchDB


def test_invalid_boolean_parameter_is_400(client, db):
    put(client, db, "d", {})
    assert client.get(f"{db}/d", params={"revs": "yes"}).status_code == 400


def _make_conflict(client, db, docid="c"):
    """Two branches of `docid` written as a replicator would; returns (winner, loser)."""
    a = {"_id": docid, "_rev": "2-aaaa", "side": "a", "_revisions": {"start": 2, "ids": ["aaaa", "root"]}}
    b = {"_id": docid, "_rev": "2-bbbb", "side": "b", "_revisions": {"start": 2, "ids": ["bbbb", "root"]}}
    r = client.post(f"{db}/_bulk_docs", json={"docs": [a, b], "new_edits": False})
    assert r.status_code == 201 and r.json() == []
    return "2-bbbb", "2-aaaa"


def test_conflicts_and_open_revs(client, db):
    winner, loser = _make_conflict(client, db)
    doc = client.get(f"{db}/c", params={"conflicts": "true"}).json()
    assert doc["_rev"] == winner and doc["side"] == "b"
    assert doc["_conflicts"] == [loser]

    r = client.get(f"{db}/c", params={"open_revs": "all"}, headers={"Accept": "application/json"})
    assert r.status_code == 200
    bodies = sorted(item["ok"]["side"] for item in r.json())
    assert bodies == ["a", "b"]

    listed = client.get(
        f"{db}/c", params={"open_revs": orjson.dumps([loser, "3-ffff"]).decode(), "revs": "true"}
    ).json()
    assert listed[0]["ok"]["_rev"] == loser
    assert listed[0]["ok"]["_revisions"]["ids"] == ["aaaa", "root"]
    assert listed[1] == {"missing": "3-ffff"}

    # Multipart asked, JSON answered: PouchDB reads JSON.
    r = client.get(f"{db}/c", params={"open_revs": "all"}, headers={"Accept": "multipart/mixed"})
    assert r.status_code == 200 and isinstance(r.json(), list)


def test_deleted_conflicts(client, db):
    client.post(
        f"{db}/_bulk_docs",
        json={
            "new_edits": False,
            "docs": [
                {"_id": "d", "_rev": "1-aaaa", "v": 1},
                {"_id": "d", "_rev": "1-bbbb", "_deleted": True},
            ],
        },
    )
    doc = client.get(f"{db}/d", params={"deleted_conflicts": "true"}).json()
    assert doc["_rev"] == "1-aaaa"
    assert doc["_deleted_conflicts"] == ["1-bbbb"]


def test_put_with_new_edits_false_stores_the_given_revision(client, db):
    r = client.put(
        f"{db}/r",
        params={"new_edits": "false"},
        json={"_rev": "7-abcdef", "v": 1, "_revisions": {"start": 7, "ids": ["abcdef"]}},
    )
    assert r.status_code == 201
    assert client.get(f"{db}/r").json()["_rev"] == "7-abcdef"


def test_design_documents_are_stored_and_their_views_answer(client, db, as_user):
    ddoc = {"views": {"by_type": {"map": "function (doc) { emit(doc.type); }"}}}
    r = client.put(f"{db}/_design/app", json=ddoc)
    assert r.status_code == 201 and r.json()["id"] == "_design/app"
    assert client.get(f"{db}/_design/app").json()["views"] == ddoc["views"]
    r = client.get(f"{db}/_design/app/_view/by_type")
    assert r.status_code == 200 and r.json()["rows"] == []
    rows = client.get(f"{db}/_design_docs").json()["rows"]
    assert [row["id"] for row in rows] == ["_design/app"]
    # As in CouchDB, only database admins write design documents.
    r = as_user(ENGINEER).put(f"{db}/_design/other", json={})
    assert r.status_code == 403


def test_viewer_reads_but_may_not_write(client, db, as_user):
    put(client, db, "d", {"v": 1})
    viewer = as_user(VIEWER)
    assert viewer.get(f"{db}/d").json()["v"] == 1
    r = viewer.put(f"{db}/e", json={})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert viewer.post(db, json={}).status_code == 403
    rev = client.get(f"{db}/d").json()["_rev"]
    assert viewer.delete(f"{db}/d", params={"rev": rev}).status_code == 403
    assert client.get(f"{db}/d").status_code == 200
