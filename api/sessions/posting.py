"""Recording one event over the API (`POST /api/v1/sessions/{id}/events`).

The event is checked by the schema devices' writes pass (`events.py`), then against the
session's state: it is folded once, together with the stored events, and an event the fold
would ignore is refused with the fold's reason (409 for a step out of turn or a session
that has ended, 400 for an answer the tree does not offer). The answer is that same fold:
the session is read once (header and events in one read, `service.load`) and folded once.
"""

from __future__ import annotations

from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, Conflict, Forbidden
from sync.nonblocking import WouldBlock, is_nonblocking
from sync.store import Database

from ..core.context import AppContext
from ..core.docs import check_write_limits, retry_on_conflict
from ..core.timeutil import now_ms
from . import access, events, merge, repository as repo
from .fold import FoldProgress
from .header_merge import merge_conflicts
from .ids import ulid
from .service import Loaded, load, public_header
from .state_cache import Folded, Watch

_ACTION_ANSWERS = ("done", "failed", "skipped")
# The longest session whose events are folded on the event loop (see `post_event`): a fold
# of this many takes about a millisecond; longer ones go to a worker thread.
INLINE_MAX_EVENTS = 300


def _offered(node: dict[str, Any]) -> list[Any]:
    kind = node.get("type")
    if kind == "question":
        return ["yes", "no"]
    if kind == "action":
        return list(_ACTION_ANSWERS)
    if kind == "choice":
        return [o.get("id") for o in node.get("options") or [] if isinstance(o, dict)]
    if kind == "input":
        return ["submitted"]
    return []


def build_event(who: Principal, sid: str, body: dict[str, Any], tree: dict[str, Any]) -> dict[str, Any]:
    """Validate one event as posted and fill in what the API supplies (ids, user, time, device)."""
    if not isinstance(body, dict):
        raise BadRequest("The body must be one event: a JSON object with a `type`.")
    user_id = body.get("user_id")
    if user_id is not None and user_id != who.user_id:
        raise Forbidden(
            f"An event's user_id must be your own ({who.user_id}); leave it out to have it filled in."
        )
    if body.get("session_id") not in (None, sid):
        raise BadRequest(f"The event's session_id {body.get('session_id')!r} is not this session ({sid}).")
    docid = body.get("_id")
    if docid is None:
        docid = repo.event_id(sid, ulid())
    elif (
        not isinstance(docid, str)
        or not docid.startswith(repo.event_prefix(sid))
        or repo.EVENT_ID_RE.match(docid) is None
    ):
        raise BadRequest(f"An event's _id must be {repo.event_prefix(sid)}{{ulid}} (or left out).")
    # What the API supplies is filled in first, so the event is checked exactly as stored,
    # by the same schema the sync endpoints apply to events written by devices.
    filled = {"ts": now_ms(), "device_id": "api"}
    candidate = {k: v for k, v in body.items() if v is not None or k not in filled}
    candidate = {**filled, **candidate, "user_id": who.user_id, "session_id": sid}
    problem = events.event_problem(candidate)
    if problem:
        raise BadRequest(problem)
    etype = candidate["type"]
    if etype in events.SERVER_ONLY_EVENT_TYPES:
        raise Forbidden(
            f"{etype} events are written by the server when an RMM run ends; "
            "ask for a run with POST /api/v1/sessions/{id}/script-runs."
        )
    spec = events.event_fields(etype)

    nodes: dict[str, Any] = tree["nodes"] if isinstance(tree.get("nodes"), dict) else {}
    node_id = body.get("node_id")
    if "node_id" in spec and node_id not in nodes:
        raise BadRequest(
            f"The tree has no node {node_id!r}; node ids of this version: {', '.join(sorted(nodes)[:30])}."
        )
    node = nodes.get(node_id) if isinstance(node_id, str) else None
    if etype == "answered":
        offered = _offered(node or {})
        if not offered:
            raise BadRequest(
                f"Node {node_id!r} is a {node.get('type') if node else 'missing'} node; "
                "it takes no answer (complete the session instead)."
            )
        if body["answer"] not in offered:
            raise BadRequest(
                f"{body['answer']!r} is not an answer node {node_id!r} offers; "
                f"it offers {', '.join(map(str, offered))}."
            )
        if "value" in body and (node or {}).get("type") != "input":
            raise BadRequest("`value` belongs to answers of input nodes only.")
    if etype == "input_value" and (node or {}).get("type") != "input":
        raise BadRequest(f"Node {node_id!r} is not an input node; drafts are for input nodes only.")

    event = {
        "_id": docid,
        "type": etype,
        "schema_version": 1,
        "session_id": sid,
        "ts": candidate["ts"],
        "device_id": candidate["device_id"],
        "user_id": who.user_id,
    }
    for name in spec:
        if body.get(name) is not None:
            event[name] = body[name]
    if etype == "note" and "note_id" not in event:
        event["note_id"] = ulid()
    return event


