"""Map views (`GET|POST /{db}/_design/{ddoc}/_view/{view}`): the index and its queries.

Each database has a side SQLite file (`<data dir>/views/<database>.sqlite`) holding the
rows its views' map functions emitted, sorted in CouchDB's collation order (a SQLite
collation over the JSON keys, see collate.py). The index follows the database's changes
feed through the store's public API: a query first maps what changed since the seq the
index last saw (in batches, one transaction each), so an index is built once and then kept
up to date incrementally. A design document is indexed under a signature of its views'
code: when the code changes the design document's rows are dropped and rebuilt.

Reductions (`_count`, `_sum`, `_stats` and JavaScript reduce functions) are computed at
query time from the rows in range, not stored: exact, and cheap for the databases of one
tenant; a view reduced over millions of rows would want stored partial reductions.

Stores without a data folder (the CouchDB backend) keep the index in memory: it is
derived data, rebuilt from the feed when the process starts.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import BadRequest, NotFound
from ..private_files import private_dir, private_sqlite
from ..store import Database, Doc
from . import reduce as builtin_reduce
from .collate import collate_ids, collate_json, sort_key
from .designs import design_docs, javascript_ddoc, thrown_error
from .sandbox import compiled

_log = logging.getLogger(__name__)

# Changes mapped per transaction while an index catches up.
BATCH = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS indexes (ddoc TEXT PRIMARY KEY, sig TEXT NOT NULL, seq TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
  ddoc TEXT NOT NULL, view TEXT NOT NULL, key TEXT NOT NULL COLLATE couch,
  docid TEXT NOT NULL COLLATE couchid, n INTEGER NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rows_by_key ON rows (ddoc, view, key, docid, n);
CREATE INDEX IF NOT EXISTS rows_by_doc ON rows (ddoc, docid);
"""


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass
class ViewQuery:
    """The query options of CouchDB's view API."""

    reduce: bool | None = None
    group: bool = False
    group_level: int | None = None
    keys: list[Any] | None = None
    startkey: Any = None
    endkey: Any = None
    has_startkey: bool = False
    has_endkey: bool = False
    startkey_docid: str | None = None
    endkey_docid: str | None = None
    limit: int | None = None
    skip: int = 0
    descending: bool = False
    include_docs: bool = False
    inclusive_end: bool = True
    update_seq: bool = False
    update: bool = True


class ViewIndex:
    """The side file of one database (one connection, used under `lock`)."""

    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.create_collation("couch", collate_json)
        self.conn.create_collation("couchid", collate_ids)
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()


