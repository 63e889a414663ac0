"""The publish review rules as pure functions (api/publishreview/rules.py)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from api.publishreview import rules

USERS = st.sampled_from(["ann", "bob", "cy", "dee"])


def anyone(_user_id: str) -> bool:
    """Every approver may still review."""
    return True


def _review(**over) -> dict:
    return {
        "review_id": "R1",
        "rev": "2-a",
        "status": rules.APPROVED,
        "requested_by": "ann",
        "last_editor": "ann",
        "editors": ["ann"],
        "decided_by": "bob",
        **over,
    }


def test_the_last_editor_is_known_only_for_the_revision_it_made():
    meta = {"updated_by": "ann", "updated_rev": "3-c"}
    assert rules.last_editor(meta, "3-c") == "ann"
    assert rules.last_editor(meta, "4-d") is None
    assert rules.last_editor({}, "1-a") is None


def test_an_unknown_last_editor_bars_the_requester_instead():
    assert set(rules.barred_approvers(_review(last_editor=None, editors=[]))) == {"ann"}


def test_no_approval_counts_when_the_last_editor_is_unknown():
    """Regression: with the last editor unknown only the requester was barred, so whoever
    made the revision unrecorded (e.g. by a tombstone over sync) could approve it."""
    review = _review(last_editor=None, editors=[], decided_by="bob")
    assert "bob" not in rules.barred_approvers(review)
    assert rules.approval_for([review], "2-a", anyone) is None
    reason = rules.refusal([review], "2-a", None)
    assert "not recorded" in reason and "save the draft once" in reason


def test_an_approval_lapses_when_its_approver_may_no_longer_review():
    review = _review(decided_by="bob")
    assert rules.approval_for([review], "2-a", anyone) is review
    assert rules.approval_for([review], "2-a", lambda user_id: user_id != "bob") is None
    assert "may no longer approve" in rules.refusal([review], "2-a", "Ann")


def test_the_requester_is_barred_only_if_they_edited():
    assert set(rules.barred_approvers(_review(last_editor="cy", editors=["cy"]))) == {"cy"}
    assert set(rules.barred_approvers(_review(last_editor="cy", editors=["ann", "cy"]))) == {"ann", "cy"}


def test_only_admins_owners_and_named_reviewers_who_are_not_viewers_review():
    assert rules.may_review("admin", False) and rules.may_review("owner", False)
    assert rules.may_review("engineer", True) and not rules.may_review("engineer", False)
    assert not rules.may_review("viewer", True) and not rules.may_review("author", False)


@given(
    status=st.sampled_from([rules.OPEN, rules.APPROVED, rules.CHANGES_REQUESTED, rules.WITHDRAWN]),
    rev=st.sampled_from(["2-a", "3-b"]),
    editor=st.one_of(st.none(), USERS),
    requester=USERS,
    editors=st.lists(USERS, max_size=3),
    approver=USERS,
)
def test_an_approval_counts_only_for_its_revision_and_never_from_a_barred_person(
    status, rev, editor, requester, editors, approver
):
    review = _review(
        status=status,
        rev=rev,
        last_editor=editor,
        requested_by=requester,
        editors=editors,
        decided_by=approver,
    )
    found = rules.approval_for([review], "2-a", anyone)
    counts = (
        status == rules.APPROVED
        and rev == "2-a"
        and editor is not None
        and approver not in rules.barred_approvers(review)
    )
    assert (found is review) == counts
    if found:
        assert approver != (editor or requester)
    else:
        assert "Request a review" in rules.refusal([review], "2-a", "Ann") or status == rules.OPEN
