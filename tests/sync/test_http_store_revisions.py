"""Revision histories written by replication, as CouchDB stores them.

Every test here also runs on the CouchDB backend (tests/couchdb/http_suite), so both
backends answer what a real CouchDB answers.
"""

from __future__ import annotations

from app_for_tests import VIEWER


def test_a_replicated_document_whose_rev_and_revisions_disagree_follows_revisions(client, db):
    """Issue 21, point 3: PouchDB sends such documents when it replicates some conflicts;
    CouchDB stores them following `_revisions` instead of aborting the replication."""
    docs = [
        {"_id": "ahead", "_rev": "2-bbb", "v": 1, "_revisions": {"start": 3, "ids": ["ccc", "bbb", "aaa"]}},
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
    assert (
        client.get(f"{db}/other", params={"open_revs": "all"}, headers={"Accept": "application/json"}).json()[
            0
        ]["ok"]["_rev"]
        == "2-eee"
    )


def _edit_three_times(client, db, docid: str) -> list[str]:
    revs = []
    r = client.put(f"{db}/{docid}", json={"step": 1})
    assert r.status_code == 201, r.text
    revs.append(r.json()["rev"])
    for step in (2, 3):
        r = client.put(f"{db}/{docid}", json={"step": step, "_rev": revs[-1]})
        assert r.status_code == 201, r.text
        revs.append(r.json()["rev"])
    return revs


def test_older_revisions_stay_readable_until_compaction_removes_them(client, db, poll):
    """Issue 21, point 5: as in CouchDB, `GET ?rev=` and `open_revs` answer a revision that
    is no longer a leaf until the database is compacted; `POST /db/_compact` answers 202."""
    first, second, third = _edit_three_times(client, db, "note")
    old = client.get(f"{db}/note", params={"rev": first})
    assert old.status_code == 200, old.text
    assert old.json()["step"] == 1 and old.json()["_rev"] == first
    opened = client.get(
        f"{db}/note", params={"open_revs": f'["{second}","{third}"]'}, headers={"Accept": "application/json"}
    )
    assert opened.status_code == 200, opened.text
    assert sorted(entry["ok"]["step"] for entry in opened.json()) == [2, 3]
    info = client.get(f"{db}/note", params={"revs_info": "true"}).json()["_revs_info"]
    assert [entry["status"] for entry in info] == ["available", "available", "available"]

    r = client.post(f"{db}/_compact", json={})
    assert r.status_code == 202, r.text
    assert r.json() == {"ok": True}

    def compacted() -> bool:
        return client.get(f"{db}/note", params={"rev": first}).status_code == 404

    poll(compacted, message="the old revision to be compacted away")
    gone = client.get(f"{db}/note", params={"rev": second})
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    assert client.get(f"{db}/note").json()["step"] == 3  # the leaf stays
    info = client.get(f"{db}/note", params={"revs_info": "true"}).json()["_revs_info"]
    assert [entry["status"] for entry in info] == ["available", "missing", "missing"]


def test_compaction_is_for_database_admins(as_user, client, db):
    """Compaction is a database admin's request, as in CouchDB."""
    viewer = as_user(VIEWER)
    r = viewer.post(f"{db}/_compact", json={})
    assert r.status_code in (401, 403), r.text
    assert r.json()["error"] in ("unauthorized", "forbidden")
