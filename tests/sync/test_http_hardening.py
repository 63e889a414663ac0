"""Abuse of the sync endpoints by a signed-in user of the tenant: deleting the databases the
tenant needs, ids that break everything downstream, and answers that would reveal documents
the caller cannot read."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant

TREE_ID = "tree:citrix-vda-registration"


@pytest.fixture
def two_engineers(http):
    tenant = Tenant(http, starter_library=True)
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    r = http.post("/api/v1/sessions", headers=alice.headers, json={"tree_id": TREE_ID, "title": "Alice's"})
    assert r.status_code == 201, r.text
    return tenant, alice, bob, r.json()["session_id"]


def test_standard_databases_cannot_be_deleted(http, tenant):
    for db in ("trees", "sessions", "clients"):
        r = http.delete(f"/sync/{tenant.id}/{db}", headers=tenant.headers)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "forbidden" and "cannot be deleted" in r.json()["reason"]
        assert http.get(f"/sync/{tenant.id}/{db}", headers=tenant.headers).status_code == 200
    # A database the tenant created itself still can be.
    assert http.put(f"/sync/{tenant.id}/scratch", headers=tenant.headers).status_code == 201
    assert http.delete(f"/sync/{tenant.id}/scratch", headers=tenant.headers).status_code == 200


@pytest.mark.parametrize(
    "bad_id", ["client:a\u0000b", "client:line\nbreak", "x" * (1024 * 1024), "client:" + "é" * 300]
)
def test_ids_with_control_characters_or_too_long_are_refused(http, tenant, bad_id):
    root = f"/sync/{tenant.id}/clients"
    doc = {"type": "client", "name": "Evil", "schema_version": 1, "values": {}}
    r = http.post(root, headers=tenant.headers, json={**doc, "_id": bad_id})
    assert r.status_code == 400 and r.json()["error"] == "illegal_docid", r.text[:300]
    r = http.post(f"{root}/_bulk_docs", headers=tenant.headers, json={"docs": [{**doc, "_id": bad_id}]})
    assert r.status_code == 201 and r.json()[0]["error"] == "illegal_docid", r.text[:300]
    if len(bad_id) < 4096:  # a path can carry it
        from urllib.parse import quote

        r = http.put(f"{root}/{quote(bad_id, safe='')}", headers=tenant.headers, json=doc)
        assert r.status_code == 400 and r.json()["error"] == "illegal_docid", r.text[:300]
    listing = http.get(f"{root}/_all_docs", headers=tenant.headers).json()
    assert all(row["id"] != bad_id for row in listing["rows"])
    # An ordinary id of the longest accepted length still works.
    r = http.post(root, headers=tenant.headers, json={**doc, "_id": "client:" + "a" * 505})
    assert r.status_code == 201, r.text


def test_revs_diff_does_not_reveal_another_engineers_session(http, two_engineers):
    tenant, alice, bob, sid = two_engineers
    url = f"/sync/{tenant.id}/sessions"
    header = http.get(f"{url}/session:{sid}", headers=alice.headers).json()
    asked = {f"session:{sid}": [header["_rev"], "9-" + "f" * 32]}
    # Alice, who may read it, learns what the server has, as CouchDB answers.
    mine = http.post(f"{url}/_revs_diff", headers=alice.headers, json=asked).json()
    assert mine[f"session:{sid}"]["missing"] == ["9-" + "f" * 32]
    assert mine[f"session:{sid}"]["possible_ancestors"] == [header["_rev"]]
    # Bob gets the answer for a document that does not exist: no revision confirmed.
    theirs = http.post(f"{url}/_revs_diff", headers=bob.headers, json=asked).json()
    assert theirs == {f"session:{sid}": {"missing": asked[f"session:{sid}"]}}
    only_known = {f"session:{sid}": [header["_rev"]]}
    assert http.post(f"{url}/_revs_diff", headers=bob.headers, json=only_known).json() == {
        f"session:{sid}": {"missing": [header["_rev"]]}
    }


def test_all_docs_total_rows_counts_only_readable_documents(http, two_engineers):
    tenant, alice, bob, _sid = two_engineers
    url = f"/sync/{tenant.id}/sessions/_all_docs"
    everything = http.get(url, headers=tenant.headers).json()
    assert everything["total_rows"] == len(everything["rows"]) > 0  # the owner reads all
    bobs = http.get(url, headers=bob.headers).json()
    assert bobs["rows"] == [] and bobs["total_rows"] == 0
    alices = http.get(url, headers=alice.headers, params={"limit": 1}).json()
    assert len(alices["rows"]) == 1 and alices["total_rows"] == 1
