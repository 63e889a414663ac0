"""Suggestions for authors: the custom steps engineers added while running a tree.

An engineer who needs a step the tree lacks adds a `custom_step` event at the node where
they were (`node_id`, `text`, `answer`, optional `note`). Gathered over every session of a
tree and grouped by node and by wording, these are the tree's most concrete improvement
requests; the editor shows them on the node and turns one into a real node in one step.

Built from the sessions `_changes` feed into the tenant's derived index (see
`api.core.derived`): headers give each session's tree, events give the custom steps. Either
may arrive first in the feed, so the two are joined at query time, and everything can be
rebuilt by replaying the feed.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Any

from sync.naming import physical_name

from ..core.derived import IndexPart

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
        conn.execute("INSERT OR REPLACE INTO sug_sessions VALUES (?,?,?)",
                     (header.group(1), doc["tree_id"], version))
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
    conn.execute("INSERT OR REPLACE INTO sug_steps VALUES (?,?,?,?,?,?,?,?,?)", (
        docid, event.group(1), node_id, text.strip(), text_key(text), answer, note, ts, user))


def index_part() -> IndexPart:
    return IndexPart("suggestions", SCHEMA, lambda tid: {
        "suggestions.sessions": (physical_name(tid, "sessions"), _on_session_change),
    })


def for_tree(index, tree_id: str) -> list[dict[str, Any]]:
    """The tree's suggestions grouped by node: `[{node_id, suggestions: [{text, count,
    answers, session_ids, examples: [{session_id, text, answer, note, ts, user_id,
    tree_version}]}]}]`, nodes in order of their most recent suggestion, most frequent first
    within a node."""
    rows = index.query(
        "SELECT s.*, h.tree_version FROM sug_steps s JOIN sug_sessions h ON h.session_id = s.session_id "
        "WHERE h.tree_id = ? ORDER BY s.ts DESC, s.event_id DESC", (tree_id,))
    by_node: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        groups = by_node.setdefault(r["node_id"], {})
        g = groups.get(r["text_key"])
        if g is None:
            # Rows come newest first: the first wording seen is the latest one.
            g = groups[r["text_key"]] = {"text": r["text"], "count": 0, "answers": {}, "session_ids": [],
                                         "examples": [], "latest_ts": r["ts"]}
        g["count"] += 1
        if r["answer"]:
            g["answers"][r["answer"]] = g["answers"].get(r["answer"], 0) + 1
        if r["session_id"] not in g["session_ids"] and len(g["session_ids"]) < SESSION_IDS:
            g["session_ids"].append(r["session_id"])
        if len(g["examples"]) < EXAMPLES:
            g["examples"].append({"session_id": r["session_id"], "text": r["text"], "answer": r["answer"],
                                  "note": r["note"], "ts": r["ts"], "user_id": r["user_id"],
                                  "tree_version": r["tree_version"]})
    out = []
    for node_id, groups in by_node.items():
        items = sorted(groups.values(), key=lambda g: (-g["count"], -g["latest_ts"], g["text"]))
        out.append({"node_id": node_id, "count": sum(g["count"] for g in items),
                    "latest_ts": max(g["latest_ts"] for g in items), "suggestions": items})
    out.sort(key=lambda n: (-n["latest_ts"], n["node_id"]))
    return out
