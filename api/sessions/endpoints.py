"""Routes: sessions as events over the API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Query, Request, Response

from ..audit import service as audit
from ..clients.repository import normalize_client_id
from ..core.deps import CtxDep, PageDep, PrincipalDep, client_address, principal_of
from ..core.direct import DirectRequest
from ..core.offload import quick_or_worker
from ..core.openapi import errors
from . import listing, posting, service
from .schemas import EVENT_EXAMPLES, SaveToClient, SessionCreate, SessionUpdate

router = APIRouter(prefix="/api/v1")

EventBody = Annotated[
    dict[str, Any],
    Body(openapi_examples=EVENT_EXAMPLES, description="One event: `type` plus its fields (DOCUMENTS.md)."),
]


@router.post(
    "/sessions",
    status_code=201,
    tags=["sessions"],
    responses=errors(
        {
            404: "No such tree (or client) in your tenant.",
            409: "The tree was never published, or is archived.",
        }
    ),
)
def start_session(body: SessionCreate, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Start a session on a published tree version (the latest when `version` is left out).

    A tree that was never published, or an archived one without an explicit `version`, is
    refused with 409. Answers the folded state (`status`, `current_node`, `path`, ...) plus
    `header`, the session's header document with its `_rev`.
    """
    return service.start_session(ctx, who, body.model_dump(exclude_none=True))


@router.get(
    "/sessions", tags=["sessions"], responses=errors({404: "No such client (the `client_id` filter)."})
)
def list_sessions(
    who: PrincipalDep,
    ctx: CtxDep,
    page: PageDep,
    scope: Annotated[
        Literal["mine", "shared", "all"] | None,
        Query(
            description="mine: started by you; shared: shared with you; all: every session "
            "(owners and admins). Left out: every session you may open."
        ),
    ] = None,
    tree_id: Annotated[str | None, Query(max_length=200)] = None,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[Literal["in_progress", "completed", "abandoned"] | None, Query()] = None,
    from_: Annotated[
        str | None,
        Query(alias="from", max_length=40, description="Started on or after (2026-11-26 or an ISO time)."),
    ] = None,
    to: Annotated[
        str | None, Query(max_length=40, description="Started on or before (a date includes the whole day).")
    ] = None,
) -> dict:
    """Session headers, newest first: `{items, next_cursor}`, filtered by scope, tree, client,
    status and start date."""
    if tree_id and not tree_id.startswith("tree:"):
        tree_id = "tree:" + tree_id
    if client_id:
        client_id = normalize_client_id(client_id)
    rows = listing.list_sessions(
        ctx,
        who,
        scope=scope,
        tree_id=tree_id,
        client_id=client_id,
        status=status,
        from_ms=listing.parse_time(from_),
        to_ms=listing.parse_time(to, end=True),
        limit=page.limit + 1,
        after=page.after(),
    )
    return page.answer(rows, listing.cursor_of)


@router.get("/sessions/{session_id}", tags=["sessions"])
def get_session(session_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """The folded state (`status`, `current_node`, `path`, `notes`, ...; see tests/golden/README.md)
    plus `header`. Conflicting header revisions are merged before answering."""
    return service.get_session(ctx, who, session_id)


@router.patch(
    "/sessions/{session_id}",
    tags=["sessions"],
    responses=errors({409: "The `_rev` is stale: load the session again."}),
)
def update_session(
    session_id: str, body: SessionUpdate, who: PrincipalDep, ctx: CtxDep, request: Request
) -> dict:
    """Change `ticket`, `title`, `client_id`, and (owner or admin only) `shared_with` or
    `owner_id`, at the header's `_rev`; a stale `_rev` is a 409. Answers like GET."""
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    state = service.update_header(ctx, who, session_id, changes)
    if sharing := {k: v for k, v in changes.items() if k in ("shared_with", "owner_id")}:
        audit.record(
            ctx,
            who,
            "session.sharing_changed",
            "session",
            session_id,
            ip=client_address(request),
            details=sharing,
        )
    return state


@router.post(
    "/sessions/{session_id}/events",
    status_code=201,
    tags=["sessions"],
    responses=errors({409: "The event does not fit the session's current state."}),
)
async def post_event(session_id: str, body: EventBody, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Record one event. The server fills `user_id` (yours), `ts` (now, unless given),
    `device_id` ("api" unless given), `session_id` and `_id`.

    Fields are checked per type (400). An `answered` event for a node that is not the current
    one is a 409 naming the current node; events that need a running session on a completed
    one are a 409; an answer the node does not offer is a 400. Answers the new state plus
    `header` and the stored `event`. Posting an event again with the same `_id` and content
    is answered like the first time, so a client may retry safely. An `exported` event (notes
    exported by the client itself) is filed in the audit log as `session.exported` with
    `via: device`.
    """
    # Requests reach `post_event_direct` below (api/core/direct.py); this declaration is
    # the route's OpenAPI description, and answers the same way if ever reached.
    answer = await _record_event(ctx, who, session_id, body)
    return Response(answer, status_code=201, media_type="application/json")  # type: ignore[return-value]


async def _record_event(ctx: Any, who: Any, session_id: str, body: dict[str, Any]) -> bytes:
    # The busiest route of a team at work: answered on the event loop when nothing in it
    # would wait, else with one trip to a worker thread (api/core/offload.py), and the
    # answer serialised here rather than validated again against `dict`.
    state = await quick_or_worker(ctx.store, posting.post_event, ctx, who, session_id, body)
    return orjson.dumps(state)


POST_EVENT_PATH = r"^/api/v1/sessions/(?P<session_id>[^/]+)/events$"


async def post_event_direct(ctx: Any, request: DirectRequest) -> tuple[int, bytes]:
    """`post_event` as a direct route, in the framework's order: the body read and parsed
    (413, unparsable JSON), then the caller (401, 403), then the body's shape."""
    body = await request.json_body()
    who = await principal_of(ctx, request.header(b"authorization"), request.client_host)
    return 201, await _record_event(ctx, who, request.params["session_id"], request.json_object(body))


@router.post("/sessions/{session_id}/save-to-client", tags=["sessions"])
def save_to_client(session_id: str, body: SaveToClient, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Save the value entered at an input node (one with `save_to_client: "X"`) into the
    session's client context as `values.X`. Answers `{ok, client, key, value}`."""
    return service.save_to_client(ctx, who, session_id, body.node_id)
