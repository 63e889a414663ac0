"""Suggestions for authors: the custom steps engineers added while running a tree.

An engineer who needs a step the tree lacks adds a `custom_step` event at the node where
they were (`node_id`, `text`, `answer`, optional `note`). Gathered over every session of a
tree and grouped by node and by wording, these are the tree's most concrete improvement
requests; the editor shows them on the node and turns one into a real node in one step.

Built from the sessions `_changes` feed into the tenant's derived index (see
`api.core.derived`): headers give each session's tree, events give the custom steps. Either
may arrive first in the feed, so the two are joined at query time, and everything can be
rebuilt by replaying the feed.

An author dismisses a group that is wrong or already handled. The index is rebuildable, so
dismissals live in the tree's server-only sidecar `treesug:{slug}` in the `trees` database
(beside `treemeta:`). A dismissal names the exact occurrences (custom-step events) it hid, so
a later custom step with the same wording at the same node is a fresh request from the field
and shows the group again, counting only the new occurrences, whatever the device clocks say.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from typing import Any

from sync.access import Principal
from sync.errors import Conflict, NotFound
from sync.naming import physical_name
from sync.store import Database

from ..core.derived import IndexPart
from ..core.docs import get_or_none, retry_on_conflict, save
from ..core.timeutil import iso
from .models import tree_slug

SCHEMA = """
CREATE TABLE IF NOT EXISTS sug_sessions (session_id TEXT PRIMARY KEY, tree_id TEXT, tree_version INTEGER);
CREATE INDEX IF NOT EXISTS sug_sessions_tree ON sug_sessions (tree_id);
CREATE TABLE IF NOT EXISTS sug_steps (
  event_id TEXT PRIMARY KEY, session_id TEXT, node_id TEXT, text TEXT, text_key TEXT,
  answer TEXT, note TEXT, ts INTEGER, user_id TEXT);
