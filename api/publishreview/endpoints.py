"""Routes: publish reviews of tree drafts, and the workspace's `require_approval` setting.

Not the freshness review (`POST /trees/{id}/review-done`): see `rules.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from sync.access import Principal
from sync.errors import BadRequest

from ..audit import service as audit
from ..core.context import AppContext
from ..core.deps import AdminDep, AuthorDep, CtxDep, Page, PageDep, PrincipalDep, client_address
from ..core.openapi import errors
from ..mail import service as mail
from . import service

router = APIRouter(prefix="/api/v1", tags=["reviews"])

ReviewStatus = Literal["open", "approved", "changes_requested", "withdrawn", "superseded", "published"]


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=2000, description="What changed and what to look at.")


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(default="", max_length=4000, description="Required when requesting changes.")


class ReviewComment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node_id: str | None = Field(
        default=None, max_length=64, description="The step commented on; left out for the whole draft."
    )
    body: str = Field(min_length=1, max_length=4000)


class PublishingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    require_approval: bool = Field(
        description="Publishing needs an approved review of the exact draft revision, by someone "
        "other than its last editor."
    )


@router.get("/tenant/publishing")
def get_publishing(who: PrincipalDep, ctx: CtxDep) -> dict:
    """The workspace's publishing rules: `require_approval`, and whether the caller may approve
    reviews (`you_review`)."""
    return {
        "require_approval": service.require_approval(ctx, who.tenant_id),
        "you_review": service.is_reviewer(ctx, who),
    }


@router.put("/tenant/publishing")
def put_publishing(body: PublishingSettings, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Turn required approval on or off (owners and admins)."""
    before = service.require_approval(ctx, who.tenant_id)
    after = service.set_require_approval(ctx, who.tenant_id, body.require_approval)
    if before != after:
        audit.record(
            ctx,
            who,
            "publishing_settings.changed",
            "tenant",
            who.tenant_id,
            ip=client_address(request),
            details={"require_approval": {"from": before, "to": after}},
        )
    return {"require_approval": after, "you_review": service.is_reviewer(ctx, who)}


def _audit(
    ctx: AppContext, who: Principal, request: Request, action: str, review: dict, **details: object
) -> None:
    audit.record(
        ctx,
        who,
        action,
        "tree",
        review["tree_id"],
        ip=client_address(request),
        details={"review_id": review["review_id"], "rev": review["rev"], **details},
    )


def _emailed(ctx: AppContext, who: Principal, review: dict, *, decided: bool) -> dict:
    """E-mail the people a review concerns (the reviewers of a request, the requester of a
    decision); the answer's `mail` notice says who, or why nobody."""
    from ..trees import service as trees  # noqa: PLC0415

    title = trees.get_tree(ctx, who, review["tree_id"]).get("title") or review["tree_id"]
    send = mail.review_decided if decided else mail.review_requested
    return send(ctx, who, review, str(title))


def _offset(page: Page) -> int:
    after = page.after() or 0
    if not isinstance(after, int) or after < 0:
        raise BadRequest("The cursor is not valid: pass back next_cursor exactly as a list returned it.")
    return after


@router.get("/reviews")
def reviews_waiting(
    who: PrincipalDep,
    ctx: CtxDep,
    page: PageDep,
    status: Annotated[
        ReviewStatus, Query(description="Which reviews: `open` ones wait for a reviewer.")
    ] = "open",
) -> dict:
    """Publish reviews of every tree in one `status`, newest first, each with `tree_title`:
    what waits for a reviewer (`open`, the default), or for its author (`changes_requested`)."""
    items = service.waiting(ctx, who, status)
    offset = _offset(page)
    return page.answer(items[offset : offset + page.limit + 1], lambda _item: offset + page.limit)


@router.get("/trees/{tree_id}/reviews")
def list_reviews(tree_id: str, who: PrincipalDep, ctx: CtxDep, page: PageDep) -> dict:
    """The draft's publish reviews, newest first, `{items, next_cursor}`. `current` tells
    whether a review is of the draft as it is now: an approval counts only then."""
    reviews = service.reviews_of(ctx, who, tree_id)  # an unknown tree is a 404 before any cursor
    offset = _offset(page)
    items = reviews[offset : offset + page.limit + 1]
    return page.answer(items, lambda _item: offset + page.limit)


