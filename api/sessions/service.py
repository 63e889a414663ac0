"""Sessions over the API, for clients that are not PouchDB (scripts, PSA connectors, exports).

A session is a header `session:{sid}` plus immutable events `session:{sid}:ev:{ulid}` in the
tenant's `sessions` database (DOCUMENTS.md). The API writes exactly what a device would
write, so a session started here continues on a phone and the other way round. Its state is
always `fold_session` over the pinned tree version; the header's `status` only mirrors it
for listings, and is kept in step when an event completes, abandons or reopens a session.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, Conflict, Forbidden, NotFound
from sync.store import Database

from ..core.context import AppContext
from ..core.docs import check_write_limits, get_or_none
from ..core.timeutil import now_ms
from ..trees import service as trees
from ..trees.models import tree_version_doc_id
from ..users import repository as users
from . import access, events, merge, repository as repo
from .fold import fold_session
from .ids import ulid

log = logging.getLogger("branchline.sessions")

HEADER_FIELDS_PUBLIC = ("type", "schema_version", "tree_id", "tree_version", "ticket", "client_id", "title", "owner_id",
                        "shared_with", "status", "created_at", "updated_at", "device_id", "edited",
                        "edited_values", "history")


# --- reading ---------------------------------------------------------------------------------

def public_header(header: dict[str, Any]) -> dict[str, Any]:
    out = {"_id": header["_id"], "_rev": header.get("_rev"), "id": header["_id"],
           "session_id": header["_id"][len("session:"):]}
    for key in HEADER_FIELDS_PUBLIC:
        out[key] = header.get(key)
    if out["history"] is None:
        out["history"] = []
    if header.get("_conflicts"):
        out["_conflicts"] = header["_conflicts"]
    return out


def _load_header(ctx: AppContext, who: Principal, session_id: str) -> tuple[Database, str, dict[str, Any]]:
    sid = repo.normalize_sid(session_id)
    db = repo.sessions_db(ctx, who.tenant_id)
    header = repo.get_header(db, sid, conflicts=True)
    access.require_open(who, header)
    if header.get("_conflicts"):
        merge_conflicts(db, sid)
        header = repo.get_header(db, sid, conflicts=True)
    return db, sid, header


def _pinned_version(ctx: AppContext, who: Principal, header: dict[str, Any]) -> dict[str, Any]:
    tree_id, version = header.get("tree_id"), header.get("tree_version")
    if not isinstance(tree_id, str) or not isinstance(version, int) or isinstance(version, bool):
        raise Conflict(f"The session header {header['_id']} pins no tree version (tree_id and "
                       "tree_version are missing or malformed); it cannot be folded.")
    try:
        return trees.get_version(ctx, who, tree_id, version)
    except NotFound:
        raise NotFound(f"The session pins {tree_id} version {version}, which this tenant does not "
                       "have (yet: it may still be replicating from a device).") from None


def _client_for(ctx: AppContext, who: Principal, header: dict[str, Any]) -> dict[str, Any] | None:
    client_id = header.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        return None
    return repo.get_client_or_none(repo.clients_db(ctx, who.tenant_id), client_id)


def _fold(tree: dict, events: list[dict], header: dict, client: dict | None) -> dict[str, Any]:
    # The clock only counts while a session runs; an ended one measures to its end.
    return fold_session(tree, events, header, client, now_ms())


def get_session_bundle(ctx: AppContext, who: Principal, session_id: str) -> dict[str, Any]:
    """Everything an export needs: `{header, events, tree, tree_version, client, state}`.

    `tree` is the pinned version's tree dict, `tree_version` the version document, `client`
    the client context document or None, `state` the fold. Header conflicts are merged first.
    Raises NotFound (no such session or pinned version) or Forbidden (not the caller's).
    """
    db, sid, header = _load_header(ctx, who, session_id)
    version_doc = _pinned_version(ctx, who, header)
    events = repo.load_events(db, sid)
    client = _client_for(ctx, who, header)
    state = _fold(version_doc["tree"], events, header, client)
    return {"header": header, "events": events, "tree": version_doc["tree"],
            "tree_version": version_doc, "client": client, "state": state}


def session_view(bundle: dict[str, Any]) -> dict[str, Any]:
    """The API's answer for one session: the folded state plus `header`."""
    return {**bundle["state"], "header": public_header(bundle["header"])}


def get_session(ctx: AppContext, who: Principal, session_id: str) -> dict[str, Any]:
    return session_view(get_session_bundle(ctx, who, session_id))


# --- starting --------------------------------------------------------------------------------

def _text(body: dict[str, Any], key: str, *, max_len: int = 500) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"`{key}` must be a string (or left out).")
    value = value.strip()
    if len(value) > max_len:
        raise BadRequest(f"`{key}` is longer than {max_len} characters; shorten it.")
    return value or None