CREATE INDEX IF NOT EXISTS sug_steps_session ON sug_steps (session_id);
"""

_HEADER_RE = re.compile(r"^session:([^:]+)$")
_EVENT_RE = re.compile(r"^session:([^:]+):ev:(.+)$")
_SPACES = re.compile(r"\s+")

EXAMPLES = 3
"""How many of the latest examples each suggestion carries."""
SESSION_IDS = 20
"""At most this many session ids per suggestion (the most recent)."""


def text_key(text: str) -> str:
    """Two wordings that differ only in case, spacing or a final full stop are one suggestion."""
    return _SPACES.sub(" ", text).strip().rstrip(".").casefold()


def _on_session_change(conn: sqlite3.Connection, change: dict[str, Any]) -> None:
    docid = change["id"]
    doc = change.get("doc") or {}
    header = _HEADER_RE.match(docid)
    if header:
        if change.get("deleted") or not isinstance(doc.get("tree_id"), str):
            conn.execute("DELETE FROM sug_sessions WHERE session_id=?", (header.group(1),))
            return
        version = doc.get("tree_version") if isinstance(doc.get("tree_version"), int) else None
        conn.execute(
            "INSERT OR REPLACE INTO sug_sessions VALUES (?,?,?)", (header.group(1), doc["tree_id"], version)
        )
        return
    event = _EVENT_RE.match(docid)
    if not event:
        return
    if change.get("deleted") or doc.get("type") != "custom_step":
        conn.execute("DELETE FROM sug_steps WHERE event_id=?", (docid,))
        return
    text, node_id = doc.get("text"), doc.get("node_id")
    if not isinstance(text, str) or not text.strip() or not isinstance(node_id, str):
        return
    ts = doc.get("ts") if isinstance(doc.get("ts"), int) and not isinstance(doc.get("ts"), bool) else 0
    answer = doc.get("answer") if isinstance(doc.get("answer"), str) else None
    note = doc.get("note") if isinstance(doc.get("note"), str) else None
    user = doc.get("user_id") if isinstance(doc.get("user_id"), str) else None
    conn.execute(
        "INSERT OR REPLACE INTO sug_steps VALUES (?,?,?,?,?,?,?,?,?)",
        (docid, event.group(1), node_id, text.strip(), text_key(text), answer, note, ts, user),
    )


# The feed the suggestions' tables come from: its queries catch up on it alone.
FEED = "suggestions.sessions"


def index_part() -> IndexPart:
    return IndexPart(
        "suggestions",
        SCHEMA,
        lambda tid: {
            FEED: (physical_name(tid, "sessions"), _on_session_change),
        },
    )


def _rows(index, tree_id: str) -> list[dict[str, Any]]:
    """Every custom step of the tree, newest first."""
    return index.query(
        "SELECT s.*, h.tree_version FROM sug_steps s JOIN sug_sessions h ON h.session_id = s.session_id "
        "WHERE h.tree_id = ? ORDER BY s.ts DESC, s.event_id DESC",
        (tree_id,),
        feeds=(FEED,),
    )


def _group(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_node: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        groups = by_node.setdefault(r["node_id"], {})
        g = groups.get(r["text_key"])
        if g is None:
            # Rows come newest first: the first wording seen is the latest one.
            g = groups[r["text_key"]] = {
                "text": r["text"],
                "text_key": r["text_key"],
                "count": 0,
                "answers": {},
                "session_ids": [],
                "examples": [],
                "latest_ts": r["ts"],
            }
            if "dismissed_at" in r:
                g["dismissed_at"], g["dismissed_by"] = r["dismissed_at"], r["dismissed_by"]
        g["count"] += 1
        if r["answer"]:
            g["answers"][r["answer"]] = g["answers"].get(r["answer"], 0) + 1
        if r["session_id"] not in g["session_ids"] and len(g["session_ids"]) < SESSION_IDS:
            g["session_ids"].append(r["session_id"])
        if len(g["examples"]) < EXAMPLES:
            g["examples"].append(
                {
                    "session_id": r["session_id"],
                    "text": r["text"],
                    "answer": r["answer"],
                    "note": r["note"],
                    "ts": r["ts"],
                    "user_id": r["user_id"],
                    "tree_version": r["tree_version"],
                }
            )
    out = []
    for node_id, groups in by_node.items():
        items = sorted(groups.values(), key=lambda g: (-g["count"], -g["latest_ts"], g["text"]))
        out.append(
            {
                "node_id": node_id,
                "count": sum(g["count"] for g in items),
                "latest_ts": max(g["latest_ts"] for g in items),
                "suggestions": items,
            }
        )
    out.sort(key=lambda n: (-n["latest_ts"], n["node_id"]))
    return out


def for_tree(
    index, tree_id: str, dismissals: dict[str, Any] | None = None, *, dismissed: bool = False
) -> list[dict[str, Any]]:
    """The tree's suggestions grouped by node: `[{node_id, count, latest_ts, suggestions:
    [{text, text_key, count, answers, session_ids, examples: [{session_id, text, answer, note,
    ts, user_id, tree_version}]}]}]`, nodes in order of their most recent suggestion, most
    frequent first within a node.

    Occurrences hidden by `dismissals` (the `treesug:` document) are left out; with
    `dismissed=True` only those are listed, each group also carrying `dismissed_at` and
    `dismissed_by` (of its latest dismissal)."""
    hidden = _hidden(dismissals)
    rows = []
    for r in _rows(index, tree_id):
        record = hidden.get((r["node_id"], event_hash(r["event_id"])))
        if dismissed and record is not None:
            rows.append({**r, "dismissed_at": record["dismissed_at"], "dismissed_by": record["dismissed_by"]})
        elif not dismissed and record is None:
            rows.append(r)
    return _group(rows)


# --- dismissals ------------------------------------------------------------------------------
# The `trees` database replicates to every role, while custom steps belong to sessions that
# only their owners (and admins) may read. So the sidecar names occurrences by a hash of the
# event id and holds no wording: it reveals neither the text nor whose session it came from.

DISMISSALS_SCHEMA_VERSION = 1


def event_hash(event_id: str) -> str:
    return hashlib.sha256(event_id.encode()).hexdigest()[:24]


def dismissals_id(tree_id: str) -> str:
    return "treesug:" + tree_slug(tree_id)


def get_dismissals(db: Database, tree_id: str) -> dict[str, Any]:
    """The tree's `treesug:` sidecar (an empty one when nothing was ever dismissed)."""
    doc = get_or_none(db, dismissals_id(tree_id))
    if doc is None:
        return {
            "_id": dismissals_id(tree_id),
            "type": "tree_suggestion_dismissals",
            "schema_version": DISMISSALS_SCHEMA_VERSION,
            "tree_id": tree_id,
            "dismissals": [],
        }
    if doc.get("schema_version") != DISMISSALS_SCHEMA_VERSION:
        raise Conflict(
            f"{doc['_id']} has schema_version {doc.get('schema_version')!r}, which this server "
            f"does not know (it reads {DISMISSALS_SCHEMA_VERSION}); upgrade Branchline."
        )
    return doc


def _hidden(doc: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
    """(node id, event hash) -> the dismissal that hid that occurrence (the latest one wins)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for record in (doc or {}).get("dismissals", []):
        for h in record.get("events", []):
            out[(record["node_id"], h)] = record
    return out


def _group_rows(index, tree_id: str, node_id: str, key: str) -> list[dict[str, Any]]:
    rows = [r for r in _rows(index, tree_id) if r["node_id"] == node_id and r["text_key"] == key]
    if not rows:
        raise NotFound(
            f"No suggestion {key!r} at node {node_id!r} of {tree_id}; take node_id and "
            "text_key from GET /api/v1/trees/{tree_id}/suggestions."
        )
    return rows


def _update(db: Database, tree_id: str, change) -> int:
    def attempt() -> int:
        doc = get_dismissals(db, tree_id)
        changed = change(doc)
        if changed:
            save(db, doc)
        return changed

    return retry_on_conflict(
        attempt, busy="The tree's suggestions are being changed by another request; try again."
    )


def dismiss(db: Database, index, who: Principal, tree_id: str, node_id: str, raw_key: str) -> dict[str, Any]:
    """Hide every occurrence the group has now; later ones show the group again."""
    key = text_key(raw_key)
    hashes = [event_hash(r["event_id"]) for r in _group_rows(index, tree_id, node_id, key)]

    def change(doc: dict[str, Any]) -> int:
        already = {h for (n, h) in _hidden(doc) if n == node_id}
        fresh = [h for h in hashes if h not in already]
        if fresh:
            doc["dismissals"].append(
                {"node_id": node_id, "events": fresh, "dismissed_at": iso(), "dismissed_by": who.user_id}
            )
        return len(fresh)

    return {"ok": True, "node_id": node_id, "text_key": key, "dismissed": _update(db, tree_id, change)}


def restore(db: Database, index, tree_id: str, node_id: str, raw_key: str) -> dict[str, Any]:
    """Undo the dismissals of a group: all its occurrences show again."""
    key = text_key(raw_key)
    hashes = {event_hash(r["event_id"]) for r in _group_rows(index, tree_id, node_id, key)}

    def change(doc: dict[str, Any]) -> int:
        restored, kept = 0, []
        for record in doc["dismissals"]:
            if record["node_id"] == node_id:
                left = [h for h in record["events"] if h not in hashes]
                restored += len(record["events"]) - len(left)
                record["events"] = left
            if record["events"]:
                kept.append(record)
        doc["dismissals"] = kept
        return restored

    return {"ok": True, "node_id": node_id, "text_key": key, "restored": _update(db, tree_id, change)}
