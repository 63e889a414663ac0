"""Session listings and share tracking, built from the `sessions` feed.

A part of the tenant's derived index (`api.core.derived`): one row per session header, and
one row per (session, user) who may open it (the owner and everyone in `shared_with`) with
the seq of the header change that granted it. The listing (`GET /api/v1/sessions`) reads
the first; the sync policy's `extra_changes_ids` reads the second, so a session shared after
a device's last sync still reaches it with all its older events. Like every index part it
holds nothing that cannot be rebuilt: after a rebuild a grant counts from the header's
latest change, which at worst sends a device a session it already has.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from typing import Any

import orjson

from sync.access import Principal
from sync.errors import BadRequest, Forbidden
from sync.naming import physical_name
from sync.seq import seq_number as parse_seq_number

from ..core.derived import IndexPart, tenant_index
from .repository import event_prefix, header_id, parse_doc_id

# The feed that fills both tables below: the sessions database's headers.
HEADERS_FEED = "sessions.headers"

SCHEMA = """
CREATE TABLE IF NOT EXISTS sess_headers (
  session_id TEXT PRIMARY KEY, tree_id TEXT, tree_version INTEGER, ticket TEXT, title TEXT,
  client_id TEXT, owner_id TEXT, shared_with TEXT, status TEXT, created_at INTEGER,
  updated_at INTEGER);
CREATE INDEX IF NOT EXISTS sess_headers_created ON sess_headers (created_at, session_id);
CREATE TABLE IF NOT EXISTS sess_access (
  session_id TEXT, user_id TEXT, is_owner INTEGER, granted_seq INTEGER,
  PRIMARY KEY (session_id, user_id));
