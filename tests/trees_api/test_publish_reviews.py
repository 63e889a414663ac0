"""Publish reviews (issue #19, point 2): with `require_approval`, a draft is published only
after someone other than its last editor approved that exact revision."""

from __future__ import annotations

from types import SimpleNamespace

from tests.audit.test_audit_api import entries
from tests.trees_api.test_trees_api import small_tree


def _require_approval(http, tenant, on: bool = True) -> None:
    r = http.put("/api/v1/tenant/publishing", headers=tenant.headers, json={"require_approval": on})
    assert r.status_code == 200 and r.json()["require_approval"] is on, r.text


def _draft(http, who, **extra) -> str:
    r = http.post("/api/v1/trees", headers=who.headers, json=small_tree(**extra))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _edit(http, who, tree_id: str, title: str) -> str:
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=who.headers).json()
    draft["title"] = title
    r = http.put(f"/api/v1/trees/{tree_id}", headers=who.headers, json=draft)
    assert r.status_code == 200, r.text
    return r.json()["rev"]


def _request(http, who, tree_id: str, note: str = "Please check the new step.") -> dict:
    r = http.post(f"/api/v1/trees/{tree_id}/reviews", headers=who.headers, json={"note": note})
    assert r.status_code == 201, r.text
    return r.json()


def _publish(http, who, tree_id: str):
    return http.post(f"/api/v1/trees/{tree_id}/publish", headers=who.headers, json={"change_note": "n"})


def test_with_the_setting_off_publishing_works_as_before(http, tenant):
    author = tenant.add_user("author")
    tree_id = _draft(http, author)
    assert http.get("/api/v1/tenant/publishing", headers=author.headers).json()["require_approval"] is False
    r = _publish(http, author, tree_id)
    assert r.status_code == 201, r.text
    version = http.get(f"/api/v1/trees/{tree_id}/versions", headers=author.headers).json()["items"][0]
    assert version["review"] is None


def test_publish_without_approval_is_refused_with_what_to_do(http, tenant):
    _require_approval(http, tenant)
    author = tenant.add_user("author")
    tree_id = _draft(http, author)
    r = _publish(http, author, tree_id)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "approval_required"
    assert "Request a review" in body["reason"] and "Author, its last editor" in body["reason"]
    # Still waiting for a reviewer: the reason says so.
    review = _request(http, author, tree_id)
    r = _publish(http, author, tree_id)
    assert r.status_code == 409 and review["id"] in r.json()["reason"] and "waiting" in r.json()["reason"]
    assert http.get(f"/api/v1/trees/{tree_id}/versions", headers=author.headers).json()["items"] == []


