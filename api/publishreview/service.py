"""Publish reviews: storage and the operations on them (see `rules.py` for the rules).

A review is a server-only sidecar in the tenant's `trees` database,
`treereview:{slug}:{review_id}` (DOCUMENTS.md). It pins the draft's exact `_rev`; comments
live inside it, so a review and its discussion are read and changed in one document, always
with the `_rev` read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, Conflict, Forbidden, NotFound
from sync.store import Database

from ..core.context import AppContext
from ..core.docs import by_prefix, get_or_none, retry_on_conflict, save
from ..core.timeutil import iso
from ..sessions.ids import ulid
from ..tenants.repository import get_tenant, update_settings
from ..trees import service as trees
from ..trees.models import tree_slug
from ..users import repository as users
from . import rules

SETTING = "require_approval"
MAX_COMMENTS = 500


def review_doc_id(tree_id: str, review_id: str) -> str:
    return f"treereview:{tree_slug(tree_id)}:{review_id}"


# --- settings -------------------------------------------------------------------------------


def require_approval(ctx: AppContext, tenant_id: str) -> bool:
    settings = get_tenant(ctx.system, tenant_id).get("settings") or {}
    return isinstance(settings, dict) and settings.get(SETTING) is True


def set_require_approval(ctx: AppContext, tenant_id: str, value: bool) -> bool:
    update_settings(ctx.system, tenant_id, {SETTING: value})
    return require_approval(ctx, tenant_id)


# --- people -------------------------------------------------------------------------------


def _user(ctx: AppContext, tenant_id: str, user_id: str | None) -> dict[str, Any] | None:
    return users.get_user(ctx.system, tenant_id, user_id) if user_id else None


def display_name(ctx: AppContext, tenant_id: str, user_id: str | None) -> str | None:
    user = _user(ctx, tenant_id, user_id)
    return (user.get("display_name") or user.get("email")) if user else None


def is_reviewer(ctx: AppContext, who: Principal) -> bool:
    """May `who` approve or refuse reviews? People only: an approval is a person's word."""
    if who.kind != "user":
        return False
    user = _user(ctx, who.tenant_id, who.user_id) or {}
    return rules.may_review(who.role, user.get("reviewer") is True)


def still_reviews(ctx: AppContext, tenant_id: str, user_id: str) -> bool:
    """Whether the user who approved a review may approve reviews now: an active account
    whose current role (or reviewer flag) allows it."""
    user = _user(ctx, tenant_id, user_id)
    if user is None or not user.get("active", True):
        return False
    return rules.may_review(str(user.get("role")), user.get("reviewer") is True)


def _require_reviewer(ctx: AppContext, who: Principal) -> None:
    if who.kind != "user":
        raise Forbidden("Reviews are approved by people: sign in as an admin, owner or named reviewer.")
    if not is_reviewer(ctx, who):
        raise Forbidden(
            f"Only admins, owners and named reviewers approve or refuse reviews; you are {who.role}. "
            "Ask an admin to name you a reviewer (Team, your account, \u201cReviewer\u201d)."
        )


# --- reading --------------------------------------------------------------------------------


def list_reviews(db: Database, tree_id: str) -> list[dict[str, Any]]:
    """Every review of a tree, newest first (review ids are ULIDs, so id order is time order)."""
    docs = by_prefix(db, f"treereview:{tree_slug(tree_id)}:")
    return [d for d in reversed(docs) if d.get("tree_id") == tree_id]


def _get(db: Database, tree_id: str, review_id: str) -> dict[str, Any]:
    doc = get_or_none(db, review_doc_id(tree_id, review_id))
    if doc is None or doc.get("tree_id") != tree_id:
        raise NotFound(
            f"No review {review_id} of {tree_id}; list them with GET /api/v1/trees/{{id}}/reviews."
        )
    return doc