class Views:
    """All view indexes of a store."""

    def __init__(self, directory: Callable[[], Path | None]) -> None:
        self._directory = directory
        self._indexes: dict[str, ViewIndex] = {}
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path | None:
        return self._directory()

    def _path(self, physical: str) -> str:
        directory = self.directory
        if directory is None:
            return ":memory:"
        # Rows hold what documents say: private to the service user, like the databases.
        path = private_dir(directory) / f"{physical}.sqlite"
        private_sqlite(path)
        return str(path)

    def _index(self, physical: str) -> ViewIndex:
        with self._lock:
            index = self._indexes.get(physical)
            if index is None:
                index = self._indexes[physical] = ViewIndex(self._path(physical))
            return index

    def forget(self, physical: str) -> None:
        """Drop a deleted database's index (a database made later under its name starts anew)."""
        with self._lock:
            index = self._indexes.pop(physical, None)
        if index is not None:
            with index.lock:
                index.close()
        directory = self.directory
        if directory is not None:
            for suffix in ("", "-wal", "-shm"):
                (directory / f"{physical}.sqlite{suffix}").unlink(missing_ok=True)

    def cleanup(self, dbobj: Database) -> None:
        """`_view_cleanup`: drop the rows of design documents deleted or changed since indexed."""
        live = {
            d["_id"]: _signature(_views_of(d))
            for d in design_docs(dbobj)
            if d.get("language", "javascript") == "javascript"
        }
        index = self._index(dbobj.name)
        with index.lock, _transaction(index.conn):
            for ddoc_id, sig in index.conn.execute("SELECT ddoc, sig FROM indexes").fetchall():
                if live.get(ddoc_id) != sig:
                    index.conn.execute("DELETE FROM rows WHERE ddoc = ?", (ddoc_id,))
                    index.conn.execute("DELETE FROM indexes WHERE ddoc = ?", (ddoc_id,))

    # --- building ---------------------------------------------------------------------
    def refresh(self, dbobj: Database, ddoc: Doc) -> Any:
        """Bring `ddoc`'s rows up to date with the database; returns the seq they reflect."""
        index = self._index(dbobj.name)
        with index.lock:
            return self._refresh(index, dbobj, ddoc)

    def _refresh(self, index: ViewIndex, dbobj: Database, ddoc: Doc) -> Any:
        ddoc_id = ddoc["_id"]
        views = _views_of(ddoc)
        sig = _signature(views)
        conn = index.conn
        row = conn.execute("SELECT sig, seq FROM indexes WHERE ddoc = ?", (ddoc_id,)).fetchone()
        seq: Any = orjson.loads(row[1]) if row is not None and row[0] == sig else 0
        current = dbobj.update_seq
        if isinstance(seq, int) and isinstance(current, int) and seq > current:
            seq = 0  # the database was deleted and made again under the same name
        if row is None or seq == 0:
            with _transaction(conn):
                conn.execute("DELETE FROM rows WHERE ddoc = ?", (ddoc_id,))
                conn.execute(
                    "INSERT OR REPLACE INTO indexes (ddoc, sig, seq) VALUES (?, ?, ?)", (ddoc_id, sig, "0")
                )
        names = sorted(views)
        sources = {name: views[name]["map"] for name in names}
        what = {name: f"the map function of view {name!r} in {ddoc_id}" for name in names}
        while True:
            since = seq
            page = dbobj.changes(since=since, limit=BATCH, include_docs=True, pending=False)
            results = page["results"]
            if not results:
                return seq
            sandbox, handles = compiled(dbobj.name, sources, what)
            ids: list[str] = []
            inserts: list[tuple[str, str, str, str, int, str]] = []
            for change in results:
                docid = change["id"]
                ids.append(docid)
                doc = change.get("doc")
                if change.get("deleted") or doc is None or docid.startswith("_design/"):
                    continue
                outcomes = sandbox.map([handles[n] for n in names], doc, f"a map function of {ddoc_id}")
                for name, outcome in zip(names, outcomes, strict=True):
                    if outcome.failed:
                        # As CouchDB does: the document is left out of that view, and logged.
                        _log.info("map of %s/%s skipped %s: %s", ddoc_id, name, docid, outcome.threw)
                        continue
                    for n, (key, value) in enumerate(outcome.value or []):
                        inserts.append((ddoc_id, name, _dumps(key), docid, n, _dumps(value)))
            seq = page["last_seq"]
            with _transaction(conn):
                stored = conn.execute("SELECT sig, seq FROM indexes WHERE ddoc = ?", (ddoc_id,)).fetchone()
                if stored is None or stored[0] != sig or orjson.loads(stored[1]) != since:
                    # Another server process on this data folder (BRANCHLINE_PROCESSES) moved
                    # the index on meanwhile: this page may hold older bodies than its rows.
                    moved = True
                else:
                    moved = False
                    conn.executemany(
                        "DELETE FROM rows WHERE ddoc = ? AND docid = ?", [(ddoc_id, i) for i in ids]
                    )
                    conn.executemany(
                        "INSERT INTO rows (ddoc, view, key, docid, n, value) VALUES (?, ?, ?, ?, ?, ?)",
                        inserts,
                    )
                    conn.execute("UPDATE indexes SET seq = ? WHERE ddoc = ?", (_dumps(seq), ddoc_id))
            if moved:
                if stored is None or stored[0] != sig:
                    return self._refresh(index, dbobj, ddoc)  # dropped or rebuilt meanwhile
                seq = orjson.loads(stored[1])
                continue
            if len(results) < BATCH:
                return seq

    # --- querying ---------------------------------------------------------------------
    def query(
        self,
        dbobj: Database,
        ddoc: Doc,
        view: str,
        q: ViewQuery,
        fetch_docs: Callable[[list[tuple[str, str | None]]], list[Doc | None]],
    ) -> Doc:
        """The answer of `GET /{db}/_design/{ddoc}/_view/{view}` for `q`."""
        views = _views_of(ddoc)
        if view not in views:
            raise NotFound("missing_named_view")
        reducer = views[view].get("reduce")
        reducing = reducer is not None and q.reduce is not False
        if reducer is None and q.reduce:
            raise BadRequest(
                f"Reduce is invalid for view {view!r}: it has no reduce function.", error="query_parse_error"
            )
        if not reducing and (q.group or q.group_level is not None):
            raise BadRequest(
                "Invalid use of grouping on a map view: ask with a view that has a "
                "reduce function, or leave out group and group_level.",
                error="query_parse_error",
            )
        if reducing and q.include_docs:
            raise BadRequest(
                "include_docs is invalid for reduce: add reduce=false to list the rows.",
                error="query_parse_error",
            )
        if reducing and q.keys is not None and not (q.group or q.group_level is not None):
            raise BadRequest(
                "Multi-key fetches for reduce views must use group=true.", error="query_parse_error"
            )
        index = self._index(dbobj.name)
        with index.lock:
            if q.update:
                seq = self._refresh(index, dbobj, ddoc)
            else:
                stored = index.conn.execute(
                    "SELECT seq FROM indexes WHERE ddoc = ?", (ddoc["_id"],)
                ).fetchone()
                seq = orjson.loads(stored[0]) if stored else 0
            if reducing:
                out: Doc = {"rows": self._reduced(index, dbobj.name, ddoc["_id"], view, str(reducer), q)}
            else:
                out = self._mapped(index, ddoc["_id"], view, q, fetch_docs)
        if q.update_seq:
            out["update_seq"] = seq
        return out

    def _mapped(
        self,
        index: ViewIndex,
        ddoc_id: str,
        view: str,
        q: ViewQuery,
        fetch_docs: Callable[[list[tuple[str, str | None]]], list[Doc | None]],
    ) -> Doc:
        conn = index.conn
        total = conn.execute(
            "SELECT COUNT(*) FROM rows WHERE ddoc = ? AND view = ?", (ddoc_id, view)
        ).fetchone()[0]
        raw = self._select(conn, ddoc_id, view, q)
        offset = 0
        if q.keys is None and q.has_startkey:
            cond, args = _start_condition(q)
            before = conn.execute(
                f"SELECT COUNT(*) FROM rows WHERE ddoc = ? AND view = ? AND NOT ({cond})",
                (ddoc_id, view, *args),
            ).fetchone()[0]
            offset = before
        raw = raw[q.skip :]
        if q.limit is not None:
            raw = raw[: q.limit]
        rows: list[Doc] = [
            {"id": docid, "key": orjson.loads(key), "value": orjson.loads(value)} for key, docid, value in raw
        ]
        if q.include_docs:
            wanted: list[tuple[str, str | None]] = []
            for row in rows:
                value = row["value"]
                if isinstance(value, dict) and isinstance(value.get("_id"), str):
                    rev = value.get("_rev")
                    wanted.append((value["_id"], rev if isinstance(rev, str) else None))
                else:
                    wanted.append((row["id"], None))
            for row, doc in zip(rows, fetch_docs(wanted), strict=True):
                row["doc"] = doc
        return {"total_rows": total, "offset": min(offset + q.skip, total), "rows": rows}

    def _select(
        self, conn: sqlite3.Connection, ddoc_id: str, view: str, q: ViewQuery
    ) -> list[tuple[str, str, str]]:
        order = " DESC" if q.descending else ""
        order_by = f"ORDER BY key{order}, docid{order}, n{order}"
        if q.keys is not None:
            out: list[tuple[str, str, str]] = []
            for key in q.keys:
                out.extend(
                    conn.execute(
                        "SELECT key, docid, value FROM rows WHERE ddoc = ? AND view = ? AND key = ? "
                        f"{order_by}",
                        (ddoc_id, view, _dumps(key)),
                    ).fetchall()
                )
            return out
        conds, args = ["ddoc = ?", "view = ?"], [ddoc_id, view]
        if q.has_startkey:
            cond, a = _start_condition(q)
            conds.append(cond)
            args.extend(a)
        if q.has_endkey:
            cond, a = _end_condition(q)
            conds.append(cond)
            args.extend(a)
        sql = f"SELECT key, docid, value FROM rows WHERE {' AND '.join(conds)} {order_by}"
        return list(conn.execute(sql, args).fetchall())

    def _reduced(
        self, index: ViewIndex, scope: str, ddoc_id: str, view: str, reducer: str, q: ViewQuery
    ) -> list[Doc]:
        raw = self._select(index.conn, ddoc_id, view, q)
        rows = [(orjson.loads(k), docid, orjson.loads(v)) for k, docid, v in raw]
        grouped = q.group or q.group_level is not None
        groups: list[tuple[Any, list[tuple[Any, str, Any]]]] = []
        if not grouped:
            groups = [(None, rows)] if rows else []
        else:
            last: Any = object()
            for row in rows:
                gkey = _group_key(row[0], q)
                if groups and sort_key(gkey) == last:
                    groups[-1][1].append(row)
                else:
                    groups.append((gkey, [row]))
                    last = sort_key(gkey)
        groups = groups[q.skip :]
        if q.limit is not None:
            groups = groups[: q.limit]
        return [
            {"key": gkey, "value": _reduce(reducer, scope, ddoc_id, view, members)}
            for gkey, members in groups
        ]


