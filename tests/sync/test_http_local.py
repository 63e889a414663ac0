"""_local documents: replication checkpoints, never replicated."""

from __future__ import annotations

from app_for_tests import VIEWER


def test_local_document_cycle(client, db):
    r = client.put(f"{db}/_local/checkpoint", json={"last_seq": 5})
    assert r.status_code == 201
    assert r.json() == {"ok": True, "id": "_local/checkpoint", "rev": "0-1"}
    assert client.get(f"{db}/_local/checkpoint").json() == {
        "_id": "_local/checkpoint",
        "_rev": "0-1",
        "last_seq": 5,
    }
    stale = client.put(f"{db}/_local/checkpoint", json={"last_seq": 6})
    assert stale.status_code == 409
    r = client.put(f"{db}/_local/checkpoint", json={"_rev": "0-1", "last_seq": 6})
    assert r.json()["rev"] == "0-2"
    r = client.delete(f"{db}/_local/checkpoint", params={"rev": "0-2"})
    assert r.status_code == 200
    assert client.get(f"{db}/_local/checkpoint").status_code == 404


def test_local_documents_stay_out_of_feeds_and_listings(client, db):
    client.put(f"{db}/_local/x", json={"a": 1})
    client.put(f"{db}/real", json={})
    assert [r["id"] for r in client.get(f"{db}/_changes").json()["results"]] == ["real"]
    assert [r["id"] for r in client.get(f"{db}/_all_docs").json()["rows"]] == ["real"]
    assert client.get(db).json()["doc_count"] == 1


def test_encoded_slash_in_local_id(client, db):
    r = client.put(f"{db}/_local/a%2Fb", json={})
    assert r.json()["id"] == "_local/a/b"
    assert client.get(f"{db}/_local/a%2Fb").status_code == 200


def test_readers_may_write_checkpoints(client, db, as_user):
    """As in CouchDB, _local writes need read access only: a viewer's device must be able to
    store its pull checkpoint on the server to resume later."""
    viewer = as_user(VIEWER)
    r = viewer.put(f"{db}/_local/viewer-checkpoint", json={"last_seq": 1})
    assert r.status_code == 201
    assert viewer.put(f"{db}/plain", json={}).status_code == 403
