"""Derived data (search, listings, usage counts) built from the `_changes` feed.

Each tenant has one SQLite index file under `{data_dir}/index/`. It holds nothing that
cannot be rebuilt: delete the file and the next query replays the feeds from the start. The
same code serves both backends, since it only reads `_changes`.

A reader calls `catch_up()` before querying, so what an API caller just wrote is visible in
the very next listing (no background lag to reason about).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync.nonblocking import NonblockingLock, WouldBlock, is_nonblocking
from sync.private_files import private_dir, private_sqlite
from sync.store import Store

if TYPE_CHECKING:
    from .context import AppContext

# handler(conn, change) for one `_changes` row with `doc` included (deleted docs: doc has `_deleted`).
# A handler may carry `end_batch(conn)` (run after each batch) and `keep(docid) -> bool` (the
# ids of the only documents it looks at; a pure function of the id).
Handler = Callable[[sqlite3.Connection, dict[str, Any]], None]

_BATCH = 500
_GROUP = 20  # pages per transaction while catching up
# As sqlite3's default: how long a catch-up waits for another process's (rare: the index is
# written only when its feeds moved on).
_BUSY_TIMEOUT_MS = 5000
# How long a feed no commit was announced for is taken as read without reading it: a writer
# the store does not see (the command line on the same files) shows within this time.
_QUIET_S = 1.0


# (database, a handler's `keep`, or None for every document)
_CountKey = tuple[str, "Callable[[str], bool] | None"]


class WrittenCounts:
    """Commits per database, told by the store before each becomes visible and again once it
    is made (`EmbeddedStore.watch_commits`). A derived index whose feed's count has not moved
    since it last read to the end, with no commit under way, has nothing to read: an
    engineer's every `_changes` request asks the sessions index, and reading the feed each
    time to find nothing was a twentieth of the server's work with a team syncing (issue 22).

    Why "under way" matters: a feed page that saw a commit (a session shared with the
    reader) asks the index next, possibly before the commit's thread has finished telling
    anyone; counted only once made, the index would answer without the share, and the page's
    reader, now past it, would never be sent the session's older events.

    A handler that looks only at some documents (`keep`, a pure function of the id) is
    counted only the commits that wrote one of them: the sessions index follows headers, and
    the events a team writes every second do not move its count.

    `reliable` is False where the store cannot tell of every commit before it is visible
    (CouchDB, which other instances write; several server processes on one data folder):
    indexes then read their feeds every time, as before."""

    def __init__(self, store: Store) -> None:
        self._counts: dict[_CountKey, int] = {}
        self._under_way: dict[_CountKey, int] = {}
        self._keeps: tuple[Callable[[str], bool], ...] = ()
        # Moves when a database is created or deleted (its counts are dropped then).
        self._epoch = 0
        self._lock = threading.Lock()
        watch = getattr(store, "watch_commits", None)
        self.reliable = bool(watch is not None and not getattr(store, "shared", False) and watch(self._phase))

    def track(self, keep: Callable[[str], bool]) -> None:
        """Count, from now on, the commits that wrote a document `keep` looks at."""
        with self._lock:
            if keep not in self._keeps:
                self._keeps = (*self._keeps, keep)

    def _phase(self, name: str, ids: list[str] | None, done: bool | None) -> None:
        with self._lock:
            if ids is None:  # created or deleted: whatever was counted of it is moot
                for key in [k for k in self._counts if k[0] == name]:
                    del self._counts[key]
                self._epoch += 1
                return
            keys = [(name, None)] + [(name, keep) for keep in self._keeps if any(keep(i) for i in ids)]
            for key in keys:
                if done is None:
                    self._under_way[key] = self._under_way.get(key, 0) + 1
                    continue
                if done:
                    self._counts[key] = self._counts.get(key, 0) + 1
                left = self._under_way.get(key)
                if left is not None:  # None: its keep was tracked while the commit was made
                    if left <= 1:
                        del self._under_way[key]
                    else:
                        self._under_way[key] = left - 1

    def token(self, name: str, keep: Callable[[str], bool] | None = None) -> tuple[int, int] | None:
        """A value that changes with every commit of `name` (that wrote a document `keep`
        looks at, a tracked one); None: not known, or a commit is under way."""
        if not self.reliable:
            return None
        with self._lock:
            if (name, keep) in self._under_way:
                return None
            return self._counts.get((name, keep), 0), self._epoch


class DerivedIndex:
    """One tenant's index: a SQLite file plus the feeds that keep it current."""

    def __init__(
        self,
        path: Path,
        store: Store,
        feeds: dict[str, tuple[str, Handler]],
        schema: str,
        written: WrittenCounts | None = None,
    ) -> None:
        """`feeds` maps a feed name to (physical database name, handler); `written`, the
        store's commit counts, lets a catch-up skip feeds nothing was written to."""
        self.path = path
        self.store = store
        self.feeds = feeds
        self.written = written
        if written is not None:
            for _, handler in feeds.values():
                keep = getattr(handler, "keep", None)
                if keep is not None:
                    written.track(keep)
        # feed -> (its database's commit count, monotonic time) when it was last read to the end.
        self._quiet: dict[str, tuple[tuple[int, int], float]] = {}
        # Asked from the event loop too (a feed's late shares): there it must not wait on a
        # worker thread's catch-up, so it refuses instead and the request moves to a thread.
        self.lock = NonblockingLock()
        private_dir(path.parent)
        private_sqlite(path)
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        private_sqlite(path)
        self.conn.execute("PRAGMA synchronous=OFF")  # rebuildable: losing it costs a replay
        self.conn.executescript(
            "CREATE TABLE IF NOT EXISTS checkpoints (feed TEXT PRIMARY KEY, db TEXT, seq TEXT);" + schema
        )

    def catch_up(self, feeds: Iterable[str] | None = None, *, quiet_ok: bool = False) -> None:
        """Follow the feeds (those named in `feeds`, or all) up to the store's present.

        `quiet_ok`: a feed no commit of this process was made to since it was last read (see
        `WrittenCounts`) is taken as read for `_QUIET_S`. Only for the hot path (every
        `_changes` request): a write of another program on the same files (`branchline seed`
        while the server runs) shows there up to `_QUIET_S` late, and everywhere else at once."""
        wanted = None if feeds is None else set(feeds)
        with self.lock:
            for feed, (dbname, handler) in self.feeds.items():
                if wanted is None or feed in wanted:
                    self._follow(feed, dbname, handler, quiet_ok)

    def _follow(self, feed: str, dbname: str, handler: Handler, quiet_ok: bool = False) -> None:
        # Taken before reading: a commit announced while the feed is read moves it, and the
        # next catch-up reads again.
        token = None if self.written is None else self.written.token(dbname, getattr(handler, "keep", None))
        now = time.monotonic()
        if token is not None and quiet_ok:
            quiet = self._quiet.get(feed)
            if quiet is not None and quiet[0] == token and now - quiet[1] < _QUIET_S:
                return
        self._read_feed(feed, dbname, handler)
        if token is not None:
            self._quiet[feed] = (token, now)

    def _read_feed(self, feed: str, dbname: str, handler: Handler) -> None:
        """Apply the feed's changes since the index's checkpoint, up to its end."""
        import orjson  # noqa: PLC0415

        since = self._checkpoint(feed, dbname)
        if not self.store.db_exists(dbname):
            return
        db = self.store.db(dbname)
        # A handler that only wants some documents says so by their ids (`keep`): the store
        # then need not read the others whole.
        keep = getattr(handler, "keep", None)
        end_batch = getattr(handler, "end_batch", None)
        page = lambda since: db.changes(  # noqa: E731
            since=since, limit=_BATCH, include_docs=True, keep=keep, pending=False
        )
        res = page(since)
        while True:
            if not res["results"] and res["last_seq"] == since:
                return
            # Up to _GROUP pages in one transaction: far behind (a rebuild), every commit writes
            # back each page of the index the batch touched, so fewer, larger transactions
            # write each page once rather than once per 500 changes.
            done = False
            self._begin_write()
            checkpoint = self._checkpoint(feed, dbname)
            if checkpoint != since:
                # Another server process on this data folder followed the feed meanwhile
                # (`BRANCHLINE_PROCESSES`): go on from where it got to, never apply twice.
                self.conn.execute("ROLLBACK")
                since = checkpoint
                res = page(since)
                continue
            try:
                for n in range(1, _GROUP + 1):
                    rows = res["results"]
                    for change in rows:
                        handler(self.conn, change)
                    # Rows `keep` left out still move the checkpoint: else every catch-up would
                    # scan them again, a longer scan with every event until the next header.
                    moved = res["last_seq"]
                    done = len(rows) < _BATCH
                    if done or n == _GROUP:
                        break
                    res = page(moved)
                # A handler may defer work to the end of the batch (analytics refold each session once).
                if end_batch is not None:
                    end_batch(self.conn)
                self.conn.execute(
                    "INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                    (feed, dbname, orjson.dumps(moved).decode()),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            if done:
                return
            since = moved
            res = page(since)

    def _checkpoint(self, feed: str, dbname: str) -> Any:
        import orjson  # noqa: PLC0415

        row = self.conn.execute("SELECT db, seq FROM checkpoints WHERE feed=?", (feed,)).fetchone()
        if row and row[0] == dbname and row[1] is not None:
            return orjson.loads(row[1])
        return 0

    def _begin_write(self) -> None:
        """BEGIN IMMEDIATE: the checkpoint read next is the one this transaction moves on. In
        non-blocking mode (the event loop), `WouldBlock` while another process writes."""
        if not is_nonblocking():
            self.conn.execute("BEGIN IMMEDIATE")
            return
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            raise WouldBlock() from None
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")

    def query(
        self,
        sql: str,
        params: tuple | list = (),
        *,
        catch_up: bool = True,
        feeds: Iterable[str] | None = None,
        quiet_ok: bool = False,
    ) -> list[dict[str, Any]]:
        """Rows of `sql`, after following the feeds (a caller running several queries for one
        answer catches up on the first only; one whose tables only some feeds fill names them
        in `feeds`, so a hot path does not pay for every other feature's index; `quiet_ok`:
        see `catch_up`)."""
        if catch_up:
            self.catch_up(feeds, quiet_ok=quiet_ok)
        with self.lock:
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def close(self) -> None:
        self.conn.close()


class IndexRegistry:
    """Opens each tenant's index once per process."""

    def __init__(self, factory: Callable[[str], DerivedIndex]) -> None:
        self._factory = factory
        self._open: dict[str, DerivedIndex] = {}
        self._lock = NonblockingLock()

    def get(self, tenant_id: str) -> DerivedIndex:
        with self._lock:
            idx = self._open.get(tenant_id)
            if idx is None:
                idx = self._open[tenant_id] = self._factory(tenant_id)
            return idx

    def close(self) -> None:
        with self._lock:
            for idx in self._open.values():
                idx.close()
            self._open.clear()


class IndexPart:
    """What one feature adds to the tenant index: tables, and the feeds that fill them."""

    def __init__(
        self, name: str, schema: str, feeds: Callable[[str], dict[str, tuple[str, Handler]]]
    ) -> None:
        self.name = name
        self.schema = schema
        self.feeds = feeds


def register_part(ctx: AppContext, part: IndexPart) -> None:
    ctx.index_parts[part.name] = part


def tenant_index(ctx: AppContext, tenant_id: str) -> DerivedIndex:
    """The tenant's derived index with every registered part (opened once per process)."""
    import hashlib  # noqa: PLC0415

    registry = ctx.index_registry
    if registry is None:

        def factory(tid: str) -> DerivedIndex:
            parts = sorted(ctx.index_parts.values(), key=lambda p: p.name)
            schema = "".join(p.schema for p in parts)
            # A schema change gets a new file, so an old index is rebuilt rather than misread.
            tag = hashlib.sha256(schema.encode()).hexdigest()[:10]
            feeds: dict[str, tuple[str, Handler]] = {}
            for p in parts:
                feeds.update(p.feeds(tid))
            return DerivedIndex(
                ctx.settings.data_dir / "index" / f"{tid}.{tag}.sqlite", ctx.store, feeds, schema, written
            )

        # One count for every tenant's index: the store calls each observer on every commit.
        written = WrittenCounts(ctx.store)
        registry = ctx.index_registry = IndexRegistry(factory)
    return registry.get(tenant_id)
