"""Sessions over the API, for clients that are not PouchDB (scripts, PSA connectors, exports).

A session is a header `session:{sid}` plus immutable events `session:{sid}:ev:{ulid}` in the
tenant's `sessions` database (DOCUMENTS.md). The API writes exactly what a device would
write, so a session started here continues on a phone and the other way round. Its state is
always `fold_session` over the pinned tree version; the header's `status` only mirrors it
for listings, and is kept in step when an event completes, abandons or reopens a session.

This module reads, starts and edits sessions; recording events is `posting.py`, merging
header conflicts `header_merge.py`, listings `listing.py`, client contexts `api/clients/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, Conflict, Forbidden, NotFound
from sync.nonblocking import ensure_may_block
from sync.store import Database

from ..clients import repository as clients_repo, service as clients
from ..core.context import AppContext
from ..core.docs import get_or_none
from ..core.timeutil import now_ms
from ..trees import service as trees
from ..trees.models import tree_version_doc_id
from ..users import repository as users
from . import access, merge, repository as repo
from .fold import FoldProgress, fold_session
from .header_merge import HeaderMerger, merge_conflicts
from .ids import ulid
from .state_cache import SessionStates, Watch

HEADER_FIELDS_PUBLIC = (
    "type",
    "schema_version",
    "tree_id",
    "tree_version",
    "ticket",
    "client_id",
    "title",
    "owner_id",
    "shared_with",
    "status",
    "created_at",
    "updated_at",
    "device_id",
    "edited",
    "edited_values",
    "history",
    "psa",
)


# --- reading ---------------------------------------------------------------------------------


def public_header(header: dict[str, Any]) -> dict[str, Any]:
    out = {
        "_id": header["_id"],
        "_rev": header.get("_rev"),
        "id": header["_id"],
        "session_id": header["_id"][len("session:") :],
    }
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


@dataclass
class Loaded:
    """What a session's state is folded from, read once: the header (conflicts merged), the
    events, the pinned tree version document and the client context (or None)."""

    db: Database
    sid: str
    header: dict[str, Any]
    events: list[dict[str, Any]]
    version_doc: dict[str, Any]
    client: dict[str, Any] | None

    @property
    def tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = self.version_doc["tree"]
        return tree

    def fold(self, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The state of these events (the stored ones by default), timed now: the clock only
        counts while a session runs; an ended one measures to its end."""
        return fold_session(
            self.tree, self.events if events is None else events, self.header, self.client, now_ms()
        )

    def progress(self, events: list[dict[str, Any]]) -> FoldProgress:
        """These events folded, to carry forward (see `FoldProgress`)."""
        return FoldProgress(self.tree, events, self.header, self.client)

    def fold_basis(self) -> tuple[Any, ...]:
        """What a fold of this session rests on besides its events: a fold kept from before
        is used only while this is unchanged."""
        client = self.client or {}
        return (
            self.version_doc.get("_id"),
            self.version_doc.get("_rev"),
            self.header.get("_id"),
            self.header.get("created_at"),
            client.get("_id"),
            client.get("_rev"),
        )


def load(ctx: AppContext, who: Principal, session_id: str, *, watch: Watch | None = None) -> Loaded:
    """Read a session the caller may open: its header and events in one read of the sessions
    database (or from `watch.hit`, the same as held in memory: state_cache.py), then the
    pinned version and the client. Header conflicts are merged first.
    Raises NotFound (no such session or pinned version) or Forbidden (not the caller's)."""
    sid = repo.normalize_sid(session_id)
    db = repo.sessions_db(ctx, who.tenant_id)
    if watch is not None and watch.hit is not None:
        header, events = watch.hit.header, list(watch.hit.events)
    else:
        header, events = repo.load_session(db, sid)
    access.require_open(who, header)
    if header.get("_conflicts"):
        ensure_may_block()  # merging writes: not on the event loop (sync/nonblocking.py)
        merge_conflicts(db, sid)
        header = repo.get_header(db, sid, conflicts=True)
    return Loaded(db, sid, header, events, _pinned_version(ctx, who, header), _client_for(ctx, who, header))


def _pinned_version(ctx: AppContext, who: Principal, header: dict[str, Any]) -> dict[str, Any]:
    tree_id, version = header.get("tree_id"), header.get("tree_version")
    if not isinstance(tree_id, str) or not isinstance(version, int) or isinstance(version, bool):
        raise Conflict(
            f"The session header {header['_id']} pins no tree version (tree_id and "
            "tree_version are missing or malformed); it cannot be folded."
        )
    try:
        return trees.get_version(ctx, who, tree_id, version)
    except NotFound:
        raise NotFound(
            f"The session pins {tree_id} version {version}, which this tenant does not "
            "have (yet: it may still be replicating from a device)."
        ) from None