def test_approval_by_another_person_lets_the_publish_through(http, tenant):
    _require_approval(http, tenant)
    author = tenant.add_user("author")
    tree_id = _draft(http, author)
    review = _request(http, author, tree_id)
    assert review["status"] == "open" and review["current"] and review["last_editor"] == author.id
    r = http.post(
        f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve",
        headers=tenant.headers,
        json={"comment": "Good"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == tenant.me["user"]["id"]
    r = _publish(http, author, tree_id)
    assert r.status_code == 201, r.text
    version = http.get(f"/api/v1/trees/{tree_id}/versions", headers=author.headers).json()["items"][0]
    assert version["review"]["id"] == review["id"]
    assert version["review"]["requested_by"] == author.id
    assert version["review"]["approved_by"] == tenant.me["user"]["id"]
    listed = http.get(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers).json()
    assert listed["next_cursor"] is None
    assert listed["items"][0]["status"] == "published" and listed["items"][0]["published_version"] == 1


def test_self_approval_is_refused_and_does_not_count(http, tenant):
    _require_approval(http, tenant)
    admin = tenant.add_user("admin")
    tree_id = _draft(http, admin)  # the admin is the last editor
    review = _request(http, admin, tree_id)
    r = http.post(f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve", headers=admin.headers, json={})
    assert r.status_code == 403, r.text
    assert "last editor" in r.json()["reason"]
    assert _publish(http, admin, tree_id).status_code == 409


def test_the_requester_who_edited_the_draft_may_not_approve_it(http, tenant):
    _require_approval(http, tenant)
    admin, author = tenant.add_user("admin"), tenant.add_user("author")
    tree_id = _draft(http, admin)
    _edit(http, author, tree_id, "Printer offline (author)")  # the author is now the last editor
    _edit(http, admin, tree_id, "Printer offline (admin)")  # and the admin again, last
    review = _request(http, author, tree_id)
    assert set(review["barred_approvers"]) == {admin.id, author.id}
    assert review["last_editor"] == admin.id


def test_an_approval_of_an_older_revision_no_longer_counts(http, tenant):
    _require_approval(http, tenant)
    author = tenant.add_user("author")
    tree_id = _draft(http, author)
    review = _request(http, author, tree_id)
    url = f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve"
    assert http.post(url, headers=tenant.headers, json={}).status_code == 200
    _edit(http, author, tree_id, "Printer offline, edited after approval")
    r = _publish(http, author, tree_id)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "approval_required"
    assert "changed after review" in r.json()["reason"] and "no longer counts" in r.json()["reason"]
    listed = http.get(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers).json()["items"]
    assert listed[0]["status"] == "approved" and listed[0]["current"] is False
    # A new review of the current draft, approved, publishes.
    second = _request(http, author, tree_id)
    assert http.get(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers).json()["items"][1][
        "status"
    ] == ("superseded")
    assert (
        http.post(
            f"/api/v1/trees/{tree_id}/reviews/{second['id']}/approve", headers=tenant.headers
        ).status_code
        == 200
    )
    assert _publish(http, author, tree_id).status_code == 201


def test_approving_a_review_whose_draft_moved_on_is_a_conflict(http, tenant):
    author = tenant.add_user("author")
    tree_id = _draft(http, author)
    review = _request(http, author, tree_id)
    _edit(http, author, tree_id, "Changed while waiting")
    r = http.post(f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve", headers=tenant.headers)
    assert r.status_code == 409 and "requests a new review" in r.json()["reason"]


def test_an_engineer_cannot_approve_and_a_named_reviewer_can(http, tenant):
    _require_approval(http, tenant)
    author, engineer = tenant.add_user("author"), tenant.add_user("engineer")
    tree_id = _draft(http, author)
    review = _request(http, author, tree_id)
    url = f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve"
    r = http.post(url, headers=engineer.headers, json={})
    assert r.status_code == 403 and "named reviewers" in r.json()["reason"]
    assert http.get("/api/v1/tenant/publishing", headers=engineer.headers).json()["you_review"] is False
    r = http.patch(f"/api/v1/users/{engineer.id}", headers=tenant.headers, json={"reviewer": True})
    assert r.status_code == 200 and r.json()["reviewer"] is True
    assert http.get("/api/v1/tenant/publishing", headers=engineer.headers).json()["you_review"] is True
    assert http.post(url, headers=engineer.headers, json={}).status_code == 200
    assert _publish(http, author, tree_id).status_code == 201
    # Only owners and admins change the setting.
    r = http.put("/api/v1/tenant/publishing", headers=author.headers, json={"require_approval": False})
    assert r.status_code == 403


def test_request_changes_needs_a_comment_and_ends_the_review(http, tenant):
    author = tenant.add_user("author")
    tree_id = _draft(http, author)
    review = _request(http, author, tree_id)
    base = f"/api/v1/trees/{tree_id}/reviews/{review['id']}"
    r = http.post(f"{base}/reject", headers=tenant.headers, json={"comment": "  "})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = http.post(f"{base}/reject", headers=tenant.headers, json={"comment": "Add a check of the queue."})
    assert r.status_code == 200 and r.json()["status"] == "changes_requested"
    assert http.post(f"{base}/approve", headers=tenant.headers).status_code == 409


def test_per_node_comments_are_kept_on_the_review(http, tenant):
    author, viewer = tenant.add_user("author"), tenant.add_user("viewer")
    tree_id = _draft(http, author)
    review = _request(http, author, tree_id)
    base = f"/api/v1/trees/{tree_id}/reviews/{review['id']}"
    r = http.post(
        f"{base}/comments", headers=tenant.headers, json={"node_id": "restart", "body": "Say which host."}
    )
    assert r.status_code == 201, r.text
    assert r.json()["node_id"] == "restart" and r.json()["by"] == tenant.me["user"]["id"]
    assert (
        http.post(f"{base}/comments", headers=author.headers, json={"body": "Done, see v2."}).status_code
        == 201
    )
    r = http.post(f"{base}/comments", headers=tenant.headers, json={"node_id": "nope", "body": "?"})
    assert r.status_code == 400 and "nope" in r.json()["reason"]
    assert http.post(f"{base}/comments", headers=viewer.headers, json={"body": "hi"}).status_code == 403
    got = http.get(base, headers=author.headers).json()
    assert [(c["node_id"], c["body"]) for c in got["comments"]] == [
        ("restart", "Say which host."),
        (None, "Done, see v2."),
    ]


def test_withdraw_by_the_author_and_a_second_request_of_the_same_revision(http, tenant):
    author, other = tenant.add_user("author"), tenant.add_user("author")
    tree_id = _draft(http, author)
    review = _request(http, author, tree_id)
    r = http.post(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers, json={"note": "again"})
    assert r.status_code == 409 and "already open" in r.json()["reason"]
    base = f"/api/v1/trees/{tree_id}/reviews/{review['id']}"
    assert http.post(f"{base}/withdraw", headers=other.headers).status_code == 403
    r = http.post(f"{base}/withdraw", headers=author.headers)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert _request(http, author, tree_id)["status"] == "open"


def test_every_step_is_in_the_audit_log_and_the_publish_names_the_review(http, tenant):
    _require_approval(http, tenant)
    author = tenant.add_user("author")
    tree_id = _draft(http, author)
    first = _request(http, author, tree_id)
    base = f"/api/v1/trees/{tree_id}/reviews/{first['id']}"
    http.post(f"{base}/comments", headers=tenant.headers, json={"node_id": "scope", "body": "Clearer?"})
    http.post(f"{base}/reject", headers=tenant.headers, json={"comment": "Reword the first question."})
    _edit(http, author, tree_id, "Printer offline (reworded)")
    second = _request(http, author, tree_id)
    http.post(f"/api/v1/trees/{tree_id}/reviews/{second['id']}/approve", headers=tenant.headers)
    assert _publish(http, author, tree_id).status_code == 201
    found = [e for e in entries(http, tenant) if e["target"]["id"] == tree_id]
    found.sort(key=lambda e: e["id"])
    assert [e["action"] for e in found if e["action"].startswith("tree.review_")] == [
        "tree.review_requested",
        "tree.review_commented",
        "tree.review_rejected",
        "tree.review_requested",
        "tree.review_approved",
    ]
    by_action = {e["action"]: e for e in found}
    assert by_action["tree.review_commented"]["details"]["node_id"] == "scope"
    assert by_action["tree.review_rejected"]["details"]["comment"] == "Reword the first question."
    assert by_action["tree.review_approved"]["actor"]["id"] == tenant.me["user"]["id"]
    assert by_action["tree.published"]["details"]["review_id"] == second["id"]
    assert by_action["tree.published"]["actor"]["id"] == author.id


def test_a_draft_edited_over_sync_names_its_editor_who_then_may_not_approve(http, tenant):
    """Regression: the last editor was known only for edits made through the API, so whoever
    edited a draft over /sync/ could approve their own change once someone else asked."""
    _require_approval(http, tenant)
    reviewer = tenant.add_user("author")
    assert (
        http.patch(
            f"/api/v1/users/{reviewer.id}", headers=tenant.headers, json={"reviewer": True}
        ).status_code
        == 200
    )
    tree_id = _draft(http, tenant)
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=reviewer.headers).json()
    draft["title"] = "Edited on a device"
    r = http.put(f"/sync/{tenant.id}/trees/{tree_id}", headers=reviewer.headers, json=draft)
    assert r.status_code == 201, r.text
    review = _request(http, tenant, tree_id)
    assert review["rev"] == r.json()["rev"] and review["last_editor"] == reviewer.id
    r = http.post(f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve", headers=reviewer.headers)
    assert r.status_code == 403 and "last editor" in r.json()["reason"]
    assert _publish(http, tenant, tree_id).status_code == 409


def test_the_reviews_waiting_list_shows_open_reviews_of_every_tree(http, tenant):
    author = tenant.add_user("author")
    first, second = _draft(http, author, title="Printer A"), _draft(http, author, title="Printer B")
    a, b = _request(http, author, first), _request(http, author, second)
    http.post(
        f"/api/v1/trees/{first}/reviews/{a['id']}/reject", headers=tenant.headers, json={"comment": "No"}
    )
    r = http.get("/api/v1/reviews", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert [(i["id"], i["tree_title"]) for i in r.json()["items"]] == [(b["id"], "Printer B")]
    sent_back = http.get(
        "/api/v1/reviews", headers=author.headers, params={"status": "changes_requested"}
    ).json()
    assert [i["id"] for i in sent_back["items"]] == [a["id"]]
    r = http.get("/api/v1/reviews", headers=tenant.headers, params={"cursor": "ImFiYyI"})  # "abc"
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


def test_an_admin_may_not_approve_their_own_edit_made_with_an_api_key(http, tenant):
    """Regression: an edit made with an API key was recorded as the key's (`apikey:{id}`),
    which no review bars, so the admin who made the key approved their own change."""
    _require_approval(http, tenant)
    admin, author = tenant.add_user("admin"), tenant.add_user("author")
    tree_id = _draft(http, author)
    r = http.post("/api/v1/api-keys", headers=admin.headers, json={"name": "editor script", "role": "author"})
    assert r.status_code == 201, r.text
    key = {"Authorization": f"Bearer {r.json()['key']}"}
    _edit(http, SimpleNamespace(headers=key), tree_id, "Printer offline (edited by a script)")
    review = _request(http, author, tree_id)
    assert review["last_editor"] == admin.id
    assert admin.id in review["barred_approvers"]
    r = http.post(f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve", headers=admin.headers)
    assert r.status_code == 403 and "last editor" in r.json()["reason"], r.text
    assert _publish(http, author, tree_id).status_code == 409
    # Someone else's approval still lets it through.
    r = http.post(f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert _publish(http, author, tree_id).status_code == 201


def test_promoting_a_conflict_branch_by_deleting_the_winner_over_sync_names_who_did_it(http, tenant):
    """Regression: a tombstone written over /sync/ was not recorded, so a named reviewer could
    push a losing branch, delete the winning revision to promote it, leave the draft's last
    editor unknown and then approve their own content."""
    _require_approval(http, tenant)
    mallory = tenant.add_user("author")
    r = http.patch(f"/api/v1/users/{mallory.id}", headers=tenant.headers, json={"reviewer": True})
    assert r.status_code == 200, r.text
    tree_id = _draft(http, tenant)
    winner = _edit(http, tenant, tree_id, "Printer offline (owner)")
    sync = f"/sync/{tenant.id}/trees"
    draft = http.get(f"{sync}/{tree_id}", headers=mallory.headers, params={"revs": "true"}).json()
    first = draft["_revisions"]["ids"][1]
    losing = "0" * 32  # sorts below the winner's hash: a branch that does not win on its own
    branch = {
        **{k: v for k, v in draft.items() if k not in ("_rev", "_revisions")},
        "title": "Printer offline (mallory)",
        "_rev": f"2-{losing}",
        "_revisions": {"start": 2, "ids": [losing, first]},
    }
    r = http.post(f"{sync}/_bulk_docs", headers=mallory.headers, json={"docs": [branch], "new_edits": False})
    assert r.status_code == 201, r.text
    assert http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()["_rev"] == winner
    r = http.delete(f"{sync}/{tree_id}", headers=mallory.headers, params={"rev": winner})
    assert r.status_code == 200, r.text
    now = http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()
    assert now["title"] == "Printer offline (mallory)" and now["_rev"] == f"2-{losing}"

    review = _request(http, tenant, tree_id)
    assert review["rev"] == now["_rev"] and review["last_editor"] == mallory.id
    r = http.post(f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve", headers=mallory.headers)
    assert r.status_code == 403 and "last editor" in r.json()["reason"], r.text
    assert _publish(http, tenant, tree_id).status_code == 409


def test_an_approval_stops_counting_once_its_approver_may_no_longer_review(http, tenant):
    """Regression: an approval counted at publish time even after its approver lost the
    right to review (reviewer flag removed, demoted or deactivated)."""
    _require_approval(http, tenant)
    author, reviewer, admin = tenant.add_user("author"), tenant.add_user("engineer"), tenant.add_user("admin")
    users = "/api/v1/users"
    assert (
        http.patch(f"{users}/{reviewer.id}", headers=tenant.headers, json={"reviewer": True}).status_code
        == 200
    )
    first, second = _draft(http, author, title="Printer A"), _draft(http, author, title="Printer B")
    for tree_id, approver in ((first, reviewer), (second, admin)):
        review = _request(http, author, tree_id)
        r = http.post(f"/api/v1/trees/{tree_id}/reviews/{review['id']}/approve", headers=approver.headers)
        assert r.status_code == 200, r.text
    assert (
        http.patch(f"{users}/{reviewer.id}", headers=tenant.headers, json={"reviewer": False}).status_code
        == 200
    )
    assert (
        http.patch(f"{users}/{admin.id}", headers=tenant.headers, json={"active": False}).status_code == 200
    )
    for tree_id in (first, second):
        r = _publish(http, author, tree_id)
        assert r.status_code == 409 and r.json()["error"] == "approval_required", r.text
        assert "may no longer approve reviews" in r.json()["reason"]
    # Given back the right, the approval counts again: it was never withdrawn.
    assert (
        http.patch(f"{users}/{reviewer.id}", headers=tenant.headers, json={"reviewer": True}).status_code
        == 200
    )
    assert _publish(http, author, first).status_code == 201
