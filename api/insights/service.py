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
CREATE TABLE IF NOT EXISTS ins_overview (
  engineer TEXT, tree_id TEXT, day INTEGER, name TEXT, key TEXT, n INTEGER,
  PRIMARY KEY (engineer, tree_id, day, name, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ins_overview_trees (
  tree_id TEXT, day INTEGER, name TEXT, key TEXT, n INTEGER,
  PRIMARY KEY (tree_id, day, name, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ins_overview_engineers (
  engineer TEXT, day INTEGER, name TEXT, key TEXT, n INTEGER,
  PRIMARY KEY (engineer, day, name, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ins_durations (
  sid TEXT PRIMARY KEY, tree_id TEXT, engineer TEXT, day INTEGER, ms INTEGER);
CREATE INDEX IF NOT EXISTS ins_durations_tree ON ins_durations (tree_id, ms, day);
CREATE INDEX IF NOT EXISTS ins_durations_engineer ON ins_durations (engineer, ms, day);
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


# The overview's counters, also kept without the version and client columns, three ways:
# per engineer and tree (`ins_overview`: what one engineer sees of their own sessions), per
# tree (`ins_overview_trees`) and per engineer (`ins_overview_engineers`). The whole team's
# overview then sums a few rows per tree or engineer and day, not one per tree x engineer x day.
_OVERVIEW_NAMES = ("statuses", "outcomes")
_OVERVIEW_TABLES = (
    ("ins_overview", ("engineer", "tree_id")),
    ("ins_overview_trees", ("tree_id",)),
    ("ins_overview_engineers", ("engineer",)),
)


def _upsert(
    conn: sqlite3.Connection, table: str, columns: tuple[str, ...], delta: Counter[tuple[Any, ...]]
) -> None:
    """Add `delta` (rows keyed by the key `columns`; the table's last column is n) to `table`;
    rows whose count falls to 0 go. In key order: each insert lands beside the last in the
    table's B-tree, not on a page read back from disk (a rebuild writes millions of rows)."""
    marks = ",".join("?" * (len(columns) + 1))
    conn.executemany(
        f"INSERT INTO {table} VALUES ({marks}) ON CONFLICT DO UPDATE SET n = n + excluded.n",
        sorted((*row, by) for row, by in delta.items() if by),
    )
    match = " AND ".join(f"{c}=?" for c in columns)
    conn.executemany(
        f"DELETE FROM {table} WHERE {match} AND n=0", [row for row, by in delta.items() if by < 0]
    )


def _apply_delta(conn: sqlite3.Connection, delta: Counter[tuple[Any, ...]]) -> None:
    """Add `delta` to `ins_counts` and, for the overview's counters, to the overview tables."""
    _upsert(conn, "ins_counts", ("tree_id", "version", "client_id", "engineer", "day", "name", "key"), delta)
    ways: tuple[Counter[tuple[Any, ...]], ...] = (Counter(), Counter(), Counter())
    for (tree_id, _version, _client, engineer, day, name, key), by in delta.items():
        if by and name in _OVERVIEW_NAMES:
            ways[0][(engineer, tree_id, day, name, key)] += by
            ways[1][(tree_id, day, name, key)] += by
            ways[2][(engineer, day, name, key)] += by
    for (table, group), rows in zip(_OVERVIEW_TABLES, ways, strict=True):
        _upsert(conn, table, (*group, "day", "name", "key"), rows)


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
    timed: list[tuple[Any, ...]] = []
    untimed: list[tuple[str]] = []
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
        if new is not None and new["duration_ms"] is not None:
            tree_id, _version, _client, engineer, day = new["key"]
            timed.append((sid, tree_id, engineer, day, new["duration_ms"]))
        else:
            untimed.append((sid,))
    _apply_delta(conn, delta)
    conn.executemany("INSERT OR REPLACE INTO ins_facts VALUES (?,?)", kept)
    conn.executemany("DELETE FROM ins_facts WHERE sid=?", gone)
    # A completed session's duration, once more, one row per session: the overview's
    # percentiles walk these in order through an index instead of summing count rows.
    conn.executemany("INSERT OR REPLACE INTO ins_durations VALUES (?,?,?,?,?)", timed)
    conn.executemany("DELETE FROM ins_durations WHERE sid=?", untimed)


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
    """Per tree and per engineer, and sessions over time (per UTC day a session started,
    `{day, sessions, completed, resolved}`, oldest first, days without sessions left out).
    Admins and owners see every engineer; anyone else only their own row, and engineers the
    per-tree figures and days of their own sessions.

    Counted from the overview's rollup rows of the range, and the duration percentiles
    read in order from the per-session durations (`_percentiles`): merging every stored count
    into rollup objects, as a tree's analytics do, is too slow for a whole tenant's overview."""
    team = _sees_team(who)
    me = who.user_id
    span = {"from_day": _day(from_ms), "to_day": _day(to_ms)}
    index = tenant_index(ctx, who.tenant_id)
    index.catch_up((FEED,))
    where, params = _where(span)
    trees: dict[str, dict[str, Counter[str]]] = {}
    engineers: dict[str, dict[str, Counter[str]]] = {}
    per_day: dict[int, dict[str, int]] = {}
    mine, mine_params = f"engineer = ? AND {where}", (me, *params)
    # Each figure summed by SQLite from the narrowest table that has it: a few hundred rows reach
    # Python. The team's per-tree and per-day figures come from tables without the engineer.
    sums = (
        ("t", "tree_id", "ins_overview_trees", where, params)
        if team
        else ("t", "tree_id", "ins_overview", mine, mine_params),
        (
            "e",
            "engineer",
            "ins_overview_engineers",
            where if who.is_admin else mine,
            params if who.is_admin else mine_params,
        ),
        ("d", "day", "ins_overview_engineers", where if team else mine, params if team else mine_params),
    )
    for by, column, table, cond, args in sums:
        for r in index.query(
            f"SELECT {column} AS g, name, key, SUM(n) AS n FROM {table} "
            f"WHERE {cond} GROUP BY {column}, name, key",
            args,
            catch_up=False,
        ):
            n, name, key = r["n"], r["name"], orjson.loads(r["key"])
            if not n:
                continue
            if by == "d":
                slot = per_day.setdefault(r["g"], {"sessions": 0, "completed": 0, "resolved": 0})
                if name == "statuses":
                    slot["sessions"] += n
                    slot["completed"] += n if key == "completed" else 0
                elif key == "resolved":
                    slot["resolved"] += n
            else:
                counts = (trees if by == "t" else engineers).setdefault(r["g"], {})
                if name not in counts:
                    counts[name] = Counter()
                counts[name][key] += n
    if not who.is_admin:
        # Anyone but an admin always gets their own row, even with no sessions yet.
        engineers.setdefault(me, {})
    tree_pct = _percentiles(index, "tree_id", *_where({**span, "engineer": None if team else me}))
    engineer_pct = _percentiles(
        index, "engineer", *_where({**span, "engineer": None if who.is_admin else me})
    )
    return {
        "trees": [{"tree_id": t, **_summary(trees[t], tree_pct.get(t))} for t in sorted(trees)],
        "engineers": [
            {"user_id": e, **_summary(engineers[e], engineer_pct.get(e))} for e in sorted(engineers)
        ],
        "days": [{"day": _iso_day(d), **per_day[d]} for d in sorted(per_day)],
    }


def _percentiles(index: Any, group: str, where: str, params: tuple[Any, ...]) -> dict[str, tuple[int, int]]:
    """Nearest-rank p50 and p90 (`rollup.percentile`) of the completed sessions' durations per
    `group` (tree_id or engineer, a fixed column name): per group, the count, then the value at
    rank ceil(q * count), read in order from the group's (group, ms, day) index."""
    out: dict[str, tuple[int, int]] = {}
    at_rank = f"SELECT ms FROM ins_durations WHERE {group} = ? AND {where} ORDER BY ms LIMIT 1 OFFSET ?"
    for r in index.query(
        f"SELECT {group} AS g, COUNT(*) AS n FROM ins_durations WHERE {where} GROUP BY g",
        params,
        catch_up=False,
    ):
        # ceil(q * n) in integers, as `rollup.percentile` computes it.
        ranks = [(q * r["n"] + 999) // 1000 for q in (500, 900)]
        p50, p90 = (
            index.query(at_rank, (r["g"], *params, rank - 1), catch_up=False)[0]["ms"] for rank in ranks
        )
        out[r["g"]] = (p50, p90)
    return out


def _summary(counts: dict[str, Counter[str]], pct: tuple[int, int] | None) -> dict[str, Any]:
    """One overview line, as `rollup.figures` words it."""
    statuses, outcomes = counts.get("statuses", Counter()), counts.get("outcomes", Counter())
    p50, p90 = pct or (None, None)
    return {
        "sessions": sum(statuses.values()),
        "completed": statuses["completed"],
        "abandoned": statuses["abandoned"],
        "in_progress": statuses["in_progress"],
        "outcomes": {o: outcomes[o] for o in ("resolved", "escalated", "unresolved")},
        "duration_ms": {"p50": p50, "p90": p90},
    }


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
