"""Analytics rollups kept in the tenant's derived index, following the sessions feed.

A part of the derived index (`api.core.derived`): it follows the tenant's `sessions` database
from its `_changes` feed, so it works the same on both backends, on any instance (each
catches up before answering), and is rebuilt from scratch when its file is deleted or its
schema changes. Nothing here is replicated: the tables live only in the server's index.

Tables
    ins_docs     the documents of each session that can change a figure (trimmed by
                 `rollup.trim_event`), so a late event refolds its session without a read
                 from the store.
    ins_facts    each session's current facts (`rollup.session_facts`).
    ins_buckets  one aggregate per (tree, version, client, engineer, start day): the rollups.
"""
from __future__ import annotations

import csv
import io
import sqlite3
from typing import Any

import orjson

from sync.access import Principal
from sync.errors import NotFound
from sync.naming import physical_name

from ..core.context import AppContext
from ..core.derived import IndexPart, tenant_index
from ..core.docs import get_or_none
from ..tenants.repository import get_tenant
from ..trees.models import tree_version_doc_id
from . import rollup

SCHEMA = """
CREATE TABLE IF NOT EXISTS ins_docs (sid TEXT, id TEXT, doc TEXT, PRIMARY KEY (sid, id));
CREATE TABLE IF NOT EXISTS ins_facts (sid TEXT PRIMARY KEY, facts TEXT);
CREATE TABLE IF NOT EXISTS ins_buckets (
  tree_id TEXT, version INTEGER, client_id TEXT, engineer TEXT, day INTEGER, agg TEXT,
  PRIMARY KEY (tree_id, version, client_id, engineer, day));
"""

DEFAULT_IDLE_HOURS = 24


class TreeCache:
    """Published tree versions of one tenant; immutable, so each is read from the store once."""

    def __init__(self, ctx: AppContext, tenant_id: str) -> None:
        self._ctx = ctx
        self._tenant_id = tenant_id
        self._trees: dict[tuple[str, int], dict[str, Any] | None] = {}

    def __call__(self, tree_id: str, version: int) -> dict[str, Any] | None:
        key = (tree_id, version)
        if key not in self._trees:
            db = self._ctx.store.db(physical_name(self._tenant_id, "trees"))
            doc = get_or_none(db, tree_version_doc_id(tree_id, version))
            tree = doc.get("tree") if isinstance(doc, dict) else None
            if tree is None:
                return None  # not cached: it may be published (replicated) later
            self._trees[key] = tree if isinstance(tree, dict) else None
        return self._trees[key]


def _load_record(conn: sqlite3.Connection, sid: str) -> rollup.SessionRecord:
    record = rollup.SessionRecord()
    for doc_id, raw in conn.execute("SELECT id, doc FROM ins_docs WHERE sid=?", (sid,)):
        doc = orjson.loads(raw)
        if rollup.is_header(doc_id):
            record.header = doc
        else:
            record.events[doc_id] = doc
    row = conn.execute("SELECT facts FROM ins_facts WHERE sid=?", (sid,)).fetchone()
    record.facts = orjson.loads(row[0]) if row else None
    return record


def _move(conn: sqlite3.Connection, facts: dict[str, Any], sign: int) -> None:
    key = rollup.key_of(facts)
    row = conn.execute("SELECT agg FROM ins_buckets WHERE tree_id=? AND version=? AND client_id=? AND "
                       "engineer=? AND day=?", key).fetchone()
    agg = rollup.Aggregate.from_json(orjson.loads(row[0])) if row else rollup.Aggregate()
    agg.add(facts, sign)
    if agg.is_empty():
        conn.execute("DELETE FROM ins_buckets WHERE tree_id=? AND version=? AND client_id=? AND engineer=? "
                     "AND day=?", key)
    else:
        conn.execute("INSERT OR REPLACE INTO ins_buckets VALUES (?,?,?,?,?,?)",
                     (*key, orjson.dumps(agg.to_json()).decode()))


def on_session_change(conn: sqlite3.Connection, change: dict[str, Any], trees: rollup.TreeLookup) -> None:
    """One `_changes` row of the sessions database: the same steps as `rollup.apply`, on SQLite."""
    doc_id = change["id"]
    sid = rollup.session_id_of(doc_id)
    if sid is None:
        return
    doc = change.get("doc") or {}
    deleted = bool(change.get("deleted") or doc.get("_deleted"))
    kept = None if deleted else (rollup.trim_header(doc) if rollup.is_header(doc_id) else rollup.trim_event(doc))
    if kept is None:
        gone = conn.execute("DELETE FROM ins_docs WHERE sid=? AND id=?", (sid, doc_id)).rowcount
        if not gone:
            return
    else:
        conn.execute("INSERT OR REPLACE INTO ins_docs VALUES (?,?,?)", (sid, doc_id, orjson.dumps(kept).decode()))
    record = _load_record(conn, sid)
    new = rollup.refold(record, trees)
    if new == record.facts:
        return
    if record.facts is not None:
        _move(conn, record.facts, -1)
    if new is not None:
        _move(conn, new, 1)
        conn.execute("INSERT OR REPLACE INTO ins_facts VALUES (?,?)", (sid, orjson.dumps(new).decode()))
    else:
        conn.execute("DELETE FROM ins_facts WHERE sid=?", (sid,))


def index_part(ctx: AppContext) -> IndexPart:
    def feeds(tenant_id: str) -> dict[str, tuple[str, Any]]:
        trees = TreeCache(ctx, tenant_id)
        return {"insights.sessions": (physical_name(tenant_id, "sessions"),
                                      lambda conn, change: on_session_change(conn, change, trees))}
    return IndexPart("insights", SCHEMA, feeds)


