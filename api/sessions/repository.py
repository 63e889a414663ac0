"""Storage calls of the sessions feature: headers, events and client contexts.

Ids follow DOCUMENTS.md: `session:{sid}` for a header, `session:{sid}:ev:{ulid}` for an
event, `client:{slug}` for a client context. Database handles come from the one way to open
a tenant's database (`sync.naming.tenant_db`), never built by hand.
"""
from __future__ import annotations

import re
from typing import Any

from sync.errors import NotFound
from sync.naming import tenant_db
from sync.store import Database

from ..core.context import AppContext

SID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
EVENT_ID_RE = re.compile(r"^session:([0-9A-HJKMNP-TV-Z]{26}):ev:([0-9A-Za-z_-]{1,64})$")
HEADER_ID_RE = re.compile(r"^session:([0-9A-HJKMNP-TV-Z]{26})$")
CLIENT_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def sessions_db(ctx: AppContext, tenant_id: str) -> Database:
    return tenant_db(ctx.store, tenant_id, "sessions")


def clients_db(ctx: AppContext, tenant_id: str) -> Database:
    return tenant_db(ctx.store, tenant_id, "clients")


def header_id(sid: str) -> str:
    return f"session:{sid}"


def event_id(sid: str, ulid_value: str) -> str:
    return f"session:{sid}:ev:{ulid_value}"


def event_prefix(sid: str) -> str:
    return f"session:{sid}:ev:"


def parse_doc_id(docid: str) -> tuple[str | None, bool]:
    """(`sid`, is_event) for a sessions-database id, or (None, False) when it is neither."""
    if not isinstance(docid, str) or not docid.startswith("session:"):
        return None, False
    rest = docid[len("session:"):]
    sid, sep, _ = rest.partition(":ev:")
    if sep:
        return sid, True
    if ":" in rest:
        return None, False
    return rest, False


def normalize_sid(raw: str) -> str:
    """The 26-character ULID of a session from `session:{sid}` or `{sid}` (any case)."""
    value = raw[len("session:"):] if isinstance(raw, str) and raw.startswith("session:") else raw
    value = (value or "").upper()
    if not SID_RE.match(value):
        raise NotFound(f"No session {raw!r}: session ids are 26-character ULIDs, "
                       "e.g. session:01JD3Z8Q6V9R1W0K2M4N5P7S8T.")
    return value


def get_header(db: Database, sid: str, *, conflicts: bool = False) -> dict[str, Any]:
    try:
        doc = db.get(header_id(sid), conflicts=conflicts)
    except NotFound:
        raise NotFound(f"No session {sid} in this tenant.") from None
    if doc.get("type") != "session":
        raise NotFound(f"No session {sid} in this tenant.")
    return doc


def list_event_ids(db: Database, sid: str) -> list[str]:
    prefix = event_prefix(sid)
    rows = db.all_docs(startkey=prefix, endkey=prefix + "\ufff0")["rows"]
    return [r["id"] for r in rows]


def load_events(db: Database, sid: str) -> list[dict[str, Any]]:
    """Every event document of a session, in id order (the fold sorts them itself)."""
    prefix = event_prefix(sid)
    rows = db.all_docs(startkey=prefix, endkey=prefix + "\ufff0", include_docs=True)["rows"]
    return [r["doc"] for r in rows if r.get("doc")]


def normalize_client_id(raw: str) -> str:
    value = raw[len("client:"):] if isinstance(raw, str) and raw.startswith("client:") else raw
    if not isinstance(value, str) or not CLIENT_SLUG_RE.match(value):
        raise NotFound(f"No client {raw!r}: client ids look like client:contoso "
                       "(lowercase letters, digits, - and _).")
    return "client:" + value


def get_client_or_none(db: Database, client_id: str) -> dict[str, Any] | None:
    try:
        doc = db.get(client_id)
    except NotFound:
        return None
    return doc
