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
    ins_counts   the rollups: one row per counter entry (`rollup.contributions`) per bucket
                 (tree, version, client, engineer, start day). A change adds only the
                 difference between its session's old and new contributions, so an event
                 appended in order touches a handful of rows, and SQL sums the buckets a
                 query selects.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from collections import Counter
from typing import Any

import orjson

from sync.access import Principal
from sync.errors import NotFound
from sync.naming import physical_name, tenant_db

from ..core.context import AppContext
from ..core.derived import IndexPart, tenant_index
from ..core.docs import get_or_none
from ..tenants.repository import get_tenant
from ..trees.models import tree_version_doc_id
from . import rollup

SCHEMA = """
CREATE TABLE IF NOT EXISTS ins_docs (sid TEXT, id TEXT, doc TEXT, PRIMARY KEY (sid, id));
CREATE TABLE IF NOT EXISTS ins_facts (sid TEXT PRIMARY KEY, facts TEXT);
CREATE TABLE IF NOT EXISTS ins_counts (
  tree_id TEXT, version INTEGER, client_id TEXT, engineer TEXT, day INTEGER, name TEXT, key TEXT, n INTEGER,
  PRIMARY KEY (tree_id, version, client_id, engineer, day, name, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ins_counts_name ON ins_counts (name, tree_id, engineer, day);
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
            db = tenant_db(self._ctx.store, self._tenant_id, "trees")
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


def _entries(facts: dict[str, Any] | None) -> Counter[tuple[Any, ...]]:
    """A session's rows in `ins_counts`: (bucket key..., counter name, encoded key) -> count."""
    if facts is None:
        return Counter()
    bucket = rollup.key_of(facts)
    return Counter(
        {(*bucket, name, rollup.encode_key(key)): n for (name, key), n in rollup.contributions(facts).items()}
    )


def _apply_delta(conn: sqlite3.Connection, delta: Counter[tuple[Any, ...]]) -> None:
    """Add `delta` to `ins_counts` (rows whose count falls to 0 go), in one statement per kind."""
    # In key order: each insert lands beside the last in the table's B-tree, not on a page
    # read back from disk (a rebuild writes millions of rows).
    moved = sorted((*row, by) for row, by in delta.items() if by)
    conn.executemany(
        "INSERT INTO ins_counts VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n", moved
    )
    conn.executemany(
        "DELETE FROM ins_counts WHERE tree_id=? AND version=? AND client_id=? AND engineer=? "
        "AND day=? AND name=? AND key=? AND n=0",
        [row for row, by in delta.items() if by < 0],
    )


class SessionsFollower:
    """The `sessions` feed handler: stores each change, then refolds every session a batch touched
    once, at the end of the batch (`DerivedIndex` calls `end_batch` before it commits the
    checkpoint), so a rebuild folds each session once rather than once per event."""

    def __init__(self, trees: rollup.TreeLookup) -> None:
        self.trees = trees
        self.pending: set[str] = set()

    def __call__(self, conn: sqlite3.Connection, change: dict[str, Any]) -> None:
        doc_id = change["id"]
        sid = rollup.session_id_of(doc_id)
        if sid is None:
            return
        doc = change.get("doc") or {}
        deleted = bool(change.get("deleted") or doc.get("_deleted"))
        kept = (
            None
            if deleted
            else (rollup.trim_header(doc) if rollup.is_header(doc_id) else rollup.trim_event(doc))
        )
        if kept is None:
            if not conn.execute("DELETE FROM ins_docs WHERE sid=? AND id=?", (sid, doc_id)).rowcount:
                return
        else:
            conn.execute(
                "INSERT OR REPLACE INTO ins_docs VALUES (?,?,?)", (sid, doc_id, orjson.dumps(kept).decode())
            )
        self.pending.add(sid)

    def end_batch(self, conn: sqlite3.Connection) -> None:
        pending, self.pending = self.pending, set()
        refold_stored(conn, sorted(pending), self.trees)


def refold_stored(conn: sqlite3.Connection, sids: list[str], trees: rollup.TreeLookup) -> None:
    """Refold sessions from their stored documents and move their contributions (`rollup.apply`'s
    steps), the counts of all of them summed first: sessions of one tree, day and engineer
    share rows, and one statement writes them all."""
    delta: Counter[tuple[Any, ...]] = Counter()
    kept: list[tuple[str, str]] = []
    gone: list[tuple[str]] = []
    for sid in sids:
        record = _load_record(conn, sid)
        new = rollup.refold(record, trees)
        if new == record.facts:
            continue
        delta.update(_entries(new))
        delta.subtract(_entries(record.facts))
        if new is not None:
            kept.append((sid, orjson.dumps(new).decode()))
        else:
            gone.append((sid,))
    _apply_delta(conn, delta)
    conn.executemany("INSERT OR REPLACE INTO ins_facts VALUES (?,?)", kept)
    conn.executemany("DELETE FROM ins_facts WHERE sid=?", gone)


# The one feed the rollups come from; queries catch up on it alone, not every index's feeds.
FEED = "insights.sessions"


