"""Who may read and write which session document (DOCUMENTS.md, "Access, per document").

The same rules serve the API (`can_open`, `require_open`, `require_write`) and the sync
endpoints, where this feature declares the rules of the two databases it owns
(`SessionsRules`, `ClientsRules`, registered into the one sync policy at start-up; the trees
feature declares its own in `api/trees/sync_rules.py`):

- `sessions`: owner and admin read and write everything; anyone else reads and writes a
  session (its header and its events) when they own it or are in its `shared_with`;
  viewers write nothing. Only the session's owner (or an admin) changes `owner_id` or
  `shared_with`, or their edit times; no edit time may run ahead of the server's clock by
  more than `MAX_CLOCK_AHEAD_MS`. An event's `user_id` must be the writer's own, and events are immutable.
- `clients`: every role reads; everyone but viewers writes.

Every document written over sync must also have the shape the API would give it: events,
headers and client contexts by `events.py`; attachments by their bytes
(`api/attachments/sync_content.py`). Shape refusals are `forbidden`, as CouchDB's
validate_doc_update answers, so a replicator reports the document as denied and carries on
with the rest of the batch (a `bad_request` would stop the replication).

The sync layer asks `can_read` for every row of `_changes`, so the session lookup behind
an event is memoised per request (in the request's `Principal.extra`) and filled from the
header documents the feed itself carries; between requests the headers' ACLs are kept in
`HeaderAcls` (acl_cache.py), forgotten whenever a header is written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sync.access import DatabaseRules, Principal, Role
from sync.errors import Forbidden, NotFound
from sync.nonblocking import ensure_may_block

from ..attachments.sync_content import check_attachment_content, same_content
from . import events
from .acl_cache import HeaderAcls
from .repository import header_id, parse_doc_id, sessions_db

log = logging.getLogger("branchline.sessions")

_ACL_KEY = "sessions_acl"  # per-request memo in Principal.extra: sid -> (owner, shared) | None
_SHARING_KEY = "sessions_sharing"  # per request: header id -> (sid, what changed), until stored
_EXPORTS_KEY = "sessions_exports"  # per request: event id -> (sid, `exported` event), until stored


def _pending_sharing(principal: Principal) -> dict[str, tuple[str, dict[str, Any]]]:
    pending = principal.extra.get(_SHARING_KEY)
    if pending is None:
        pending = principal.extra[_SHARING_KEY] = {}
    return pending


def acl_of(
    header: dict[str, Any] | None, *, deleted: bool = False
) -> tuple[str | None, frozenset[str]] | None:
    """(owner, shared_with) of a header; a deleted one counts only with `deleted=True` and
    only when its tombstone kept those fields (a bare tombstone: see `deleted_acl`)."""
    if not isinstance(header, dict) or (header.get("_deleted") and not deleted):
        return None
    if header.get("_deleted") and not isinstance(header.get("owner_id"), str):
        return None
    owner = header.get("owner_id") if isinstance(header.get("owner_id"), str) else None
    shared = header.get("shared_with")
    shared_set = (
        frozenset(s for s in shared if isinstance(s, str)) if isinstance(shared, list) else frozenset()
    )
    return owner, shared_set


def allowed(principal: Principal, acl: tuple[str | None, frozenset[str]] | None) -> bool:
    if principal.is_admin:
        return True
    if acl is None:
        return False
    owner, shared = acl
    return principal.user_id == owner or principal.user_id in shared


def can_open(principal: Principal, header: dict[str, Any]) -> bool:
    """May `principal` read (and, unless a viewer, write) this session?"""
    return allowed(principal, acl_of(header))


def require_open(principal: Principal, header: dict[str, Any]) -> None:
    if not can_open(principal, header):
        raise Forbidden(
            "This session belongs to another engineer and is not shared with you; "
            "ask its owner or an admin to add you to shared_with."
        )


def require_write(principal: Principal, header: dict[str, Any]) -> None:
    require_open(principal, header)
    if principal.role == "viewer":
        raise Forbidden("Viewers read trees but do not run sessions; ask an admin for the engineer role.")


# Header fields merge by their latest edit time (api/sessions/merge.py), so an edit time far
# in the future would win every later merge, an owner's unshare included. Devices keep their
# own clocks, so some drift is allowed, no more.
MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000
# The fields that decide who may read a session: only its owner or an admin changes them,
# their edit times included (a newer time is a claim on the next merge).
ACL_FIELDS = ("owner_id", "shared_with")


def _edit_times(doc: dict[str, Any] | None) -> dict[str, Any]:
    edited = doc.get("edited") if isinstance(doc, dict) else None
    return edited if isinstance(edited, dict) else {}


def check_edit_times(doc: dict[str, Any], current: dict[str, Any] | None, now_ms: int) -> None:
    """Refuse an edit time (new or changed) further ahead of the server's clock than allowed."""
    before = _edit_times(current)
    for field, when in _edit_times(doc).items():
        if before.get(field) == when or isinstance(when, bool) or not isinstance(when, (int, float)):
            continue
        if when > now_ms + MAX_CLOCK_AHEAD_MS:
            ahead_min = (when - now_ms) / 60000
            raise Forbidden(
                f"The edit time of {field!r} is {ahead_min:.0f} minutes ahead of the server's "
                "clock; set the device's date and time automatically and save again."
            )