def public(doc: dict[str, Any], draft_rev: str | None) -> dict[str, Any]:
    """A review as the API answers it; `current`: it is of the draft as it is now."""
    return {
        "id": doc["review_id"],
        "tree_id": doc["tree_id"],
        "rev": doc["rev"],
        "current": doc["rev"] == draft_rev,
        "base_version": doc.get("base_version"),
        "note": doc.get("note", ""),
        "status": doc["status"],
        "requested_by": doc["requested_by"],
        "requested_at": doc["requested_at"],
        "last_editor": doc.get("last_editor"),
        "barred_approvers": sorted(rules.barred_approvers(doc)),
        "decided_by": doc.get("decided_by"),
        "decided_at": doc.get("decided_at"),
        "decision_comment": doc.get("decision_comment"),
        "comments": doc.get("comments", []),
        "published_version": doc.get("published_version"),
    }


def as_now(ctx: AppContext, who: Principal, review: dict[str, Any]) -> dict[str, Any]:
    """`review` as the API answers it, measured against the draft as it is now."""
    return public(review, trees.get_tree(ctx, who, review["tree_id"])["_rev"])


def get_review(ctx: AppContext, who: Principal, tree_id: str, review_id: str) -> dict[str, Any]:
    draft = trees.get_tree(ctx, who, tree_id)
    return public(_get(trees.trees_db(ctx, who.tenant_id), draft["_id"], review_id), draft["_rev"])


def reviews_of(ctx: AppContext, who: Principal, tree_id: str) -> list[dict[str, Any]]:
    draft = trees.get_tree(ctx, who, tree_id)
    return [public(d, draft["_rev"]) for d in list_reviews(trees.trees_db(ctx, who.tenant_id), draft["_id"])]


def waiting(ctx: AppContext, who: Principal, status: str) -> list[dict[str, Any]]:
    """Every tree's reviews in `status` (e.g. the open ones a reviewer should look at),
    newest first, each with the tree's title."""
    db = trees.trees_db(ctx, who.tenant_id)
    found = [d for d in by_prefix(db, "treereview:") if d.get("status") == status]
    found.sort(key=lambda d: d["review_id"], reverse=True)
    drafts = {d["tree_id"]: get_or_none(db, d["tree_id"]) or {} for d in found}
    return [
        {
            **public(d, drafts[d["tree_id"]].get("_rev")),
            "tree_title": drafts[d["tree_id"]].get("title") or d["tree_id"],
        }
        for d in found
    ]


# --- changing -------------------------------------------------------------------------------


def request_review(ctx: AppContext, who: Principal, tree_id: str, note: str) -> dict[str, Any]:
    """Ask for a review of the draft as it is now. A live review of an older revision is
    superseded (it can no longer lead to a publish); one of this very revision is a 409."""
    draft = trees.get_tree(ctx, who, tree_id)
    tree_id, rev = draft["_id"], draft["_rev"]
    db = trees.trees_db(ctx, who.tenant_id)
    meta = trees.get_meta(db, tree_id)
    for old in list_reviews(db, tree_id):
        if old["status"] not in rules.LIVE:
            continue
        if old["rev"] == rev:
            raise Conflict(
                f"Review {old['review_id']} of this exact draft is already "
                f"{old['status'].replace('_', ' ')}; edit the draft first to ask again, "
                "or withdraw that review."
            )
        _change(db, old, _supersede)
    review_id = ulid()
    return save(
        db,
        {
            "_id": review_doc_id(tree_id, review_id),
            "type": "tree_review",
            "schema_version": 1,
            "review_id": review_id,
            "tree_id": tree_id,
            "rev": rev,
            "base_version": meta.get("latest_version"),
            "note": note.strip(),
            "status": rules.OPEN,
            "requested_by": trees.person_of(who),
            "requested_at": iso(),
            "last_editor": rules.last_editor(meta, rev),
            "editors": list(meta.get("editors_since_publish") or []),
            "comments": [],
        },
    )


class _Refused(Exception):
    """An edit's precondition no longer holds: carries the answer past the conflict retry,
    which would otherwise take the edit's own 409 for a save conflict and try again."""

    def __init__(self, error: Conflict) -> None:
        self.error = error