_REFUSALS = {
    "not_in_progress": (Conflict, "The session is {status}; reopen it (a reopened event) before {what}."),
    "not_ended": (
        Conflict,
        "The session is in progress; only a completed or abandoned session can be reopened.",
    ),
    "nothing_to_undo": (
        Conflict,
        "There is nothing to step back over: no answer or custom step is in force.",
    ),
    "bad_answer": (BadRequest, "The answer does not fit node {node}."),
    "unknown_next": (
        BadRequest,
        "That answer leads to a node missing from the tree version; "
        "the tree needs fixing (and publishing again).",
    ),
    "not_an_input": (BadRequest, "Node {node} is not an input node."),
    "unknown_node": (BadRequest, "The tree has no node {node}."),
    "bad_fields": (BadRequest, "The event's fields do not fit its type."),
    "unknown_type": (BadRequest, "Unknown event type."),
}


def _same_event(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if not k.startswith("_")} == {
        k: v for k, v in b.items() if not k.startswith("_")
    }


def post_event(ctx: AppContext, who: Principal, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Validate, check against the session's state, store one event; answer the new state.

    May run on the event loop in the store's non-blocking mode (`api/core/offload.py`):
    everything that could make it wait, or that writes a second document (a status to
    mirror, an export to file, header conflicts to merge), raises `WouldBlock` before the
    event is stored, and the endpoint starts over on a worker thread. After the event is
    stored nothing may refuse: a retry would store the event again."""
    if who.role == "viewer":
        raise Forbidden("Viewers cannot record session events; ask an admin for the engineer role.")
    states = ctx.session_states
    if states is None:
        return _post_event(ctx, who, session_id, body, None)
    with states.watch(who.tenant_id, repo.normalize_sid(session_id)) as watch:
        return _post_event(ctx, who, session_id, body, watch)


def _post_event(
    ctx: AppContext, who: Principal, session_id: str, body: dict[str, Any], watch: Watch | None
) -> dict[str, Any]:
    loaded = load(ctx, who, session_id, watch=watch)
    if len(loaded.events) > INLINE_MAX_EVENTS:
        _leave_the_loop(ctx, watch, loaded)  # a long fold would hold up every other request
    header = loaded.header
    access.require_write(who, header)
    event = build_event(who, loaded.sid, body, loaded.tree)
    if event["type"] == "attachment_added":
        access.require_attachment_stored(ctx, who.tenant_id, loaded.sid, event.get("attachment_id"))

    kept = _kept_fold(ctx, watch, loaded)
    # Only an id the client chose can be a retry; one the server just made is new. A kept
    # fold knows every folded event's id, so only an id it has seen, or an `exported`
    # event's (never folded), needs the session's events searched.
    retried = body.get("_id") is not None  # build_event refused anything but an object
    if retried and (kept is None or event["type"] == "exported" or event["_id"] in kept.seen_ids):
        existing = next((e for e in loaded.events if e.get("_id") == event["_id"]), None)
    else:
        existing = None  # a new id equal to an `exported` event's fails at the `put` below
    if existing is not None:
        # Nothing is written: the fold taken goes back with the session, unchanged.
        state = kept.state(now_ms(), copy=True) if kept is not None else None
        _give_back(ctx, watch, loaded, kept)
        if not _same_event(existing, event):
            raise Conflict(
                f"An event {event['_id']} already exists with other content; events are "
                "written once. Send a new event (leave _id out)."
            )
        if existing["type"] == "exported":
            _leave_the_loop(ctx, watch, loaded)  # filing writes a second document
            _file_export(ctx, who, loaded.sid, existing)  # a retry after a failed filing
        return {**(state or loaded.fold()), "header": public_header(header), "event": existing}

    events = [*loaded.events, event]
    # Applied to the fold kept in memory when the event comes after all it applied (nearly
    # always: its `ts` is now); else the whole session is folded.
    progress = kept if kept is not None and kept.then(event) else loaded.progress(events)
    # A copy: the progress is kept for the next step and changes then, while this state is
    # still to be sent.
    state = progress.state(now_ms(), copy=True)
    verdict = next((i for i in state["ignored"] if i["event_id"] == event["_id"]), None)
    if verdict is not None:
        # An ignored event changes nothing, so this state's node and status are the session's.
        _refuse(event, verdict["reason"], state)
    check_write_limits(ctx, loaded.db, event)
    if event["type"] == "exported" or state["status"] != header.get("status"):
        _leave_the_loop(ctx, watch, loaded)  # a second write follows the event's
    try:
        res = loaded.db.put(event)
    except Conflict:
        raise Conflict(
            f"An event {event['_id']} already exists; leave _id out to record a new one."
        ) from None
    event["_rev"] = res["rev"]
    if event["type"] == "exported":
        _file_export(ctx, who, loaded.sid, event)
    if state["status"] != header.get("status"):
        header = mirror_status(loaded.db, loaded.sid, header, state["status"])
    elif watch is not None and ctx.session_states is not None:
        # The next step starts from here, unless someone else wrote to the session meanwhile.
        ctx.session_states.keep(
            watch, header, events, own_writes=1, fold=Folded(progress, loaded.fold_basis())
        )
    return {**state, "header": public_header(header), "event": event}


def _kept_fold(ctx: AppContext, watch: Watch | None, loaded: Loaded) -> FoldProgress | None:
    """The fold of the session as held in memory, taken for this request; None when there
    is none to use (not held, or folded over something that has changed since)."""
    states = ctx.session_states
    if watch is None or states is None or watch.hit is None:
        return None
    folded = states.take_fold(watch)
    if folded is None or folded.basis != loaded.fold_basis():
        return None
    return folded.progress


def _give_back(ctx: AppContext, watch: Watch | None, loaded: Loaded, kept: FoldProgress | None) -> None:
    """Hold the session again with the fold `_kept_fold` took, when nothing was applied to it."""
    if kept is not None and watch is not None and ctx.session_states is not None:
        ctx.session_states.keep(
            watch, loaded.header, loaded.events, own_writes=0, fold=Folded(kept, loaded.fold_basis())
        )


def _leave_the_loop(ctx: AppContext, watch: Watch | None, loaded: Loaded) -> None:
    """On the event loop: start over on a worker thread (`WouldBlock`), nothing written yet.
    The session as read is kept for the retry, which then does not read it again."""
    if not is_nonblocking():
        return
    if watch is not None and ctx.session_states is not None:
        ctx.session_states.keep(watch, loaded.header, loaded.events, own_writes=0)
    raise WouldBlock()


def _file_export(ctx: AppContext, who: Principal, sid: str, event: dict[str, Any]) -> None:
    """File an `exported` event in the audit log, once per event (`device_exports`)."""
    from ..audit import device_exports  # noqa: PLC0415  (audit reads the sessions' documents)

    device_exports.file(ctx, who, sid, event, who.extra.get("address"))


def _refuse(event: dict[str, Any], reason: str, state: dict[str, Any]) -> None:
    current, status = state["current_node"], state["status"]
    if reason == "not_current":
        raise Conflict(
            f"Node {event.get('node_id')!r} is not the current node; the session stands at "
            f"{current!r}. Reload the session and answer the current node.",
            details={"current_node": current, "status": status},
        )
    cls, text = _REFUSALS.get(reason, (BadRequest, "The event cannot be applied ({reason})."))
    what = "recording more steps" if event["type"] != "completed" else "completing it again"
    raise cls(
        text.format(status=status, what=what, node=repr(event.get("node_id")), reason=reason),
        details={"reason": reason, "current_node": current, "status": status},
    )


def mirror_status(db: Database, sid: str, header: dict[str, Any], status: str) -> dict[str, Any]:
    """Mirror the fold's status into the header, starting from the header in hand; a concurrent
    edit makes it read the header again and retry. Answers the header as stored (after
    repeated conflicts, as last read: the status is mirrored by the next event)."""
    in_hand = [header]  # the header the next attempt starts from

    def attempt() -> dict[str, Any]:
        current = in_hand.pop() if in_hand else _header_as_stored(db, sid)
        doc = merge.apply_edit(
            {k: v for k, v in current.items() if k != "_conflicts"}, {"status": status}, now_ms()
        )
        if doc is None:
            return current
        doc["_rev"] = db.put(doc)["rev"]
        return doc

    return retry_on_conflict(
        attempt,
        busy=f"could not mirror status {status} into session {sid}",
        give_up=lambda: _header_as_stored(db, sid),
    )


def _header_as_stored(db: Database, sid: str) -> dict[str, Any]:
    """The header read again, its conflicts merged first if it has any."""
    header = repo.get_header(db, sid, conflicts=True)
    if header.get("_conflicts"):
        merge_conflicts(db, sid)
        header = repo.get_header(db, sid, conflicts=True)
    return header