def _check_users(ctx: AppContext, who: Principal, ids: Any) -> list[str]:
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest("`shared_with` must be a list of user ids (from GET /api/v1/users).")
    out: list[str] = []
    for user_id in ids:
        if user_id in out:
            continue
        user = users.get_user(ctx.system, who.tenant_id, user_id)
        if user is None:
            raise BadRequest(f"No user {user_id!r} in this tenant to share with; "
                             "take ids from GET /api/v1/users.")
        out.append(user_id)
    return out


def _resolve_client(ctx: AppContext, who: Principal, raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise BadRequest("`client_id` must be a string such as client:contoso.")
    client_id = repo.normalize_client_id(raw)
    if repo.get_client_or_none(repo.clients_db(ctx, who.tenant_id), client_id) is None:
        raise NotFound(f"No client {client_id} in this tenant; create it with POST /api/v1/clients "
                       "or leave client_id out.")
    return client_id


def start_session(ctx: AppContext, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Create a header pinned to a published version (the latest when `version` is absent)."""
    if who.role == "viewer":
        raise Forbidden("Viewers read trees but do not run sessions; ask an admin for the engineer role.")
    raw_tree = body.get("tree_id")
    if not isinstance(raw_tree, str) or not raw_tree:
        raise BadRequest("`tree_id` is required, e.g. tree:citrix-vda-registration (see GET /api/v1/trees).")
    tree_id = trees.normalize_tree_id(raw_tree)
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise BadRequest("`version` must be a positive whole number (see GET /api/v1/trees/{id}/versions).")
    tdb = trees.trees_db(ctx, who.tenant_id)
    if version is None:
        draft = get_or_none(tdb, tree_id)
        latest = trees.get_meta(tdb, tree_id).get("latest_version")
        if draft is None and not latest:
            raise NotFound(f"No tree {tree_id} in this tenant.")
        if draft is not None and draft.get("archived"):
            raise Conflict(f"{tree_id} is archived; to run it anyway, pass the version to run "
                           "explicitly (see GET /api/v1/trees/{id}/versions).")
        if not latest:
            raise Conflict(f"{tree_id} has no published version yet; an author publishes it with "
                           f"POST /api/v1/trees/{tree_id}/publish before sessions can run it.")
        version = latest
    version_doc = get_or_none(tdb, tree_version_doc_id(tree_id, version))
    if version_doc is None:
        raise NotFound(f"{tree_id} has no version {version}; see GET /api/v1/trees/{tree_id}/versions.")
    client_id = _resolve_client(ctx, who, body.get("client_id"))
    shared = _check_users(ctx, who, body.get("shared_with") or [])
    sid = body.get("session_id")
    if sid is not None:
        if not isinstance(sid, str):
            raise BadRequest("`session_id` must be a ULID string (or left out to get a new one).")
        try:
            sid = repo.normalize_sid(sid)
        except NotFound:
            raise BadRequest("`session_id` must be a 26-character ULID such as 01JD3Z8Q6V9R1W0K2M4N5P7S8T.") from None
        access.require_not_deleted_by_other(ctx, who, sid)
    else:
        sid = ulid()
    device_id = _text(body, "device_id", max_len=100) or "api"
    now = now_ms()
    header = {
        "_id": repo.header_id(sid), "type": "session", "schema_version": 1,
        "tree_id": tree_id, "tree_version": version,
        "ticket": _text(body, "ticket"), "client_id": client_id,
        "title": _text(body, "title") or version_doc.get("tree", {}).get("title"),
        "owner_id": who.user_id, "shared_with": shared, "status": "in_progress",
        "created_at": now, "updated_at": now, "device_id": device_id,
    }
    header.update(merge.initial_marks(now, {f: header[f] for f in ("ticket", "client_id", "title",
                                                                   "shared_with", "status")}))
    db = repo.sessions_db(ctx, who.tenant_id)
    try:
        res = db.put(header)
    except Conflict:
        raise Conflict(f"A session {sid} already exists; leave session_id out to get a new id.") from None
    header["_rev"] = res["rev"]
    return get_session(ctx, who, sid)


# --- editing the header -------------------------------------------------------------------

EDITABLE_BY_PATCH = ("ticket", "title", "client_id", "shared_with", "owner_id")


def update_header(ctx: AppContext, who: Principal, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change ticket, title, client or sharing, at the header's `_rev` (stale: 409)."""
    if who.role == "viewer":
        raise Forbidden("Viewers cannot change sessions; ask an admin for the engineer role.")
    db, sid, header = _load_header(ctx, who, session_id)
    rev = body.get("_rev")
    if not isinstance(rev, str) or not rev:
        raise BadRequest("Send the header's `_rev` (from GET /api/v1/sessions/{id}, header._rev) so "
                         "a newer edit is never overwritten.")
    unknown = sorted(k for k in body if k != "_rev" and k not in EDITABLE_BY_PATCH)
    if unknown:
        raise BadRequest(f"These fields cannot be changed here: {', '.join(unknown)}; editable are "
                         f"{', '.join(EDITABLE_BY_PATCH)}.")
    if rev != header["_rev"]:
        raise Conflict(f"The session header changed since you loaded it (your _rev {rev} is stale, the "
                       f"current one is {header['_rev']}). Load it again, re-apply your change, and save.")
    access.require_write(who, header)
    is_owner = who.is_admin or header.get("owner_id") == who.user_id
    changes: dict[str, Any] = {}
    if "ticket" in body:
        changes["ticket"] = _text(body, "ticket")
    if "title" in body:
        changes["title"] = _text(body, "title")
    if "client_id" in body:
        changes["client_id"] = _resolve_client(ctx, who, body.get("client_id"))
    for field in ("shared_with", "owner_id"):
        if field in body and not is_owner:
            raise Forbidden(f"Only the session's owner or an admin may change {field}.")
    if "shared_with" in body:
        changes["shared_with"] = _check_users(ctx, who, body.get("shared_with"))
    if "owner_id" in body:
        owner = body.get("owner_id")
        if not isinstance(owner, str) or users.get_user(ctx.system, who.tenant_id, owner) is None:
            raise BadRequest("`owner_id` must be the id of a user of this tenant (GET /api/v1/users).")
        changes["owner_id"] = owner
    now = now_ms()
    doc = merge.apply_edit({k: v for k, v in header.items() if k not in ("_conflicts",)}, changes, now)
    if doc is None:
        return get_session(ctx, who, sid)  # nothing changed: no new revision, no moved marker
    try:
        db.put(doc)
    except Conflict:
        raise Conflict("The session header changed while saving; load it again and retry.") from None
    return get_session(ctx, who, sid)


def set_status(db: Database, sid: str, status: str) -> None:
    """Mirror the fold's status into the header (re-read and retried on a concurrent edit)."""
    for _ in range(5):
        doc = merge.apply_edit(repo.get_header(db, sid), {"status": status}, now_ms())
        if doc is None:
            return
        try:
            db.put(doc)
            return
        except Conflict:
            continue
    log.warning("could not mirror status %s into session %s after retries", status, sid)


# --- events ----------------------------------------------------------------------------------

EVENT_TYPES = events.EVENT_TYPES
_ACTION_ANSWERS = ("done", "failed", "skipped")


def _offered(node: dict[str, Any]) -> list[str]:
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
        raise Forbidden(f"An event's user_id must be your own ({who.user_id}); leave it out to have it filled in.")
    if body.get("session_id") not in (None, sid):
        raise BadRequest(f"The event's session_id {body.get('session_id')!r} is not this session ({sid}).")
    docid = body.get("_id")
    if docid is None:
        docid = repo.event_id(sid, ulid())
    elif not isinstance(docid, str) or not docid.startswith(repo.event_prefix(sid)) or \
            repo.EVENT_ID_RE.match(docid) is None:
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
    spec = events.event_fields(etype)

    nodes = tree.get("nodes") if isinstance(tree.get("nodes"), dict) else {}
    node_id = body.get("node_id")
    if "node_id" in spec and node_id not in nodes:
        raise BadRequest(f"The tree has no node {node_id!r}; node ids of this version: "
                         f"{', '.join(sorted(nodes)[:30])}.")
    node = nodes.get(node_id) if isinstance(node_id, str) else None
    if etype == "answered":
        offered = _offered(node or {})
        if not offered:
            raise BadRequest(f"Node {node_id!r} is a {node.get('type') if node else 'missing'} node; "
                             "it takes no answer (complete the session instead).")
        if body["answer"] not in offered:
            raise BadRequest(f"{body['answer']!r} is not an answer node {node_id!r} offers; "
                             f"it offers {', '.join(map(str, offered))}.")
        if "value" in body and node.get("type") != "input":
            raise BadRequest("`value` belongs to answers of input nodes only.")
    if etype == "input_value" and (node or {}).get("type") != "input":
        raise BadRequest(f"Node {node_id!r} is not an input node; drafts are for input nodes only.")

    event = {"_id": docid, "type": etype, "schema_version": 1, "session_id": sid, "ts": candidate["ts"],
             "device_id": candidate["device_id"], "user_id": who.user_id}
    for name in spec:
        if body.get(name) is not None:
            event[name] = body[name]
    if etype == "note" and "note_id" not in event:
        event["note_id"] = ulid()
    return event


_REFUSALS = {
    "not_in_progress": (Conflict, "The session is {status}; reopen it (a reopened event) before {what}."),
    "not_ended": (Conflict, "The session is in progress; only a completed or abandoned session can be reopened."),
    "nothing_to_undo": (Conflict, "There is nothing to step back over: no answer or custom step is in force."),
    "bad_answer": (BadRequest, "The answer does not fit node {node}."),
    "unknown_next": (BadRequest, "That answer leads to a node missing from the tree version; "
                                 "the tree needs fixing (and publishing again)."),
    "not_an_input": (BadRequest, "Node {node} is not an input node."),
    "unknown_node": (BadRequest, "The tree has no node {node}."),
    "bad_fields": (BadRequest, "The event's fields do not fit its type."),
    "unknown_type": (BadRequest, "Unknown event type."),
}


def post_event(ctx: AppContext, who: Principal, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Validate, check against the session's state, store one event; answer the new state."""
    if who.role == "viewer":
        raise Forbidden("Viewers cannot record session events; ask an admin for the engineer role.")
    bundle = get_session_bundle(ctx, who, session_id)
    header, events, tree = bundle["header"], bundle["events"], bundle["tree"]
    access.require_write(who, header)
    sid = header["_id"][len("session:"):]
    event = build_event(who, sid, body, tree)
    if event["type"] == "attachment_added":
        access.require_attachment_stored(ctx, who.tenant_id, sid, event.get("attachment_id"))
    db = repo.sessions_db(ctx, who.tenant_id)

    existing = next((e for e in events if e.get("_id") == event["_id"]), None)
    if existing is not None:
        same = {k: v for k, v in existing.items() if not k.startswith("_")} == \
            {k: v for k, v in event.items() if not k.startswith("_")}
        if not same:
            raise Conflict(f"An event {event['_id']} already exists with other content; events are "
                           "written once. Send a new event (leave _id out).")
        view = session_view(bundle)
        return {**view, "event": existing}

    before = bundle["state"]
    after = fold_session(tree, [*events, event], header, bundle["client"], None)
    verdict = next((i for i in after["ignored"] if i["event_id"] == event["_id"]), None)
    if verdict is not None:
        reason = verdict["reason"]
        if reason == "not_current":
            raise Conflict(
                f"Node {event.get('node_id')!r} is not the current node; the session stands at "
                f"{before['current_node']!r}. Reload the session and answer the current node.",
                details={"current_node": before["current_node"], "status": before["status"]})
        cls, text = _REFUSALS.get(reason, (BadRequest, "The event cannot be applied ({reason})."))
        raise cls(text.format(status=before["status"], what="recording more steps" if event["type"] != "completed"
                              else "completing it again", node=repr(event.get("node_id")), reason=reason),
                  details={"reason": reason, "current_node": before["current_node"], "status": before["status"]})
    check_write_limits(ctx, db, event)
    try:
        res = db.put(event)
    except Conflict:
        raise Conflict(f"An event {event['_id']} already exists; leave _id out to record a new one.") from None
    event["_rev"] = res["rev"]
    if after["status"] != header.get("status"):
        set_status(db, sid, after["status"])
    return {**get_session(ctx, who, sid), "event": event}


# --- saving an input's value into the client context ----------------------------------------------

def save_to_client(ctx: AppContext, who: Principal, session_id: str, node_id: Any) -> dict[str, Any]:
    """Write an input node's entered value to the session's client `values[save_to_client]`."""
    if who.role == "viewer":
        raise Forbidden("Viewers cannot change client contexts.")
    if not isinstance(node_id, str) or not node_id:
        raise BadRequest("`node_id` is required: the input node whose value to save.")
    bundle = get_session_bundle(ctx, who, session_id)
    access.require_write(who, bundle["header"])
    node = (bundle["tree"].get("nodes") or {}).get(node_id)
    if not isinstance(node, dict) or node.get("type") != "input":
        raise BadRequest(f"Node {node_id!r} is not an input node of this session's tree version.")
    key = node.get("save_to_client")
    if not isinstance(key, str) or not key:
        raise BadRequest(f"Input node {node_id!r} does not offer to save its value to the client "
                         "(it has no save_to_client).")
    client_id = bundle["header"].get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise Conflict("This session has no client; set client_id with PATCH /api/v1/sessions/{id} first.")
    state = bundle["state"]
    value = None
    for step in reversed(state["path"]):
        if step["node_id"] == node_id:
            value = step["value"]
            break
    if value is None:
        value = state["drafts"].get(node_id)
    if not isinstance(value, str) or value == "":
        raise Conflict(f"No value has been entered at {node_id!r} yet; answer it (or save a draft) first.")
    from . import clients  # noqa: PLC0415

    doc = clients.set_value(ctx, who, client_id, key, value)
    return {"ok": True, "client": doc, "key": key, "value": value}


# --- header conflicts ----------------------------------------------------------------------------

_merge_locks: dict[str, threading.Lock] = {}
_merge_locks_guard = threading.Lock()


def _merge_lock(key: str) -> threading.Lock:
    with _merge_locks_guard:
        if len(_merge_locks) > 10_000:
            _merge_locks.clear()
        return _merge_locks.setdefault(key, threading.Lock())


def merge_conflicts(db: Database, sid: str) -> bool:
    """Merge a header's conflicting leaves into one revision and delete the losers.

    Idempotent: without conflicts nothing is written. The feed follower and a reader may
    both try at once, so merges of one header take turns in this process; a write from
    elsewhere in between (another instance) makes the merge start over from a fresh read.
    Returns whether a merge was written.
    """
    docid = repo.header_id(sid)
    with _merge_lock(f"{db.name}/{docid}"):
        for _attempt in range(4):
            try:
                winner = db.get(docid, conflicts=True)
            except NotFound:
                return False
            losers = winner.get("_conflicts") or []
            if not losers:
                return False
            revisions = [winner]
            for entry in db.get_open_revs(docid, losers):
                if "ok" in entry and not entry["ok"].get("_deleted"):
                    revisions.append(entry["ok"])
            merged = merge.merge_headers(revisions)
            merged["_id"] = docid
            merged["_rev"] = winner["_rev"]
            try:
                db.put(merged)
            except Conflict:
                continue  # changed meanwhile: merge again from what is stored now
            # Only once the merged revision (holding every losing value) is stored are the
            # losers closed; should this fail, the next run merges again and loses nothing.
            results = db.bulk_docs([{"_id": docid, "_rev": r, "_deleted": True} for r in losers])
            failed = [r for r in results if "error" in r]
            if failed:
                log.info("closing losing revisions of %s deferred: %s", docid, failed)
            return True
        log.info("header merge of %s deferred: it kept changing", docid)
        return False


class HeaderMerger:
    """Follows the tenants' `sessions` feeds and merges header conflicts as they appear.

    The store calls `on_write` from the writing thread after each commit; this only notes
    the database and wakes a worker thread, so the merge runs outside the writer's
    transaction. The worker reads the feed from where it stopped (style=all_docs, no
    bodies: a header with more than one leaf is a candidate) and merges. Its own writes wake
    it again and find nothing left to do, which is what makes it idempotent.
    """

    name = "session-header-merger"

    def __init__(self, store: Any) -> None:
        self.store = store
        self.pending: set[str] = set()
        self.seqs: dict[str, Any] = {}
        self.cond = threading.Condition()
        self.thread: threading.Thread | None = None
        self.stopped = False

    @staticmethod
    def follows(db_name: str) -> bool:
        return isinstance(db_name, str) and db_name.startswith("t_") and db_name.endswith("_sessions")

    def on_write(self, db_name: str, update_seq: Any = None) -> None:
        if not self.follows(db_name):
            return
        with self.cond:
            self.pending.add(db_name)
            self.cond.notify()

    def start(self) -> None:
        """Started by the application's lifespan (a worker); writes noted before wait for it."""
        with self.cond:
            self.stopped = False
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            thread, self.thread = self.thread, None
            self.cond.notify()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.pending and not self.stopped:
                    self.cond.wait()
                if self.stopped:
                    return
                names, self.pending = sorted(self.pending), set()
            for name in names:
                try:
                    self.process(name)
                except Exception:  # noqa: BLE001 - one database's trouble must not stop the others
                    log.exception("merging session header conflicts in %s failed", name)

    def process(self, db_name: str) -> int:
        """Merge every conflicted header changed since the last run; returns how many merged."""
        if not self.store.db_exists(db_name):
            self.seqs.pop(db_name, None)
            return 0
        db = self.store.db(db_name)
        since = self.seqs.get(db_name, 0)
        merged = 0
        while True:
            res = db.changes(since=since, limit=500, style="all_docs")
            for row in res["results"]:
                m = repo.HEADER_ID_RE.match(row["id"])
                if m and len(row.get("changes") or ()) > 1 and merge_conflicts(db, m.group(1)):
                    merged += 1
            since = res["last_seq"]
            self.seqs[db_name] = since
            if len(res["results"]) < 500:
                return merged


def install(ctx: AppContext) -> None:
    """Start-up of the sessions feature: listing index, sync access policy, header merger."""
    from ..core.derived import register_part  # noqa: PLC0415
    from . import listing  # noqa: PLC0415

    register_part(ctx, listing.index_part())
    ctx.sync_policy = access.SessionsPolicy(ctx)
    merger = HeaderMerger(ctx.store)
    ctx.store.add_listener(merger.on_write)
    ctx.workers.add(merger)