# Header fields only the server writes (DOCUMENTS.md): a device may carry them back as they
# are, or leave them out (a revision made before the server wrote them; the merge keeps the
# server's value), never set or change them.
SERVER_FIELDS = ("psa",)


def check_server_fields(doc: dict[str, Any], current: dict[str, Any] | None) -> None:
    for field in SERVER_FIELDS:
        value = doc.get(field)
        if value is None or (current is not None and current.get(field) == value):
            continue
        raise Forbidden(
            f"{doc.get('_id')}: {field!r} is written by the server only (the PSA connector); "
            "keep the value you received, or leave it out."
        )


def _edit_records(doc: dict[str, Any] | None) -> dict[str, Any]:
    records = doc.get("edited_values") if isinstance(doc, dict) else None
    return records if isinstance(records, dict) else {}


def acl_markers_changed(doc: dict[str, Any], current: dict[str, Any] | None) -> bool:
    """Did the edit times (or the merge's records of them) of owner_id or shared_with change?"""
    before, after = _edit_times(current), _edit_times(doc)
    rec_before, rec_after = _edit_records(current), _edit_records(doc)
    return any(before.get(f) != after.get(f) or rec_before.get(f) != rec_after.get(f) for f in ACL_FIELDS)


class SessionsRules(DatabaseRules):
    """The `sessions` database over sync: who reads and writes which session (module docstring)."""

    database = "sessions"
    writers: tuple[Role, ...] = ("owner", "admin", "author", "engineer")
    # Headers' ACLs come from the store (or the cache over it); the listing index's lock
    # refuses to wait in non-blocking mode; the two writes of its own (a deleted session's
    # owner, the audit entry of a sharing change) are preceded by `ensure_may_block()`.
    waits_only_in_store = True

    def __init__(self, ctx: Any = None) -> None:
        self.ctx = ctx
        # Headers' ACLs shared by every request, when the store tells of every write
        # (acl_cache.py); without it each lookup reads the header.
        self.acls = None if ctx is None else HeaderAcls().attach(ctx.store)

    def _stored_acl(
        self, tenant_id: str, sid: str, *, fresh: bool = False
    ) -> tuple[str | None, frozenset[str]] | None:
        """The ACL of the session's stored header (None: no live header); `fresh`: read from
        the store itself, never the cache."""

        def read() -> tuple[str | None, frozenset[str]] | None:
            try:
                return acl_of(sessions_db(self.ctx, tenant_id).get(header_id(sid)))
            except NotFound:
                return None

        if self.acls is None or fresh:
            return read()
        return self.acls.get(tenant_id, sid, read)

    # --- the session a document belongs to -------------------------------------------------
    def _memo(self, principal: Principal) -> dict[str, Any]:
        memo = principal.extra.get(_ACL_KEY)
        if memo is None:
            memo = principal.extra[_ACL_KEY] = {}
        return memo

    def _session_acl(self, principal: Principal, sid: str) -> tuple[str | None, frozenset[str]] | None:
        memo = self._memo(principal)
        if sid in memo:
            return memo[sid]
        acl = None if self.ctx is None else self._stored_acl(principal.tenant_id, sid)
        memo[sid] = acl
        return acl

    # --- reads -------------------------------------------------------------------------------
    def reads_everything(self, principal: Principal) -> bool:
        return principal.is_admin

    def can_read(self, principal: Principal, doc: dict[str, Any]) -> bool:
        if principal.is_admin:
            return True
        docid = doc.get("_id")
        sid, is_event = parse_doc_id(docid if isinstance(docid, str) else "")
        if sid is None:
            return False  # not a session document: only admins see it
        if not is_event:
            if doc.get("_deleted"):
                # A closed branch of a live header (after a merge) follows the header's access;
                # the deletion of the header itself reaches the devices of those who could
                # read the session, so it spreads like any other edit.
                live = self._session_acl(principal, sid)
                if live is not None:
                    return allowed(principal, live)
                return allowed(principal, self._deleted_acl(principal, sid, doc))
            acl = acl_of(doc)
            self._memo(principal)[sid] = acl  # the feed carries the newest header first-hand
            return allowed(principal, acl)
        return allowed(principal, self._session_acl(principal, sid))

    def read_prefilter(self, principal: Principal) -> Callable[[str], bool] | None:
        """Rows of sessions `principal` surely may not read, known from the ids alone (the
        session in the id, its ACL from the shared cache, which is never older than the
        store): a feed of a busy database then reads whole only the rows that may be sent.
        A session not in the cache, and a deleted header (its tombstone may still be for
        this reader), are kept for `can_read`."""
        acls = self.acls
        if principal.is_admin or acls is None:
            return None

        # One page of a busy team's feed scans many events of the same few sessions: each
        # session's ACL is looked up once per page. Safe, as every row kept is still judged
        # whole by `can_read`; this only spares the rows surely left out.
        verdicts: dict[tuple[str, bool], bool] = {}

        def keep(docid: str) -> bool:
            sid, is_event = parse_doc_id(docid)
            if sid is None:
                return False  # not a session document: only admins see it (`can_read`)
            verdict = verdicts.get((sid, is_event))
            if verdict is None:
                known, acl = acls.peek(principal.tenant_id, sid)
                verdict = not known or (acl is None and not is_event) or allowed(principal, acl)
                verdicts[(sid, is_event)] = verdict
            return verdict

        return keep

    def readers(self, tenant_id: str, ids: list[str]) -> frozenset[str] | None:
        """Who besides admins may read these changed documents: the owners and sharers of
        their sessions, read from the stored headers once per session (the same rule as
        `can_read`). A deleted header may still reach its former readers by its tombstone,
        so a batch holding one wakes every feed (rare; never too few).

        The headers are read from the store, not the ACL cache: the notifier's index of
        recent changes keeps this answer for as long as it holds the changes, and another
        server process's commit is in the store a moment before it reaches this process's
        caches. A share made there in that moment would otherwise leave the events written
        next filed without their new reader, and never sent to them."""
        if self.ctx is None:
            return None
        header_changed: dict[str, bool] = {}
        for docid in ids:
            sid, is_event = parse_doc_id(docid)
            if sid is not None:  # any other document is for admins only
                header_changed[sid] = header_changed.get(sid, False) or not is_event
        out: set[str] = set()
        for sid, header in header_changed.items():
            acl = self._stored_acl(tenant_id, sid, fresh=True)
            if acl is None:  # no live header
                if header:
                    return None
                continue  # events without a live header are for admins only (`can_read`)
            owner, shared = acl
            out.update(shared)
            if owner is not None:
                out.add(owner)
        return frozenset(out)

    def reshapes_readers(self, docid: str) -> bool:
        """Only a header decides who reads its session's documents (`acl_of`); an event
        never changes who reads anything else."""
        sid, is_event = parse_doc_id(docid)
        return sid is None or not is_event

    # --- writes ------------------------------------------------------------------------------
    def check_write(self, principal: Principal, doc: dict[str, Any], current: dict[str, Any] | None) -> None:
        docid = doc.get("_id")
        docid = docid if isinstance(docid, str) else ""
        if not doc.get("_deleted"):
            check_attachment_content(docid, doc.get("_attachments"))
        sid, is_event = parse_doc_id(docid)
        if sid is None:
            if principal.is_admin:
                return
            raise Forbidden(
                f"The sessions database holds session:{{ulid}} headers and "
                f"session:{{ulid}}:ev:{{ulid}} events only; {docid!r} is neither."
            )
        if is_event:
            self._check_event(principal, sid, doc, current)
        else:
            self._check_header(principal, sid, doc, current)

    def _check_event(
        self, principal: Principal, sid: str, doc: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        if current is not None or doc.get("_deleted"):
            if current is not None and not doc.get("_deleted") and same_content(doc, current):
                if doc.get("type") == "exported" and doc.get("user_id") == principal.user_id:
                    # Filed again under its once key, which files nothing if it was filed: an
                    # export whose filing failed after the store took it gets another chance.
                    self._note_export(principal, sid, doc)
                return  # the same event again (a retried push): nothing changes
            raise Forbidden(
                f"Events are written once and never edited or deleted; {doc.get('_id')} "
                "already exists. Record a correction as a new event (a note, or back)."
            )
        if doc.get("type") in events.SERVER_ONLY_EVENT_TYPES:
            raise Forbidden(
                f"{doc.get('_id')}: {doc.get('type')} events are written by the server when an RMM run "
                "ends; ask for a run with POST /api/v1/sessions/{id}/script-runs."
            )
        if doc.get("user_id") != principal.user_id:
            raise Forbidden(
                f"An event's user_id must be your own ({principal.user_id}); "
                f"this one says {doc.get('user_id')!r}."
            )
        if "session_id" in doc and doc.get("session_id") != sid:
            raise Forbidden(
                f"The event's session_id {doc.get('session_id')!r} does not match its "
                f"_id, which belongs to session {sid}."
            )
        problem = events.event_problem(doc)
        if problem:
            raise Forbidden(f"{doc.get('_id')}: {problem}")
        if doc.get("type") == "attachment_added":
            self._check_attachment_stored(principal, sid, doc)
        acl = self._session_acl(principal, sid)
        if doc.get("type") == "exported" and (acl is None or allowed(principal, acl)):
            self._note_export(principal, sid, doc)
        if acl is None:
            # The header may travel in the same batch as its first events; it is checked
            # on its own (its owner must be the writer), so an event cannot open a door.
            return
        if not allowed(principal, acl):
            raise Forbidden(
                f"Session {sid} is not yours and not shared with you; "
                "ask its owner to add you to shared_with."
            )

    def _check_attachment_stored(self, principal: Principal, sid: str, doc: dict[str, Any]) -> None:
        if self.ctx is not None:
            require_attachment_stored(self.ctx, principal.tenant_id, sid, doc.get("attachment_id"))

    def _check_header(
        self, principal: Principal, sid: str, doc: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        if not doc.get("_deleted"):
            problem = events.header_problem(doc)
            if problem:
                raise Forbidden(f"{doc.get('_id')}: {problem}")
            check_edit_times(doc, current, int(time.time() * 1000))
            check_server_fields(doc, current)
        cur = acl_of(current)
        if cur is None:
            if principal.is_admin:
                return
            if doc.get("_deleted"):
                raise Forbidden(f"Session {sid} does not exist; there is nothing to delete.")
            if doc.get("owner_id") != principal.user_id:
                raise Forbidden(
                    f"A new session's owner_id must be your own user id ({principal.user_id}); "
                    f"this header says {doc.get('owner_id')!r}."
                )
            self._check_not_taking_over(principal, sid)
            self._memo(principal)[sid] = acl_of(doc)
            return
        if not allowed(principal, cur):
            raise Forbidden(
                f"Session {sid} is not yours and not shared with you; "
                "ask its owner to add you to shared_with."
            )
        if doc.get("_deleted"):
            if not (principal.is_admin or principal.user_id == cur[0]):
                raise Forbidden(f"Only the owner of session {sid} or an admin may delete it.")
            if self.ctx is not None:
                ensure_may_block()  # a write besides the request's own: not on the event loop
                remember_deleted_acl(self.ctx, principal.tenant_id, sid, cur)
            return
        new = acl_of(doc)
        if (new != cur or acl_markers_changed(doc, current)) and not (
            principal.is_admin or principal.user_id == cur[0]
        ):
            raise Forbidden(
                f"Only the owner of session {sid} or an admin may change owner_id or "
                "shared_with; edit the other fields and leave these as they are."
            )
        if new is not None and new != cur:
            # Recorded in the audit log once the header is stored (`written`), as the API's
            # PATCH records it: a device shares over sync, and that must not go unrecorded.
            # That entry is a second write, which the event loop could not take back if the
            # request then started over on a worker thread: a sharing change goes there first.
            ensure_may_block()
            sharing: dict[str, Any] = {}
            if new[0] != cur[0]:
                sharing["owner_id"] = new[0]
            if new[1] != cur[1]:
                sharing["shared_with"] = sorted(new[1])
            _pending_sharing(principal)[str(doc.get("_id"))] = (sid, sharing)
        self._memo(principal)[sid] = new

    def written(self, principal: Principal, ids: list[str]) -> None:
        """Record the sharing changes and device exports `check_write` let through and the
        store then took."""
        self._file_exports(principal, ids)
        pending = principal.extra.get(_SHARING_KEY)
        if not pending or self.ctx is None:
            return
        from ..audit import service as audit  # noqa: PLC0415  (audit reads the store machinery)

        for docid in ids:
            change = pending.pop(docid, None)
            if change is not None:
                sid, sharing = change
                audit.record(
                    self.ctx,
                    principal,
                    "session.sharing_changed",
                    "session",
                    sid,
                    ip=principal.extra.get("address"),
                    details={**sharing, "via": "sync"},
                )

    @staticmethod
    def _note_export(principal: Principal, sid: str, doc: dict[str, Any]) -> None:
        principal.extra.setdefault(_EXPORTS_KEY, {})[str(doc.get("_id"))] = (sid, doc)

    def _file_exports(self, principal: Principal, ids: list[str]) -> None:
        """File the `exported` events this request stored (`device_exports`). A failure is
        logged and the rest go on: the documents are stored whatever the log says."""
        pending = principal.extra.get(_EXPORTS_KEY)
        if not pending or self.ctx is None:
            return
        from ..audit import device_exports  # noqa: PLC0415  (audit reads the store machinery)

        for docid in ids:
            found = pending.pop(docid, None)
            if found is None:
                continue
            try:
                device_exports.file(self.ctx, principal, found[0], found[1], principal.extra.get("address"))
            except Exception:
                log.exception("filing the device export %s in the audit log failed", docid)

    def _deleted_acl(
        self, principal: Principal, sid: str, tomb: dict[str, Any]
    ) -> tuple[str | None, frozenset[str]] | None:
        acl = acl_of(tomb, deleted=True)
        if acl is None and self.ctx is not None:
            acl = deleted_acl(self.ctx, principal.tenant_id, sid)
        return acl

    def _check_not_taking_over(self, principal: Principal, sid: str) -> None:
        """A deleted session's id stays its owner's: its events are still stored, and a new
        header by someone else would hand them over."""
        if self.ctx is None:
            return
        require_not_deleted_by_other(self.ctx, principal, sid)

    # --- sessions that became readable later -----------------------------------------------------
    def extra_changes_ids(self, principal: Principal, since: Any) -> set[str]:
        if principal.is_admin or self.ctx is None:
            return set()
        from . import listing  # noqa: PLC0415  (listing imports the index machinery)

        sids = listing.granted_since(self.ctx, principal.tenant_id, principal.user_id, since)
        if not sids:
            return set()
        return listing.old_ids_of_sessions(sessions_db(self.ctx, principal.tenant_id), sids, since)


class ClientsRules(DatabaseRules):
    """The `clients` database over sync: every role reads, everyone but viewers writes client
    contexts of the shape the API gives them."""

    database = "clients"
    writers: tuple[Role, ...] = ("owner", "admin", "author", "engineer")
    waits_only_in_store = True  # pure checks of the document

    def check_write(self, principal: Principal, doc: dict[str, Any], current: dict[str, Any] | None) -> None:
        docid = doc.get("_id")
        docid = docid if isinstance(docid, str) else ""
        if doc.get("_deleted"):
            return
        check_attachment_content(docid, doc.get("_attachments"))
        problem = events.client_problem(doc) if docid.startswith("client:") else None
        if problem:
            raise Forbidden(f"{docid}: {problem}")


def require_attachment_stored(ctx: Any, tenant_id: str, sid: str, attachment_id: Any) -> None:
    """An attachment's event may only follow its file: devices upload first and write the
    event once the server confirmed it, and this refuses any event (over sync or the API)
    that skipped that step, so no export ever lists a file the server does not have."""
    from ..attachments.repository import get_meta  # noqa: PLC0415  (attachments build on sessions)

    ok = isinstance(attachment_id, str) and bool(attachment_id)
    meta = get_meta(ctx.system, tenant_id, attachment_id) if ok else None
    if not meta or meta.get("status") != "stored" or meta.get("session_id") != sid:
        raise Forbidden(
            f"Attachment {attachment_id!r} is not stored for session {sid}: upload the file first "
            "(POST /api/v1/sessions/{id}/attachments), then record its event."
        )


def require_not_deleted_by_other(ctx: Any, principal: Principal, sid: str) -> None:
    """Refuse (re)creating session `sid` when a deleted header of someone else's stands there."""
    if principal.is_admin:
        return
    db = sessions_db(ctx, principal.tenant_id)
    try:
        leaves = db.get_open_revs(header_id(sid), "all")
    except NotFound:
        return
    for entry in leaves:
        tomb = entry.get("ok") if isinstance(entry, dict) else None
        if isinstance(tomb, dict) and tomb.get("_deleted"):
            acl = acl_of(tomb, deleted=True)
            if acl is None:
                acl = deleted_acl(ctx, principal.tenant_id, sid)
            if acl is None or acl[0] != principal.user_id:
                raise Forbidden(
                    f"Session {sid} was deleted and belongs to someone else; start a new "
                    "session (leave session_id out), or ask an admin to restore it."
                )


def _deleted_id(tenant_id: str, sid: str) -> str:
    return f"sessdel:{tenant_id}:{sid}"


def remember_deleted_acl(ctx: Any, tenant_id: str, sid: str, acl: tuple[str | None, frozenset[str]]) -> None:
    """Keep who a session belonged to when its header is deleted (in the system database):
    a bare tombstone carries no owner, yet it must still reach the owner's devices, and nobody
    else may re-create the id and inherit its events. Written before the deletion itself; if
    that then fails, the record is never consulted, since the header is still live."""
    from ..core.docs import get_or_none, save  # noqa: PLC0415

    doc = get_or_none(ctx.system, _deleted_id(tenant_id, sid)) or {
        "_id": _deleted_id(tenant_id, sid),
        "type": "session_deleted",
    }
    doc.update(owner_id=acl[0], shared_with=sorted(acl[1]))
    try:
        save(ctx.system, doc)
    except Exception:  # noqa: BLE001 - a concurrent delete recorded the same owner
        pass


def deleted_acl(ctx: Any, tenant_id: str, sid: str) -> tuple[str | None, frozenset[str]] | None:
    from ..core.docs import get_or_none  # noqa: PLC0415

    doc = get_or_none(ctx.system, _deleted_id(tenant_id, sid))
    if doc is None:
        return None
    return doc.get("owner_id"), frozenset(u for u in doc.get("shared_with") or [] if isinstance(u, str))
