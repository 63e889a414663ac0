"""The tree library: listing, filters, sorting and ranked full-text search.

Built from the `trees` and `sessions` feeds into the tenant's derived index (see
`api.core.derived`), so it is the same on both backends and can always be rebuilt. Search
uses SQLite FTS5 with BM25, weighting a match in the title above tags, then the description,
then node text (titles, bodies, help, answers).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import orjson

from sync.naming import physical_name

from ..core.derived import IndexPart

SCHEMA = """
CREATE TABLE IF NOT EXISTS lib_trees (
  id TEXT PRIMARY KEY, title TEXT, description TEXT, category TEXT, tags TEXT,
  archived INTEGER, node_count INTEGER, title_key TEXT);
CREATE TABLE IF NOT EXISTS lib_tags (id TEXT, tag TEXT, PRIMARY KEY (id, tag));
CREATE INDEX IF NOT EXISTS lib_tags_tag ON lib_tags (tag);
CREATE TABLE IF NOT EXISTS lib_meta (
  id TEXT PRIMARY KEY, latest_version INTEGER, published_at TEXT, updated_at TEXT,
  updated_by TEXT, created_at TEXT, starter TEXT);
CREATE TABLE IF NOT EXISTS lib_usage (session_id TEXT PRIMARY KEY, tree_id TEXT, created_at INTEGER);
CREATE INDEX IF NOT EXISTS lib_usage_tree ON lib_usage (tree_id);
CREATE VIRTUAL TABLE IF NOT EXISTS lib_fts USING fts5(
  id UNINDEXED, title, tags, description, nodes, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO lib_fts(lib_fts, rank) VALUES ('rank', 'bm25(0.0, 10.0, 6.0, 3.0, 1.0)');
"""

# The FTS `rank` is bm25 with weights per column: id (unindexed) 0, title 10, tags 6,
# description 3, node text 1 (configured in SCHEMA).


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _node_text(nodes: Any) -> str:
    parts: list[str] = []
    if not isinstance(nodes, dict):
        return ""
    for node in nodes.values():
        if not isinstance(node, dict):
            continue
        for key in ("title", "body", "help", "warning", "summary", "root_cause"):
            if isinstance(node.get(key), str):
                parts.append(node[key])
        for opt in node.get("options") or []:
            if isinstance(opt, dict) and isinstance(opt.get("label"), str):
                parts.append(opt["label"])
        for cmd in node.get("commands") or []:
            if isinstance(cmd, dict) and isinstance(cmd.get("text"), str):
                parts.append(cmd["text"])
    return "\n".join(parts)


def _on_tree_change(conn: sqlite3.Connection, change: dict[str, Any]) -> None:
    docid = change["id"]
    doc = change.get("doc") or {}
    if docid.startswith("treemeta:"):
        tree_id = "tree:" + docid.split(":", 1)[1]
        if change.get("deleted"):
            conn.execute("DELETE FROM lib_meta WHERE id=?", (tree_id,))
        else:
            conn.execute(
                "INSERT OR REPLACE INTO lib_meta VALUES (?,?,?,?,?,?,?)",
                (
                    tree_id,
                    doc.get("latest_version"),
                    doc.get("published_at"),
                    doc.get("updated_at"),
                    doc.get("updated_by"),
                    doc.get("created_at"),
                    orjson.dumps(doc.get("starter")).decode() if doc.get("starter") else None,
                ),
            )
        return
    if not docid.startswith("tree:"):
        return
    conn.execute("DELETE FROM lib_trees WHERE id=?", (docid,))
    conn.execute("DELETE FROM lib_tags WHERE id=?", (docid,))
    conn.execute("DELETE FROM lib_fts WHERE id=?", (docid,))
    if change.get("deleted") or doc.get("type") != "tree":
        return
    title = _text(doc.get("title"))
    tags = [t for t in doc.get("tags") or [] if isinstance(t, str)]
    description = _text(doc.get("description"))
    nodes = doc.get("nodes")
    if not isinstance(nodes, dict):
        nodes = {}
    category = _text(doc.get("category"))
    conn.execute(
        "INSERT INTO lib_trees VALUES (?,?,?,?,?,?,?,?)",
        (
            docid,
            title,
            description,
            category,
            orjson.dumps(tags).decode(),
            1 if doc.get("archived") else 0,
            len(nodes),
            title.casefold(),
        ),
    )
    conn.executemany("INSERT OR IGNORE INTO lib_tags VALUES (?,?)", [(docid, t.casefold()) for t in tags])
    conn.execute(
        "INSERT INTO lib_fts VALUES (?,?,?,?,?)",
        (docid, title, " ".join(tags), description, _node_text(nodes)),
    )


def _is_header_id(docid: str) -> bool:
    return docid.startswith("session:") and ":ev:" not in docid


def _on_session_change(conn: sqlite3.Connection, change: dict[str, Any]) -> None:
    docid = change["id"]
    if not _is_header_id(docid):
        return
    doc = change.get("doc") or {}
    if change.get("deleted") or not isinstance(doc.get("tree_id"), str):
        conn.execute("DELETE FROM lib_usage WHERE session_id=?", (docid,))
        return
    created = doc.get("created_at") if isinstance(doc.get("created_at"), int) else None
    conn.execute("INSERT OR REPLACE INTO lib_usage VALUES (?,?,?)", (docid, doc["tree_id"], created))


_on_session_change.keep = _is_header_id  # type: ignore[attr-defined]  # the store skips events unread


# The feeds the library's tables come from: its queries catch up on these alone.
FEEDS = ("library.trees", "library.sessions")


def index_part() -> IndexPart:
    return IndexPart(
        "library",
        SCHEMA,
        lambda tid: {
            FEEDS[0]: (physical_name(tid, "trees"), _on_tree_change),
            FEEDS[1]: (physical_name(tid, "sessions"), _on_session_change),
        },
    )


_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """Turn what a person typed into an FTS5 query: every word must match, as a prefix."""
    tokens = _TOKEN.findall(text or "")[:12]
    if not tokens:
        return None
    return " AND ".join(f'"{t}"*' for t in tokens)


SORTS = {
    "name": "t.title_key ASC, t.id ASC",
    "updated": "COALESCE(m.updated_at, '') DESC, t.id ASC",
    "usage": "COALESCE(u.usage, 0) DESC, t.title_key ASC, t.id ASC",
}


def search(
    index,
    *,
    q: str | None,
    category: str | None,
    tag: str | None,
    sort: str | None,
    include_archived: bool,
    limit: int,
    offset: int,
    hidden: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """One page of the library. With `q`, results are ranked by relevance unless `sort` is given.
    `hidden`: trees the caller may not see (scoped to teams they are not in)."""
    where, params = [], []
    match = fts_query(q) if q else None
    if q and match is None:
        return []
    if not include_archived:
        where.append("t.archived = 0")
    if hidden:
        where.append(f"t.id NOT IN ({','.join('?' * len(hidden))})")
        params.extend(sorted(hidden))
    if category:
        where.append("t.category = ? COLLATE NOCASE")
        params.append(category)
    if tag:
        where.append("t.id IN (SELECT id FROM lib_tags WHERE tag = ?)")
        params.append(tag.casefold())
    where_sql = " AND ".join(where) or "1"
    if match and not sort:
        # Let FTS5 rank and cut the page itself (its ORDER BY rank LIMIT path); filters go in
        # as an id set, which keeps that path. Joining first computes bm25 several times over.
        page_sql = (
            "SELECT id, rank FROM lib_fts WHERE lib_fts MATCH ? AND id IN "
            f"(SELECT t.id FROM lib_trees t WHERE {where_sql}) ORDER BY rank, id LIMIT ? OFFSET ?"
        )
        params.insert(0, match)
    else:
        source = "lib_trees t"
        if match:
            where_sql += " AND t.id IN (SELECT id FROM lib_fts WHERE lib_fts MATCH ?)"
            params.append(match)
        if sort == "usage":
            source += (
                " LEFT JOIN (SELECT tree_id, COUNT(*) AS usage FROM lib_usage GROUP BY tree_id) u"
                " ON u.tree_id = t.id"
            )
        elif sort == "updated":
            source += " LEFT JOIN lib_meta m ON m.id = t.id"
        page_sql = (
            f"SELECT t.id FROM {source} WHERE {where_sql} ORDER BY {SORTS[sort or 'name']} LIMIT ? OFFSET ?"
        )
    page = index.query(page_sql, [*params, limit, offset], feeds=FEEDS)
    if not page:
        return []
    ids = [r["id"] for r in page]
    details = index.query(
        "SELECT t.*, m.latest_version, m.published_at, m.updated_at, m.starter, "
        "(SELECT COUNT(*) FROM lib_usage x WHERE x.tree_id = t.id) AS usage "
        f"FROM lib_trees t LEFT JOIN lib_meta m ON m.id = t.id WHERE t.id IN ({','.join('?' * len(ids))})",
        ids,
        catch_up=False,
    )
    by_id = {r["id"]: r for r in details}
    out = []
    for r in page:
        row = by_id[r["id"]]
        if "rank" in r:
            row["rank"] = r["rank"]
        out.append(_public_row(row))
    return out


def _public_row(r: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": r["id"],
        "title": r["title"],
        "description": r["description"],
        "category": r["category"],
        "tags": orjson.loads(r["tags"] or "[]"),
        "archived": bool(r["archived"]),
        "node_count": r["node_count"],
        "latest_version": r["latest_version"],
        "published_at": r["published_at"],
        "updated_at": r["updated_at"],
        "usage": r["usage"],
        "starter": bool(r["starter"]),
    }
    if "rank" in r:
        out["score"] = round(-r["rank"], 4)
    return out


def categories(
    index, include_archived: bool = False, hidden: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Categories with their trees' counts, leaving out `hidden` trees (see `search`)."""
    rows = index.query(
        "SELECT category, COUNT(*) AS n FROM lib_trees WHERE category != '' "
        + ("" if include_archived else "AND archived = 0 ")
        + (f"AND id NOT IN ({','.join('?' * len(hidden))}) " if hidden else "")
        + "GROUP BY category ORDER BY category",
        sorted(hidden),
        feeds=FEEDS,
    )
    return [{"category": r["category"], "count": r["n"]} for r in rows]