def index_part(ctx: AppContext) -> IndexPart:
    def feeds(tenant_id: str) -> dict[str, tuple[str, Any]]:
        return {
            FEED: (
                physical_name(tenant_id, "sessions"),
                SessionsFollower(TreeCache(ctx, tenant_id)),
            )
        }

    return IndexPart("insights", SCHEMA, feeds)


def _where(filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """SQL conditions for the filters given (None: no condition). Columns are fixed names, never input."""
    clauses, params = [], []
    for column, value in filters.items():
        if value is None:
            continue
        op = {"from_day": "day >=", "to_day": "day <="}.get(column, f"{column} =")
        clauses.append(f"{op} ?")
        params.append(value)
    return (" AND ".join(clauses) or "1"), tuple(params)


def aggregate(ctx: AppContext, tenant_id: str, **filters: Any) -> rollup.Aggregate:
    """The merged rollups of the buckets matching `filters` (tree_id, version, client_id, engineer,
    from_day, to_day), after catching up with the feed."""
    where, params = _where(filters)
    agg = rollup.Aggregate()
    for r in tenant_index(ctx, tenant_id).query(
        f"SELECT name, key, SUM(n) AS n FROM ins_counts WHERE {where} GROUP BY name, key",
        params,
        feeds=(FEED,),
    ):
        agg.add_row(r["name"], r["key"], r["n"])
    return agg


def idle_ms(ctx: AppContext, tenant_id: str) -> int:
    """The tenant's idle threshold (`settings.analytics_idle_hours`, default 24 h)."""
    settings = get_tenant(ctx.system, tenant_id).get("settings") or {}
    hours = settings.get("analytics_idle_hours") if isinstance(settings, dict) else None
    if not isinstance(hours, (int, float)) or isinstance(hours, bool) or hours <= 0:
        hours = DEFAULT_IDLE_HOURS
    return int(hours * 3_600_000)


def _day(ms: int | None) -> int | None:
    return None if ms is None else ms // rollup.DAY_MS


def tree_analytics(
    ctx: AppContext,
    who: Principal,
    tree_id: str,
    *,
    version: int | None,
    client_id: str | None,
    from_ms: int | None,
    to_ms: int | None,
    now_ms: int,
) -> dict[str, Any]:
    """DESIGN.md's tree analytics answer; engineers get the figures of their own sessions only."""
    if get_or_none(tenant_db(ctx.store, who.tenant_id, "trees"), tree_id) is None:
        raise NotFound(f"No tree {tree_id} in this tenant (see GET /api/v1/trees).")
    mine = not _sees_team(who)
    agg = aggregate(
        ctx,
        who.tenant_id,
        tree_id=tree_id,
        version=version,
        client_id=client_id,
        engineer=who.user_id if mine else None,
        from_day=_day(from_ms),
        to_day=_day(to_ms),
    )
    return {
        "tree_id": tree_id,
        "version": version,
        "scope": "mine" if mine else "tenant",
        **rollup.figures(agg, now_ms=now_ms, idle_ms=idle_ms(ctx, who.tenant_id)),
    }


def overview(
    ctx: AppContext, who: Principal, *, from_ms: int | None, to_ms: int | None, now_ms: int
) -> dict[str, Any]:
    """Per tree and per engineer. Admins and owners see every engineer; anyone else only their own row,
    and (engineers) per-tree figures of their own sessions.

    Counted in SQL, not by merging rollups in Python: the duration percentiles need every distinct
    duration (one row per session, about), which at 100,000 sessions is too many rows to carry
    into Python for an answer that has one line per tree and per engineer."""
    team = _sees_team(who)
    span = {"from_day": _day(from_ms), "to_day": _day(to_ms)}
    index = tenant_index(ctx, who.tenant_id)
    index.catch_up((FEED,))
    per_tree = _summaries(index, "tree_id", {**span, "engineer": None if team else who.user_id})
    per_engineer = _summaries(index, "engineer", {**span, "engineer": None if who.is_admin else who.user_id})
    if not who.is_admin:
        # Anyone but an admin always gets their own row, even with no sessions yet.
        per_engineer.setdefault(who.user_id, _summary({}, {}, None, None))
    return {
        "trees": [{"tree_id": t, **per_tree[t]} for t in sorted(per_tree)],
        "engineers": [{"user_id": e, **per_engineer[e]} for e in sorted(per_engineer)],
        "days": days(
            ctx,
            who.tenant_id,
            engineer=None if team else who.user_id,
            from_day=_day(from_ms),
            to_day=_day(to_ms),
        ),
    }


# Nearest-rank percentiles (`rollup.percentile`) of the durations per group: the smallest
# duration whose running count reaches ceil(q * total). With integer counts, `seen * 1000 >=
# total * 1000q` is exactly `seen >= ceil(q * total)` for q = 0.5 and 0.9.
_PERCENTILES_SQL = """
WITH d AS (
  SELECT {group} AS g, CAST(key AS INTEGER) AS ms, SUM(n) AS n FROM ins_counts
  WHERE name = 'durations' AND {where} GROUP BY g, ms HAVING SUM(n) > 0),
c AS (
  SELECT g, ms, SUM(n) OVER (PARTITION BY g ORDER BY ms) AS seen, SUM(n) OVER (PARTITION BY g) AS total
  FROM d)
SELECT g, MIN(CASE WHEN seen * 1000 >= total * 500 THEN ms END) AS p50,
          MIN(CASE WHEN seen * 1000 >= total * 900 THEN ms END) AS p90
FROM c GROUP BY g
"""


def _summaries(index: Any, group: str, filters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`overview`'s figures per `group` (tree_id or engineer, a fixed column name)."""
    where, params = _where(filters)
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for r in index.query(
        f"SELECT {group} AS g, name, key, SUM(n) AS n FROM ins_counts WHERE name IN ('statuses', 'outcomes') "
        f"AND {where} GROUP BY g, name, key",
        params,
        catch_up=False,
    ):
        if r["n"]:
            counts.setdefault(r["g"], {}).setdefault(r["name"], {})[orjson.loads(r["key"])] = r["n"]
    pct = {
        r["g"]: (r["p50"], r["p90"])
        for r in index.query(_PERCENTILES_SQL.format(group=group, where=where), params, catch_up=False)
    }
    return {
        g: _summary(c.get("statuses", {}), c.get("outcomes", {}), *pct.get(g, (None, None)))
        for g, c in counts.items()
        if c.get("statuses")
    }


def _summary(
    statuses: dict[str, int], outcomes: dict[str, int], p50: int | None, p90: int | None
) -> dict[str, Any]:
    """One overview line, as `rollup.figures` words it."""
    return {
        "sessions": sum(statuses.values()),
        "completed": statuses.get("completed", 0),
        "abandoned": statuses.get("abandoned", 0),
        "in_progress": statuses.get("in_progress", 0),
        "outcomes": {o: outcomes.get(o, 0) for o in ("resolved", "escalated", "unresolved")},
        "duration_ms": {"p50": p50, "p90": p90},
    }


def days(ctx: AppContext, tenant_id: str, **filters: Any) -> list[dict[str, Any]]:
    """Sessions over time: per UTC day a session started, `{day, sessions, completed, resolved}`,
    oldest first, days without sessions left out (a chart fills them). Read from the same rollup
    rows as every other figure (their `day` column), so it is as incremental as they are."""
    where, params = _where(filters)
    rows = tenant_index(ctx, tenant_id).query(
        "SELECT day, name, key, SUM(n) AS n FROM ins_counts WHERE (name = 'statuses' OR (name = 'outcomes' "
        f"AND key = ?)) AND {where} GROUP BY day, name, key",
        (rollup.encode_key("resolved"), *params),
        feeds=(FEED,),
    )
    per_day: dict[int, dict[str, int]] = {}
    for r in rows:
        slot = per_day.setdefault(r["day"], {"sessions": 0, "completed": 0, "resolved": 0})
        if r["name"] == "outcomes":
            slot["resolved"] += r["n"]
        else:
            slot["sessions"] += r["n"]
            if r["key"] == rollup.encode_key("completed"):
                slot["completed"] += r["n"]
    return [{"day": _iso_day(d), **per_day[d]} for d in sorted(per_day)]


def _iso_day(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * rollup.DAY_MS // 1000))


def _sees_team(who: Principal) -> bool:
    return who.role in ("owner", "admin", "author")


def tree_csv(answer: dict[str, Any]) -> str:
    """One row per node: what a spreadsheet user filters and sorts."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(
        [
            "tree_id",
            "version",
            "node_id",
            "visits",
            "answers",
            "drop_offs",
            "median_ms",
            "back_steps",
            "custom_steps",
        ]
    )
    for node_id, n in answer["nodes"].items():
        w.writerow(
            [
                answer["tree_id"],
                answer["version"] or "",
                node_id,
                n["visits"],
                ";".join(f"{a}={c}" for a, c in n["answers"].items()),
                n["drop_offs"],
                "" if n["median_ms"] is None else n["median_ms"],
                n["back_steps"],
                n["custom_steps"],
            ]
        )
    return out.getvalue()


def overview_csv(answer: dict[str, Any]) -> str:
    """One row per tree, then one per engineer."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(
        [
            "kind",
            "id",
            "sessions",
            "completed",
            "abandoned",
            "in_progress",
            "resolved",
            "escalated",
            "unresolved",
            "p50_ms",
            "p90_ms",
        ]
    )
    rows = [("tree", r["tree_id"], r) for r in answer["trees"]] + [
        ("engineer", r["user_id"], r) for r in answer["engineers"]
    ]
    for kind, ident, r in rows:
        w.writerow(
            [
                kind,
                ident,
                r["sessions"],
                r["completed"],
                r["abandoned"],
                r["in_progress"],
                *(r["outcomes"][o] for o in ("resolved", "escalated", "unresolved")),
                *("" if r["duration_ms"][p] is None else r["duration_ms"][p] for p in ("p50", "p90")),
            ]
        )
    return out.getvalue()
