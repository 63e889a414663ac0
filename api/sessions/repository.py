"""Storage calls of the sessions feature: headers and events.

Ids follow DOCUMENTS.md: `session:{sid}` for a header, `session:{sid}:ev:{ulid}` for an
event. Database handles come from the one way to open a tenant's database (`sync.naming.tenant_db`),
never built by hand. Client contexts are the clients feature's (`api/clients/repository.py`).
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


def sessions_db(ctx: AppContext, tenant_id: str) -> Database:
    return tenant_db(ctx.store, tenant_id, "sessions")


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
    rest = docid[len("session:") :]
    sid, sep, _ = rest.partition(":ev:")
    if sep:
        return sid, True
    if ":" in rest:
        return None, False
    return rest, False


def normalize_sid(raw: str) -> str:
    """The 26-character ULID of a session from `session:{sid}` or `{sid}` (any case)."""
    value = raw[len("session:") :] if isinstance(raw, str) and raw.startswith("session:") else raw
    value = (value or "").upper()
    if not SID_RE.match(value):
        raise NotFound(
            f"No session {raw!r}: session ids are 26-character ULIDs, "
            "e.g. session:01JD3Z8Q6V9R1W0K2M4N5P7S8T."
        )
    return value


def get_header(db: Database, sid: str, *, conflicts: bool = False) -> dict[str, Any]:
    try:
        doc = db.get(header_id(sid), conflicts=conflicts)
    except NotFound:
        raise NotFound(f"No session {sid} in this tenant.") from None
    if doc.get("type") != "session":
        raise NotFound(f"No session {sid} in this tenant.")
    return doc


def load_session(db: Database, sid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A session's header (with `_conflicts` when it has any) and its events, in one read.

    The header's id is a prefix of its events' ids, so one id range holds them all: the
    header first, then the events in id order (the fold sorts them itself).
    """
    prefix = event_prefix(sid)
    rows = db.all_docs(
        startkey=header_id(sid), endkey=prefix + "\ufff0", include_docs=True, conflicts=True, offset=False
    )["rows"]
    header: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    for row in rows:
        doc = row.get("doc")
        if not doc:
            continue
        if row["id"] == header_id(sid):
            header = doc
        elif row["id"].startswith(prefix):
            doc.pop("_conflicts", None)  # events are written once; only the header can conflict
            events.append(doc)
    if header is None or header.get("type") != "session":
        raise NotFound(f"No session {sid} in this tenant.")
    return header, events