CREATE INDEX IF NOT EXISTS sess_access_user ON sess_access (user_id, granted_seq);
"""

STATUSES = ("in_progress", "completed", "abandoned")


def seq_number(seq: Any) -> int:
    """A comparable number for a seq (`sync.seq`), 0 for one that has none."""
    number = parse_seq_number(seq)
    return 0 if number is None else number


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _on_session_change(conn: sqlite3.Connection, change: dict[str, Any]) -> None:
    sid, is_event = parse_doc_id(change["id"])
    if sid is None or is_event:
        return
    doc = change.get("doc") or {}
    if change.get("deleted") or doc.get("type") != "session":
        conn.execute("DELETE FROM sess_headers WHERE session_id=?", (sid,))
        conn.execute("DELETE FROM sess_access WHERE session_id=?", (sid,))
        return
    owner = _str(doc.get("owner_id"))
    shared = (
        [u for u in doc.get("shared_with") or [] if isinstance(u, str)]
        if isinstance(doc.get("shared_with"), list)
        else []
    )
    conn.execute(
        "INSERT OR REPLACE INTO sess_headers VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            sid,
            _str(doc.get("tree_id")),
            _int(doc.get("tree_version")),
            _str(doc.get("ticket")),
            _str(doc.get("title")),
            _str(doc.get("client_id")),
            owner,
            orjson.dumps(shared).decode(),
            _str(doc.get("status")),
            _int(doc.get("created_at")),
            _int(doc.get("updated_at")),
        ),
    )
    grantees = {u: 0 for u in shared}
    if owner:
        grantees[owner] = 1
    existing = {r[0] for r in conn.execute("SELECT user_id FROM sess_access WHERE session_id=?", (sid,))}
    for user_id in existing - set(grantees):
        conn.execute("DELETE FROM sess_access WHERE session_id=? AND user_id=?", (sid, user_id))
    seq = seq_number(change.get("seq"))
    for user_id, is_owner in grantees.items():
        if user_id in existing:
            conn.execute(
                "UPDATE sess_access SET is_owner=? WHERE session_id=? AND user_id=?", (is_owner, sid, user_id)
            )
        else:
            conn.execute("INSERT INTO sess_access VALUES (?,?,?,?)", (sid, user_id, is_owner, seq))


def _is_header_id(docid: str) -> bool:
    sid, is_event = parse_doc_id(docid)
    return sid is not None and not is_event


_on_session_change.keep = _is_header_id  # type: ignore[attr-defined]  # events are skipped anyway


def index_part() -> IndexPart:
    return IndexPart(
        "sessions",
        SCHEMA,
        lambda tid: {
            HEADERS_FEED: (physical_name(tid, "sessions"), _on_session_change),
        },
    )


# --- what the sync policy asks ------------------------------------------------------------------


def granted_since(ctx, tenant_id: str, user_id: str, since: Any) -> list[str]:
    """Sessions `user_id` gained access to after `since` (a seq of the sessions database)."""
    # Asked on every `_changes` request of an engineer: only the headers' feed must be current.
    rows = tenant_index(ctx, tenant_id).query(
        "SELECT session_id FROM sess_access WHERE user_id=? AND granted_seq > ?",
        (user_id, seq_number(since)),
        feeds=(HEADERS_FEED,),
        quiet_ok=True,
    )
    return [r["session_id"] for r in rows]


def old_ids_of_sessions(db, sids: list[str], since: Any) -> set[str]:
    """Header and event ids of `sids` whose last change is not after `since`.

    Those are the ones an incremental `_changes` would never send again; newer ones come
    in the ordinary rows anyway.
    """
    ids: list[str] = []
    for sid in sids:
        ids.append(header_id(sid))
        prefix = event_prefix(sid)
        ids.extend(
            r["id"] for r in db.all_docs(startkey=prefix, endkey=prefix + "\ufff0", offset=False)["rows"]
        )
    if not ids:
        return set()
    limit = seq_number(since)
    rows = db.changes(since=0, doc_ids=ids)["results"]
    return {r["id"] for r in rows if seq_number(r.get("seq")) <= limit}


# --- the listing -------------------------------------------------------------------------------


def parse_time(value: str | None, *, end: bool = False) -> int | None:
    """UTC milliseconds from `2026-11-26` (a whole day; `end` gives the day's end) or an ISO time."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            ms = int(start.timestamp() * 1000)
            return ms + 86_400_000 - 1 if end else ms
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    except ValueError:
        raise BadRequest(f"{value!r} is not a date: use 2026-11-26 or 2026-11-26T14:30:00Z.") from None


def list_sessions(
    ctx,
    who: Principal,
    *,
    scope: str | None,
    tree_id: str | None,
    client_id: str | None,
    status: str | None,
    from_ms: int | None,
    to_ms: int | None,
    limit: int,
    after: Any,
) -> list[dict[str, Any]]:
    """Up to `limit` header rows, newest first, after the cursor `after` ([created_at, sid])."""
    where: list[str] = []
    params: list[Any] = []
    if scope == "all":
        if not who.is_admin:
            raise Forbidden(
                "scope=all lists every engineer's sessions: owners and admins only. "
                "Use scope=mine or scope=shared."
            )
    elif scope == "mine":
        where.append("h.owner_id = ?")
        params.append(who.user_id)
    elif scope == "shared":
        where.append(
            "h.owner_id IS NOT ? AND h.session_id IN "
            "(SELECT session_id FROM sess_access WHERE user_id = ? AND is_owner = 0)"
        )
        params += [who.user_id, who.user_id]
    elif scope is None:
        if not who.is_admin:
            where.append("h.session_id IN (SELECT session_id FROM sess_access WHERE user_id = ?)")
            params.append(who.user_id)
    else:
        raise BadRequest("scope is one of mine, shared, all.")
    if tree_id:
        where.append("h.tree_id = ?")
        params.append(tree_id)
    if client_id:
        where.append("h.client_id = ?")
        params.append(client_id)
    if status:
        if status not in STATUSES:
            raise BadRequest(f"status is one of {', '.join(STATUSES)}.")
        where.append("h.status = ?")
        params.append(status)
    if from_ms is not None:
        where.append("COALESCE(h.created_at, 0) >= ?")
        params.append(from_ms)
    if to_ms is not None:
        where.append("COALESCE(h.created_at, 0) <= ?")
        params.append(to_ms)
    if after is not None:
        if not (
            isinstance(after, list)
            and len(after) == 2
            and isinstance(after[0], int)
            and isinstance(after[1], str)
        ):
            raise BadRequest("The cursor is not valid: pass back next_cursor exactly as a list returned it.")
        where.append(
            "(COALESCE(h.created_at, 0) < ? OR (COALESCE(h.created_at, 0) = ? AND h.session_id < ?))"
        )
        params += [after[0], after[0], after[1]]
    sql = (
        "SELECT h.* FROM sess_headers h "
        + ("WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY COALESCE(h.created_at, 0) DESC, h.session_id DESC LIMIT ?"
    )
    rows = tenant_index(ctx, who.tenant_id).query(sql, [*params, limit], feeds=(HEADERS_FEED,))
    return [_public_row(r) for r in rows]


def _public_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"session:{r['session_id']}",
        "session_id": r["session_id"],
        "tree_id": r["tree_id"],
        "tree_version": r["tree_version"],
        "ticket": r["ticket"],
        "title": r["title"],
        "client_id": r["client_id"],
        "owner_id": r["owner_id"],
        "shared_with": orjson.loads(r["shared_with"] or "[]"),
        "status": r["status"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def cursor_of(item: dict[str, Any]) -> list[Any]:
    return [item["created_at"] or 0, item["session_id"]]