def buckets(ctx: AppContext, tenant_id: str, where: str = "", params: tuple[Any, ...] = ()
            ) -> dict[rollup.BucketKey, rollup.Aggregate]:
    """The tenant's rollup buckets (after catching up with the feed), optionally pre-filtered in SQL."""
    rows = tenant_index(ctx, tenant_id).query(
        "SELECT tree_id, version, client_id, engineer, day, agg FROM ins_buckets" + (f" WHERE {where}" if where else ""),
        params)
    return {(r["tree_id"], r["version"], r["client_id"], r["engineer"], r["day"]):
            rollup.Aggregate.from_json(orjson.loads(r["agg"])) for r in rows}


def idle_ms(ctx: AppContext, tenant_id: str) -> int:
    """The tenant's idle threshold (`settings.analytics_idle_hours`, default 24 h)."""
    settings = get_tenant(ctx.system, tenant_id).get("settings") or {}
    hours = settings.get("analytics_idle_hours") if isinstance(settings, dict) else None
    if not isinstance(hours, (int, float)) or isinstance(hours, bool) or hours <= 0:
        hours = DEFAULT_IDLE_HOURS
    return int(hours * 3_600_000)



def _day(ms: int | None) -> int | None:
    return None if ms is None else ms // rollup.DAY_MS


def tree_analytics(ctx: AppContext, who: Principal, tree_id: str, *, version: int | None, client_id: str | None,
                   from_ms: int | None, to_ms: int | None, now_ms: int) -> dict[str, Any]:
    """DESIGN.md's tree analytics answer; engineers get the figures of their own sessions only."""
    if get_or_none(ctx.store.db(physical_name(who.tenant_id, "trees")), tree_id) is None:
        raise NotFound(f"No tree {tree_id} in this tenant (see GET /api/v1/trees).")
    mine = not _sees_team(who)
    agg = rollup.select(buckets(ctx, who.tenant_id, "tree_id=?", (tree_id,)), version=version,
                        client_id=client_id, engineer=who.user_id if mine else None,
                        from_day=_day(from_ms), to_day=_day(to_ms))
    return {"tree_id": tree_id, "version": version, "scope": "mine" if mine else "tenant",
            **rollup.figures(agg, now_ms=now_ms, idle_ms=idle_ms(ctx, who.tenant_id))}


_SUMMARY = ("sessions", "completed", "abandoned", "in_progress", "outcomes", "duration_ms")


def overview(ctx: AppContext, who: Principal, *, from_ms: int | None, to_ms: int | None,
             now_ms: int) -> dict[str, Any]:
    """Per tree and per engineer. Admins and owners see every engineer; anyone else only their own row,
    and (engineers) per-tree figures of their own sessions."""
    all_buckets = buckets(ctx, who.tenant_id)
    from_day, to_day = _day(from_ms), _day(to_ms)
    limit = idle_ms(ctx, who.tenant_id)
    tree_scope = None if _sees_team(who) else who.user_id
    tree_ids = sorted({k[0] for k in all_buckets})
    engineers = sorted({k[3] for k in all_buckets}) if who.is_admin else [who.user_id]

    def summary(agg: rollup.Aggregate) -> dict[str, Any]:
        full = rollup.figures(agg, now_ms=now_ms, idle_ms=limit)
        return {k: full[k] for k in _SUMMARY}

    trees = [{"tree_id": t, **summary(rollup.select(all_buckets, tree_id=t, engineer=tree_scope,
                                                           from_day=from_day, to_day=to_day))}
             for t in tree_ids]
    people = [{"user_id": e, **summary(rollup.select(all_buckets, engineer=e, from_day=from_day,
                                                                to_day=to_day))} for e in engineers]
    return {"trees": [t for t in trees if t["sessions"]], "engineers": [p for p in people if p["sessions"]
                                                                        or p["user_id"] == who.user_id]}


def _sees_team(who: Principal) -> bool:
    return who.role in ("owner", "admin", "author")


def tree_csv(answer: dict[str, Any]) -> str:
    """One row per node: what a spreadsheet user filters and sorts."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["tree_id", "version", "node_id", "visits", "answers", "drop_offs", "median_ms", "back_steps",
                "custom_steps"])
    for node_id, n in answer["nodes"].items():
        w.writerow([answer["tree_id"], answer["version"] or "", node_id, n["visits"],
                    ";".join(f"{a}={c}" for a, c in n["answers"].items()), n["drop_offs"],
                    "" if n["median_ms"] is None else n["median_ms"], n["back_steps"], n["custom_steps"]])
    return out.getvalue()


def overview_csv(answer: dict[str, Any]) -> str:
    """One row per tree, then one per engineer."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["kind", "id", "sessions", "completed", "abandoned", "in_progress", "resolved", "escalated",
                "unresolved", "p50_ms", "p90_ms"])
    rows = [("tree", r["tree_id"], r) for r in answer["trees"]] + \
        [("engineer", r["user_id"], r) for r in answer["engineers"]]
    for kind, ident, r in rows:
        w.writerow([kind, ident, r["sessions"], r["completed"], r["abandoned"], r["in_progress"],
                    *(r["outcomes"][o] for o in ("resolved", "escalated", "unresolved")),
                    *("" if r["duration_ms"][p] is None else r["duration_ms"][p] for p in ("p50", "p90"))])
    return out.getvalue()
