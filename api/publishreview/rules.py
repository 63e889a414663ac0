"""The rules of publish reviews, as pure functions of documents (no storage).

Not the freshness "review" (`POST /trees/{id}/review-done`, `review_by` dates): a publish
review is a request that someone other than the draft's editor look at one exact revision of
the draft and approve or refuse it, before it may be published.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# A review's life: `open` until a reviewer approves (`approved`) or requests changes
# (`changes_requested`), the requester withdraws it (`withdrawn`), a newer request replaces it
# (`superseded`), or its approved revision is published (`published`).
OPEN = "open"
APPROVED = "approved"
CHANGES_REQUESTED = "changes_requested"
WITHDRAWN = "withdrawn"
SUPERSEDED = "superseded"
PUBLISHED = "published"
LIVE = (OPEN, APPROVED)


def last_editor(meta: dict[str, Any], rev: str) -> str | None:
    """Who made revision `rev` of the draft, when the server recorded it (edits through the
    API do; a draft written over sync, or before reviews existed, has no record)."""
    if meta.get("updated_rev") == rev and meta.get("updated_by"):
        return str(meta["updated_by"])
    return None


def editor_known(review: dict[str, Any]) -> bool:
    """Whether the server knows who made the reviewed revision. When it does not (a draft
    last written before editors were recorded), nobody can be sure the approver is not its
    author, so no approval of that revision is taken: a fresh save names the editor."""
    return bool(review.get("last_editor"))


UNKNOWN_EDITOR = (
    "Who made this draft revision is not recorded (it was last written before Branchline "
    "recorded draft editors), so no approval of it can show it was checked by someone else. "
    "Have the author save the draft once (any edit, in the editor or with PUT "
    "/api/v1/trees/{id}), then request a review of that revision."
)


def barred_approvers(review: dict[str, Any]) -> dict[str, str]:
    """The users who may not approve `review`, each with the reason in words: the draft's
    last editor, and the requester when they edited it since the latest publish. When the
    last editor is unknown no approval counts at all (`editor_known`); the requester is
    still listed, as the one person known to vouch for the content."""
    barred: dict[str, str] = {}
    editor = review.get("last_editor")
    requester = review.get("requested_by")
    if editor:
        barred[editor] = "its last editor"
    elif requester:
        barred[requester] = "who requested the review (the draft's last editor is not known)"
    if requester and requester not in barred and requester in (review.get("editors") or []):
        barred[requester] = "who requested the review and edited the draft"
    return barred


def may_review(role: str, reviewer_flag: bool) -> bool:
    """Owners and admins review; so does anyone named a reviewer, except a viewer."""
    return role in ("owner", "admin") or (reviewer_flag and role != "viewer")


def approval_for(
    reviews: list[dict[str, Any]], rev: str, still_reviews: Callable[[str], bool]
) -> dict[str, Any] | None:
    """The approved review that lets revision `rev` be published: approved, of exactly that
    revision, whose last editor is known, by someone not barred from approving it who may
    still review (`still_reviews(user_id)`, asked at publish time: an approver demoted or
    deactivated since takes their approval with them)."""
    for review in reviews:
        if (
            review.get("status") == APPROVED
            and review.get("rev") == rev
            and editor_known(review)
            and review.get("decided_by") not in barred_approvers(review)
            and still_reviews(str(review.get("decided_by")))
        ):
            return review
    return None


def refusal(reviews: list[dict[str, Any]], rev: str, editor_name: str | None) -> str:
    """Why revision `rev` may not be published without an approval, and what to do."""
    who = (
        f"someone other than {editor_name}, its last editor"
        if editor_name
        else "someone other than its last editor"
    )
    ask = (
        f"Request a review of this draft (\u201cRequest review\u201d in the editor, or POST "
        f"/api/v1/trees/{{id}}/reviews) and have it approved by {who}: "
        "an admin, an owner or a named reviewer."
    )
    lapsed = [r for r in reviews if r.get("status") == APPROVED and r.get("rev") == rev and editor_known(r)]
    if lapsed:
        return (
            "This workspace requires an approved review before publishing. Review "
            f"{lapsed[0]['review_id']} of this draft was approved by someone who may no longer "
            f"approve reviews (their role changed or their account was deactivated), so that "
            f"approval no longer counts. {ask}"
        )
    older = [r for r in reviews if r.get("status") == APPROVED and r.get("rev") != rev]
    if older:
        return (
            "This workspace requires an approved review before publishing. The draft changed after "
            f"review {older[0]['review_id']} was approved, so that approval no longer counts. {ask}"
        )
    pending = [r for r in reviews if r.get("status") == OPEN and r.get("rev") == rev]
    unknown = [r for r in reviews if r.get("status") in LIVE and r.get("rev") == rev and not editor_known(r)]
    if unknown:
        return (
            "This workspace requires an approved review before publishing. "
            f"{UNKNOWN_EDITOR} Request a review of the saved draft and have it approved by {who}."
        )
    if pending:
        return (
            "This workspace requires an approved review before publishing. Review "
            f"{pending[0]['review_id']} of this draft is still waiting for a reviewer: it needs an "
            f"approval by {who}."
        )
    return f"This workspace requires an approved review before publishing, and this draft has none. {ask}"
