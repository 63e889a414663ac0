"""Publish review decisions racing each other (security review of reviewed publishing).

Each race is made deterministic: the store a decision writes through lets another decision
land first, just before its own save, so that save conflicts for real and is retried on a
fresh read, as it would when two reviewers click at the same moment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from api.publishreview import rules, service
from sync.access import Principal
from sync.embedded import EmbeddedStore
from sync.errors import Conflict

TENANT = "t1"
AUTHOR = Principal(tenant_id=TENANT, user_id="author", role="author")
ALICE = Principal(tenant_id=TENANT, user_id="alice", role="admin")
BOB = Principal(tenant_id=TENANT, user_id="bob", role="admin")


class FirstSaveRaces:
    """A database whose first `put` of a review is preceded by `meanwhile` (another
    request's write of the same review through the real database)."""

    def __init__(self, db: Any, meanwhile: Callable[[Any], None]) -> None:
        self._db, self._meanwhile = db, meanwhile

    def put(self, doc: dict[str, Any], **kw: Any) -> dict[str, Any]:
        if self._meanwhile is not None and doc["_id"].startswith("treereview:"):
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile(self._db)
        return self._db.put(doc, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


@pytest.fixture
def trees(tmp_path):
    store = EmbeddedStore(tmp_path)
    try:
        yield store.create_db("t_t1_trees")
    finally:
        store.close()


def _open_review(db) -> dict[str, Any]:
    draft = db.put({"_id": "tree:printer", "type": "tree", "title": "Printer offline"})
    review = {
        "_id": service.review_doc_id("tree:printer", "R1"),
        "type": "tree_review",
        "schema_version": 1,
        "review_id": "R1",
        "tree_id": "tree:printer",
        "rev": draft["rev"],
        "status": rules.OPEN,
        "requested_by": AUTHOR.user_id,
        "last_editor": AUTHOR.user_id,
        "editors": [AUTHOR.user_id],
        "comments": [],
    }
    review["_rev"] = db.put(review)["rev"]
    return review


def test_an_approval_racing_a_rejection_is_refused_not_written_over_it(trees):
    """Regression: on a save conflict the approval was reapplied to the fresh read without
    checking it was still open, so a review another reviewer had just sent back (or its
    author withdrawn) became approved, and publishable."""
    review = _open_review(trees)

    def bob_rejects(db) -> None:
        service.decide_in(db, dict(review), BOB, approve=False, comment="Add a check of the queue.")

    with pytest.raises(Conflict) as refused:
        service.decide_in(FirstSaveRaces(trees, bob_rejects), review, ALICE, approve=True, comment="")
    assert "changes requested, not open" in refused.value.reason
    stored = trees.get(review["_id"])
    assert stored["status"] == rules.CHANGES_REQUESTED and stored["decided_by"] == BOB.user_id
    assert rules.approval_for([stored], review["rev"], lambda _user_id: True) is None


def test_an_approval_racing_a_withdrawal_is_refused(trees):
    review = _open_review(trees)

    with pytest.raises(Conflict):
        service.decide_in(
            FirstSaveRaces(trees, lambda db: service.withdraw_in(db, dict(review))),
            review,
            ALICE,
            approve=True,
            comment="",
        )
    assert trees.get(review["_id"])["status"] == rules.WITHDRAWN


def test_an_approval_racing_an_edit_of_the_draft_is_refused(trees):
    review = _open_review(trees)

    def author_edits(db) -> None:
        draft = db.get("tree:printer")
        db.put({**draft, "title": "Printer offline (edited)"})
        db.put({**db.get(review["_id"]), "note": "touched"})  # so the approval's save conflicts

    with pytest.raises(Conflict) as refused:
        service.decide_in(FirstSaveRaces(trees, author_edits), review, ALICE, approve=True, comment="")
    assert "draft changed" in refused.value.reason
    assert trees.get(review["_id"])["status"] == rules.OPEN


def test_a_withdrawal_racing_the_publish_leaves_the_review_published(trees):
    review = _open_review(trees)
    review = service.decide_in(trees, review, ALICE, approve=True, comment="")

    def published(db) -> None:
        db.put({**db.get(review["_id"]), "status": rules.PUBLISHED, "published_version": 1})

    with pytest.raises(Conflict) as refused:
        service.withdraw_in(FirstSaveRaces(trees, published), review)
    assert "already published" in refused.value.reason
    assert trees.get(review["_id"])["status"] == rules.PUBLISHED


def test_without_a_race_a_conflicting_save_is_still_retried(trees):
    """The other writer only added a comment: the decision still applies to the fresh read."""
    review = _open_review(trees)

    def comment(db) -> None:
        db.put({**db.get(review["_id"]), "comments": [{"id": "c1", "body": "Looks fine"}]})

    approved = service.decide_in(FirstSaveRaces(trees, comment), review, ALICE, approve=True, comment="")
    assert approved["status"] == rules.APPROVED and approved["comments"][0]["id"] == "c1"
    assert trees.get(review["_id"])["status"] == rules.APPROVED


def test_a_revision_whose_editor_is_unknown_is_not_approved_by_anyone(trees):
    review = _open_review(trees)
    review = trees.get(review["_id"])
    trees.put({**review, "last_editor": None, "editors": []})
    with pytest.raises(Conflict) as refused:
        service.decide_in(trees, trees.get(review["_id"]), ALICE, approve=True, comment="")
    assert "not recorded" in refused.value.reason and "PUT /api/v1/trees/tree:printer" in refused.value.reason
    assert trees.get(review["_id"])["status"] == rules.OPEN