def _supersede(d: dict[str, Any]) -> None:
    # Checked on every read: a review decided or published meanwhile keeps that status.
    if d["status"] in rules.LIVE:
        d.update(status=rules.SUPERSEDED, superseded_at=iso())


def _change(db: Database, doc: dict[str, Any], edit: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Apply `edit` to the review and save it with the `_rev` read, reading again on a conflict.

    `edit` runs again on every fresh read, so it must check what it relies on (the status,
    the draft's revision) there: a decision written by someone else between the read and the
    save is then refused with the Conflict `edit` raises, never overwritten."""
    current = [doc]

    def attempt() -> dict[str, Any]:
        fresh = dict(current[0])
        try:
            edit(fresh)
        except Conflict as exc:
            raise _Refused(exc) from None
        try:
            return save(db, fresh)
        except Conflict:
            current[0] = db.get(doc["_id"])
            raise

    try:
        return retry_on_conflict(
            attempt, busy="The review is being changed by someone else right now; try again."
        )
    except _Refused as refused:
        raise refused.error from None


def decide(
    ctx: AppContext, who: Principal, tree_id: str, review_id: str, *, approve: bool, comment: str
) -> dict[str, Any]:
    """Approve the reviewed revision, or request changes (a comment saying which is required)."""
    _require_reviewer(ctx, who)
    draft = trees.get_tree(ctx, who, tree_id)
    db = trees.trees_db(ctx, who.tenant_id)
    return decide_in(db, _get(db, draft["_id"], review_id), who, approve=approve, comment=comment)


def decide_in(
    db: Database, review: dict[str, Any], who: Principal, *, approve: bool, comment: str
) -> dict[str, Any]:
    """Write a reviewer's decision on `review` (a document of `db`, the tenant's trees).

    Every check runs on each read of the review inside the save retry: on a save conflict
    another reviewer may just have refused it, its author withdrawn it or the draft moved on,
    and reapplying the decision then would approve what is no longer open."""
    if not approve and not comment.strip():
        raise BadRequest("Say what should change: requesting changes needs a comment for the author.")

    def edit(d: dict[str, Any]) -> None:
        if d["status"] != rules.OPEN:
            raise Conflict(
                f"Review {d['review_id']} is {d['status'].replace('_', ' ')}, not open: only an open "
                "review is approved or sent back. The author requests a new one for the current draft."
            )
        if approve:
            draft = get_or_none(db, d["tree_id"])
            if draft is None or draft["_rev"] != d["rev"]:
                raise Conflict(
                    "The draft changed after this review was requested, so what you would approve is "
                    "not what would be published. The author requests a new review of the current draft."
                )
            if not rules.editor_known(d):
                raise Conflict(rules.UNKNOWN_EDITOR.replace("{id}", d["tree_id"]))
            barred = rules.barred_approvers(d)
            if who.user_id in barred:
                raise Forbidden(
                    f"You cannot approve this review: you are {barred[who.user_id]}. Publishing needs "
                    "the approval of someone other than the draft's last editor; ask another reviewer "
                    "or admin."
                )
        d.update(
            status=rules.APPROVED if approve else rules.CHANGES_REQUESTED,
            decided_by=who.user_id,
            decided_at=iso(),
            decision_comment=comment.strip(),
        )

    return _change(db, review, edit)


def add_comment(
    ctx: AppContext, who: Principal, tree_id: str, review_id: str, *, node_id: str | None, body: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A comment on the review, on one step (`node_id`) or on the whole draft."""
    if who.role not in ("owner", "admin", "author") and not is_reviewer(ctx, who):
        raise Forbidden("Only authors, admins, owners and named reviewers comment on reviews.")
    if not body.strip():
        raise BadRequest("The comment is empty; write what the author should know.")
    draft = trees.get_tree(ctx, who, tree_id)
    db = trees.trees_db(ctx, who.tenant_id)
    review = _get(db, draft["_id"], review_id)
    if review["status"] in (rules.WITHDRAWN, rules.SUPERSEDED):
        raise Conflict(f"Review {review_id} is {review['status']}; comment on the tree's current review.")
    if (
        node_id is not None
        and node_id not in (draft.get("nodes") or {})
        and not _in_base(ctx, who, review, node_id)
    ):
        raise BadRequest(
            f"The draft has no step {node_id!r} (nor had the published version); check the node id."
        )
    comment = {"id": ulid(), "node_id": node_id, "body": body.strip(), "by": who.user_id, "at": iso()}

    def edit(d: dict[str, Any]) -> None:
        if len(d.get("comments") or []) >= MAX_COMMENTS:
            raise Conflict(
                f"This review has {MAX_COMMENTS} comments, the most it keeps; request a new review."
            )
        d["comments"] = [*(d.get("comments") or []), comment]

    return _change(db, review, edit), comment


def _in_base(ctx: AppContext, who: Principal, review: dict[str, Any], node_id: str) -> bool:
    """Whether the published version the review compares with had that step (a removed one)."""
    if not review.get("base_version"):
        return False
    base = trees.get_version(ctx, who, review["tree_id"], review["base_version"])
    return node_id in (base["tree"].get("nodes") or {})


def withdraw(ctx: AppContext, who: Principal, tree_id: str, review_id: str) -> dict[str, Any]:
    """The requester (or an admin) takes a review back."""
    draft = trees.get_tree(ctx, who, tree_id)
    db = trees.trees_db(ctx, who.tenant_id)
    review = _get(db, draft["_id"], review_id)
    if trees.person_of(who) != review["requested_by"] and not who.is_admin:
        raise Forbidden("Only whoever requested a review (or an admin) withdraws it.")
    return withdraw_in(db, review)


def withdraw_in(db: Database, review: dict[str, Any]) -> dict[str, Any]:
    """Mark `review` withdrawn, checking its status on every read inside the save retry: a
    review published (or decided) meanwhile keeps what happened to it."""

    def edit(d: dict[str, Any]) -> None:
        if d["status"] not in rules.LIVE and d["status"] != rules.CHANGES_REQUESTED:
            raise Conflict(f"Review {d['review_id']} is already {d['status'].replace('_', ' ')}.")
        d.update(status=rules.WITHDRAWN, withdrawn_at=iso())

    return _change(db, review, edit)


# --- publishing -----------------------------------------------------------------------------


def publish_gate(
    ctx: AppContext, who: Principal
) -> Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None]:
    """What `trees.publish` asks about the exact draft revision it is about to freeze."""

    def gate(draft: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any] | None:
        if not require_approval(ctx, who.tenant_id):
            return None
        reviews = list_reviews(trees.trees_db(ctx, who.tenant_id), draft["_id"])
        review = rules.approval_for(
            reviews, draft["_rev"], lambda user_id: still_reviews(ctx, who.tenant_id, user_id)
        )
        if review is None:
            editor = rules.last_editor(meta, draft["_rev"])
            raise Conflict(
                rules.refusal(reviews, draft["_rev"], display_name(ctx, who.tenant_id, editor)).replace(
                    "{id}", draft["_id"]
                ),
                error="approval_required",
            )
        return {
            "id": review["review_id"],
            "requested_by": review["requested_by"],
            "approved_by": review["decided_by"],
            "approved_at": review["decided_at"],
        }

    return gate


def mark_published(ctx: AppContext, tenant_id: str, tree_id: str, review_id: str, version: int) -> None:
    db = trees.trees_db(ctx, tenant_id)
    review = get_or_none(db, review_doc_id(tree_id, review_id))
    if review is not None:
        # Unconditional: the version is out, approved by this review; that is what happened to
        # it, whatever was written to the review since the publish checked it.
        _change(db, review, lambda d: d.update(status=rules.PUBLISHED, published_version=version))
