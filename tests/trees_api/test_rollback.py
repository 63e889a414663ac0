"""Rollback: a published version copied into the draft, guarded by the draft's `_rev`."""

from __future__ import annotations

from tests.trees_api.test_trees_api import small_tree


def _two_versions(http, headers) -> tuple[str, str]:
    r = http.post("/api/v1/trees", headers=headers, json=small_tree())
    tree_id = r.json()["id"]
    assert (
        http.post(f"/api/v1/trees/{tree_id}/publish", headers=headers, json={"change_note": "v1"}).status_code
        == 201
    )
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=headers).json()
    draft["title"] = "Printer offline (v2)"
    draft["nodes"]["fixed"]["summary"] = "Changed in v2."
    assert http.put(f"/api/v1/trees/{tree_id}", headers=headers, json=draft).status_code == 200
    assert (
        http.post(f"/api/v1/trees/{tree_id}/publish", headers=headers, json={"change_note": "v2"}).status_code
        == 201
    )
    return tree_id, http.get(f"/api/v1/trees/{tree_id}", headers=headers).json()["_rev"]


def test_rollback_copies_the_version_into_the_draft(http, tenant):
    author = tenant.add_user("author")
    tree_id, rev = _two_versions(http, author.headers)
    r = http.post(
        f"/api/v1/trees/{tree_id}/rollback", headers=author.headers, json={"version": 1, "_rev": rev}
    )
    assert r.status_code == 200, r.text
    assert r.json()["rev"] != rev
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
    v1 = http.get(f"/api/v1/trees/{tree_id}/versions/1", headers=author.headers).json()["tree"]
    assert draft["_rev"] == r.json()["rev"]
    assert {k: v for k, v in draft.items() if not k.startswith("_")} == {
        k: v for k, v in v1.items() if k != "_id"
    }
    # Versions are untouched; publishing makes the old content version 3.
    assert [
        v["version"]
        for v in http.get(f"/api/v1/trees/{tree_id}/versions", headers=author.headers).json()["items"]
    ] == [2, 1]
    r = http.post(
        f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={"change_note": "Back to v1"}
    )
    assert r.status_code == 201 and r.json()["version"] == 3


def test_rollback_with_a_stale_rev_is_a_conflict_and_changes_nothing(http, tenant):
    tree_id, rev = _two_versions(http, tenant.headers)
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()
    draft["description"] = "Someone else's edit"
    assert http.put(f"/api/v1/trees/{tree_id}", headers=tenant.headers, json=draft).status_code == 200
    r = http.post(
        f"/api/v1/trees/{tree_id}/rollback", headers=tenant.headers, json={"version": 1, "_rev": rev}
    )
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert (
        http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()["description"]
        == "Someone else's edit"
    )


def test_rollback_to_a_missing_version_or_without_rights(http, tenant):
    tree_id, rev = _two_versions(http, tenant.headers)
    r = http.post(
        f"/api/v1/trees/{tree_id}/rollback", headers=tenant.headers, json={"version": 9, "_rev": rev}
    )
    assert r.status_code == 404
    r = http.post(f"/api/v1/trees/{tree_id}/rollback", headers=tenant.headers, json={"version": 1})
    assert r.status_code in (400, 422)
    engineer = tenant.add_user("engineer")
    r = http.post(
        f"/api/v1/trees/{tree_id}/rollback", headers=engineer.headers, json={"version": 1, "_rev": rev}
    )
    assert r.status_code == 403
    assert http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()["_rev"] == rev