def _group_key(key: Any, q: ViewQuery) -> Any:
    if q.group_level is None or q.group:
        return key
    if isinstance(key, list):
        return key[: q.group_level]
    return key


def _reduce(reducer: str, scope: str, ddoc_id: str, view: str, rows: list[tuple[Any, str, Any]]) -> Any:
    values = [v for _, _, v in rows]
    name = reducer.strip()
    if name in builtin_reduce.BUILTINS:
        return builtin_reduce.builtin(name, values)
    if name.startswith("_"):
        raise BadRequest(
            f"Unknown built-in reduce function {name!r} in view {view!r} of {ddoc_id}; "
            "use _count, _sum or _stats, or a JavaScript function.",
            error="query_parse_error",
        )
    where = f"the reduce function of view {view!r} in {ddoc_id}"
    sandbox, handles = compiled(scope, {"reduce": reducer}, {"reduce": where})
    keys = [[k, docid] for k, docid, _ in rows]
    outcome = sandbox.call(handles["reduce"], [keys, values, False], where)
    if outcome.failed:
        raise thrown_error(outcome.threw, where)
    return outcome.value


def _start_condition(q: ViewQuery) -> tuple[str, list[Any]]:
    """Rows at or past `startkey` (and `startkey_docid`) in the query's direction."""
    op = "<" if q.descending else ">"
    key = _dumps(q.startkey)
    if q.startkey_docid is None:
        return f"key {op}= ?", [key]
    return f"(key {op} ? OR (key = ? AND docid {op}= ?))", [key, key, q.startkey_docid]


