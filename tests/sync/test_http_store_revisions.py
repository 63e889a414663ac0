"""Revision histories written by replication, as CouchDB stores them.

Every test here also runs on the CouchDB backend (tests/couchdb/http_suite), so both
backends answer what a real CouchDB answers.
"""
from __future__ import annotations


def test_a_replicated_document_whose_rev_and_revisions_disagree_follows_revisions(client, db):
    """Issue 21, point 3: PouchDB sends such documents when it replicates some conflicts;
    CouchDB stores them following `_revisions` instead of aborting the replication."""
    docs = [
        {"_id": "ahead", "_rev": "2-bbb", "v": 1,
         "_revisions": {"start": 3, "ids": ["ccc", "bbb", "aaa"]}},
        {"_id": "other", "_rev": "1-fff", "v": 2, "_revisions": {"start": 2, "ids": ["eee", "ddd"]}},
        {"_id": "plain", "_rev": "1-abc", "v": 3},
    ]
    r = client.post(f"{db}/_bulk_docs", json={"docs": docs, "new_edits": False})
    assert r.status_code == 201, r.text
    assert [row for row in r.json() if "error" in row] == []
    ahead = client.get(f"{db}/ahead", params={"revs": "true"}).json()
    assert ahead["_rev"] == "3-ccc" and ahead["v"] == 1
    assert ahead["_revisions"] == {"start": 3, "ids": ["ccc", "bbb", "aaa"]}
    assert client.get(f"{db}/other").json()["_rev"] == "2-eee"
    assert client.get(f"{db}/plain").json()["_rev"] == "1-abc"
    # The revision `_rev` named, but `_revisions` did not, was never stored.
    assert client.get(f"{db}/other", params={"rev": "1-fff"}).status_code == 404
    assert client.get(f"{db}/other", params={"open_revs": "all"},
                      headers={"Accept": "application/json"}).json()[0]["ok"]["_rev"] == "2-eee"