@router.post(
    "/trees/{tree_id}/reviews",
    status_code=201,
    responses=errors({409: "This revision already has a review."}),
)
def request_review(tree_id: str, body: ReviewRequest, who: AuthorDep, ctx: CtxDep, request: Request) -> dict:
    """Request a review of the draft as it is now (its `_rev` is pinned). A live review of an
    older revision is superseded. The workspace's reviewers who can reach the tree (owners,
    admins, named reviewers; not you) are e-mailed: the answer's `mail` is `{configured, queued:
    [{id, to, status}], reason}` (who, or why nobody; see GET /api/v1/mail)."""
    review = service.request_review(ctx, who, tree_id, body.note)
    _audit(ctx, who, request, "tree.review_requested", review, note=review["note"])
    email = _emailed(ctx, who, review, decided=False)
    return {**service.public(review, review["rev"]), "mail": email}


@router.get("/trees/{tree_id}/reviews/{review_id}")
def get_review(tree_id: str, review_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """One review with its comments."""
    return service.get_review(ctx, who, tree_id, review_id)


@router.post(
    "/trees/{tree_id}/reviews/{review_id}/approve",
    responses=errors(
        {
            403: "You are not a reviewer, or you are the draft's last editor.",
            409: "The review is not open, or the draft changed since it was requested.",
        }
    ),
)
def approve(
    tree_id: str,
    review_id: str,
    who: PrincipalDep,
    ctx: CtxDep,
    request: Request,
    body: ReviewDecision | None = None,
) -> dict:
    """Approve the reviewed revision (admins, owners and named reviewers, never its last
    editor). Publishing that exact revision is then allowed; any edit makes it need a new one.
    The requester is e-mailed (the answer's `mail` says so, as for a request)."""
    comment = (body or ReviewDecision()).comment
    review = service.decide(ctx, who, tree_id, review_id, approve=True, comment=comment)
    _audit(ctx, who, request, "tree.review_approved", review, comment=review["decision_comment"])
    email = _emailed(ctx, who, review, decided=True)
    return {**service.public(review, review["rev"]), "mail": email}


@router.post("/trees/{tree_id}/reviews/{review_id}/reject")
def reject(
    tree_id: str, review_id: str, body: ReviewDecision, who: PrincipalDep, ctx: CtxDep, request: Request
) -> dict:
    """Request changes: the review ends with the reviewer's `comment` for the author, who edits
    the draft and requests a new review. The requester is e-mailed (the answer's `mail`)."""
    review = service.decide(ctx, who, tree_id, review_id, approve=False, comment=body.comment)
    _audit(ctx, who, request, "tree.review_rejected", review, comment=review["decision_comment"])
    email = _emailed(ctx, who, review, decided=True)
    return {**service.as_now(ctx, who, review), "mail": email}


@router.post("/trees/{tree_id}/reviews/{review_id}/comments", status_code=201)
def comment(
    tree_id: str, review_id: str, body: ReviewComment, who: PrincipalDep, ctx: CtxDep, request: Request
) -> dict:
    """Comment on one step (`node_id`) or on the whole draft. Answers the comment."""
    review, added = service.add_comment(ctx, who, tree_id, review_id, node_id=body.node_id, body=body.body)
    _audit(
        ctx, who, request, "tree.review_commented", review, comment_id=added["id"], node_id=added["node_id"]
    )
    return added


@router.post("/trees/{tree_id}/reviews/{review_id}/withdraw")
def withdraw(tree_id: str, review_id: str, who: AuthorDep, ctx: CtxDep, request: Request) -> dict:
    """The requester (or an admin) withdraws a review."""
    review = service.withdraw(ctx, who, tree_id, review_id)
    _audit(ctx, who, request, "tree.review_withdrawn", review)
    return service.as_now(ctx, who, review)