def _end_condition(q: ViewQuery) -> tuple[str, list[Any]]:
    """Rows up to `endkey` (and `endkey_docid`), included unless `inclusive_end=false`."""
    op = ">" if q.descending else "<"
    eq = "=" if q.inclusive_end else ""
    key = _dumps(q.endkey)
    if q.endkey_docid is None:
        return f"key {op}{eq} ?", [key]
    return f"(key {op} ? OR (key = ? AND docid {op}{eq} ?))", [key, key, q.endkey_docid]


def _signature(views: dict[str, dict[str, Any]]) -> str:
    return hashlib.sha256(orjson.dumps(views, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _views_of(ddoc: Doc) -> dict[str, dict[str, Any]]:
    javascript_ddoc(ddoc)
    views = ddoc.get("views")
    if views is None:
        return {}
    if not isinstance(views, dict):
        raise BadRequest(f"`views` of {ddoc['_id']} must be an object of views.", error="invalid_design_doc")
    out: dict[str, dict[str, Any]] = {}
    for name, spec in views.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("map"), str):
            raise BadRequest(
                f"View {name!r} of {ddoc['_id']} needs a `map` function (a string).",
                error="invalid_design_doc",
            )
        out[name] = {"map": spec["map"]}
        if isinstance(spec.get("reduce"), str):
            out[name]["reduce"] = spec["reduce"]
    return out


class _transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