def _client_for(ctx: AppContext, who: Principal, header: dict[str, Any]) -> dict[str, Any] | None:
    client_id = header.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        return None
    return clients_repo.get_client_or_none(clients_repo.clients_db(ctx, who.tenant_id), client_id)


def get_session_bundle(ctx: AppContext, who: Principal, session_id: str) -> dict[str, Any]:
    """Everything an export needs: `{header, events, tree, tree_version, client, state}`.

    `tree` is the pinned version's tree dict, `tree_version` the version document, `client`
    the client context document or None, `state` the fold. Header conflicts are merged first.
    Raises NotFound (no such session or pinned version) or Forbidden (not the caller's).
    """
    loaded = load(ctx, who, session_id)
    return {
        "header": loaded.header,
        "events": loaded.events,
        "tree": loaded.tree,
        "tree_version": loaded.version_doc,
        "client": loaded.client,
        "state": loaded.fold(),
    }


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
            raise BadRequest(
                f"No user {user_id!r} in this tenant to share with; take ids from GET /api/v1/users."
            )
        out.append(user_id)
    return out


def _resolve_client(ctx: AppContext, who: Principal, raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise BadRequest("`client_id` must be a string such as client:contoso.")
    client_id = clients_repo.normalize_client_id(raw)
    if clients_repo.get_client_or_none(clients_repo.clients_db(ctx, who.tenant_id), client_id) is None:
        raise NotFound(
            f"No client {client_id} in this tenant; create it with POST /api/v1/clients "
            "or leave client_id out."
        )
    return client_id


def start_session(ctx: AppContext, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Create a header pinned to a published version (the latest when `version` is absent)."""
    if who.role == "viewer":
        raise Forbidden("Viewers read trees but do not run sessions; ask an admin for the engineer role.")
    raw_tree = body.get("tree_id")
    if not isinstance(raw_tree, str) or not raw_tree:
        raise BadRequest("`tree_id` is required, e.g. tree:citrix-vda-registration (see GET /api/v1/trees).")
    tree_id = trees.normalize_tree_id(raw_tree)
    trees.require_team_permission(ctx, who, tree_id, "run")
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
            raise Conflict(
                f"{tree_id} is archived; to run it anyway, pass the version to run "
                "explicitly (see GET /api/v1/trees/{id}/versions)."
            )
        if not latest:
            raise Conflict(
                f"{tree_id} has no published version yet; an author publishes it with "
                f"POST /api/v1/trees/{tree_id}/publish before sessions can run it."
            )
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
            raise BadRequest(
                "`session_id` must be a 26-character ULID such as 01JD3Z8Q6V9R1W0K2M4N5P7S8T."
            ) from None
        access.require_not_deleted_by_other(ctx, who, sid)
    else:
        sid = ulid()
    device_id = _text(body, "device_id", max_len=100) or "api"
    now = now_ms()
    header = {
        "_id": repo.header_id(sid),
        "type": "session",
        "schema_version": 1,
        "tree_id": tree_id,
        "tree_version": version,
        "ticket": _text(body, "ticket"),
        "client_id": client_id,
        "title": _text(body, "title") or version_doc.get("tree", {}).get("title"),
        "owner_id": who.user_id,
        "shared_with": shared,
        "status": "in_progress",
        "created_at": now,
        "updated_at": now,
        "device_id": device_id,
    }
    header.update(
        merge.initial_marks(
            now, {f: header[f] for f in ("ticket", "client_id", "title", "shared_with", "status")}
        )
    )
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
        raise BadRequest(
            "Send the header's `_rev` (from GET /api/v1/sessions/{id}, header._rev) so "
            "a newer edit is never overwritten."
        )
    unknown = sorted(k for k in body if k != "_rev" and k not in EDITABLE_BY_PATCH)
    if unknown:
        raise BadRequest(
            f"These fields cannot be changed here: {', '.join(unknown)}; editable are "
            f"{', '.join(EDITABLE_BY_PATCH)}."
        )
    if rev != header["_rev"]:
        raise Conflict(
            f"The session header changed since you loaded it (your _rev {rev} is stale, the "
            f"current one is {header['_rev']}). Load it again, re-apply your change, and save."
        )
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
        raise BadRequest(
            f"Input node {node_id!r} does not offer to save its value to the client "
            "(it has no save_to_client)."
        )
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
    doc = clients.set_value(ctx, who, client_id, key, value)
    return {"ok": True, "client": doc, "key": key, "value": value}


def install(ctx: AppContext) -> None:
    """Start-up of the sessions feature: listing index, sync access policy, header merger."""
    from ..core.derived import register_part  # noqa: PLC0415
    from . import listing  # noqa: PLC0415

    register_part(ctx, listing.index_part())
    from ..sync_mount import register_sync_rules  # noqa: PLC0415

    register_sync_rules(ctx, access.SessionsRules(ctx), access.ClientsRules())
    ctx.session_states = SessionStates().attach(ctx.store)
    ctx.workers.add(HeaderMerger(ctx.store).attach())
