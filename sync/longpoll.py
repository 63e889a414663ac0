"""Wake `_changes` longpoll and continuous requests when a document they care about changes.

The store calls its listeners from whichever thread committed the write; waiting requests
live on an asyncio event loop. A waiting request must not hold a worker thread (a phone
holds a live replication open for hours), so each waiter is an `asyncio.Event` set on its
loop, and an idle waiter costs nothing: no timer, no thread.

Waking every feed of a database on every write made each write cost work in proportion to
the open feeds (each woke, read the changes and judged them), so waiters are indexed by
key: a feed registers under its reader's key (or `EVERY`, for a caller who reads the whole
database), a guard under the ids of the documents it watches. After a commit the notifier
reads the changed ids once for the whole database (`changes` since its cursor, on a worker
thread), asks the registered `KeysOf` which keys they concern, and wakes only the waiters
under those keys. Writes landing while that read runs are covered by one more read when it
ends, so a burst of writes costs one read and one wake-up per concerned waiter.

The same read keeps a short index of the database's recent changes by the keys they concern
(`_Recent`): a feed page asks it which documents changed since its `since` can concern its
reader (`candidates`) and reads just those, instead of scanning every change of the team
since its last page and asking the policy about each. Without it a page cost grew with the
team's write rate, and each write with the number of feeds, so the server's work grew with
the square of the team. The index covers a window of seqs with no change in it that can
alter who reads other documents (a session header: its readers are its events' readers);
such a change, a read that could not see every change, or a full index starts it afresh,
and a page whose `since` is outside the window scans as before.

The store's listener contract is unchanged: `(db_name, update_seq)`. A database deleted or
created again (told through `observe_writes`, with no ids) reuses its seqs: the notifier then
forgets its cursor and index for it and wakes its waiters (`reset`).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import anyio.to_thread

from .observed_cache import partition

_log = logging.getLogger("branchline")

# The key of a waiter that wants every change of its database.
EVERY = "*"
# How many changed ids one read may bring; past that, every waiter of the database is woken
# (a bulk import) rather than judging them all.
MAX_IDS_PER_READ = 1000

# How many (change, key) entries a database's index of recent changes holds before it starts
# afresh: about two megabytes, some minutes of a busy team's writes.
RECENT_MAX = 20_000
# And all databases together, so that a thousand busy tenants stay in bounds (about 10 MB).
RECENT_TOTAL_MAX = 100_000

# Which keys a batch of changed document ids concerns; None: every waiter of the database.
KeysOf = Callable[[list[str]], "frozenset[str] | None"]
# For a physical database, how to find the keys of its changed ids; None: wake every waiter
# without reading anything.
KeysResolver = Callable[[str], "KeysOf | None"]


class Waiter:
    """One request waiting on one or more databases, each under some keys.

    Register before reading the feed, so a write that lands between the read and the
    wait still wakes it (the event stays set until `wait` consumes it).
    """

    def __init__(
        self, notifier: ChangeNotifier, subscriptions: dict[str, frozenset[str]], since: Any = None
    ) -> None:
        self._notifier = notifier
        self.subscriptions = subscriptions
        self.since = since
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()
        self.fired: set[str] = set()
        self._registered = False

    @property
    def db_name(self) -> str:
        return next(iter(self.subscriptions))

    def fire(self, db_name: str) -> None:
        """Mark `db_name` changed; call on the waiter's loop."""
        self.fired.add(db_name)
        self.event.set()

    async def wait(self, timeout: float | None) -> set[str]:
        """The databases that changed; empty when `timeout` (seconds) ran out first."""
        if not self.event.is_set():
            self._notifier.parked += 1
            try:
                if timeout is None:
                    await self.event.wait()
                else:
                    await asyncio.wait_for(self.event.wait(), max(timeout, 0.0))
            except TimeoutError:
                return set()
            finally:
                self._notifier.parked -= 1
        self.event.clear()
        fired, self.fired = self.fired, set()
        return fired

    def __enter__(self) -> Self:
        # Entered once, left once, however many blocks hold it (a feed registers its waiter
        # before its stream starts; the stream and the response both end it).
        if not self._registered:
            self._registered = True
            self._notifier._add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._registered:
            self._registered = False
            self._notifier._remove(self)


@dataclass(eq=False)
class _Recent:
    """The changes of one database with seqs in (start, end], by the keys they concern: each
    key's list holds (seq, id) in seq order. Ids that concern everyone are under `EVERY`."""

    start: int
    end: int
    by_key: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    size: int = 0
    filed: int = 0  # when rows were last filed (a count of filings): the least recent goes first

    def add(self, rows: list[tuple[int, str, frozenset[str] | None]], end: int) -> None:
        for seq, docid, keys in rows:
            for key in (EVERY,) if keys is None else keys:
                self.by_key.setdefault(key, []).append((seq, docid))
                self.size += 1
        self.end = end

    def ids_after(self, key: str, since: int) -> set[str]:
        out: set[str] = set()
        for k in (key, EVERY):
            entries = self.by_key.get(k)
            if entries:
                first = bisect.bisect_right(entries, since, key=lambda e: e[0])
                out.update(docid for _, docid in entries[first:])
        return out


@dataclass(eq=False)
class _DbWaiters:
    """The waiters of one database, by key, and where its changes were last read."""

    loop: asyncio.AbstractEventLoop
    by_key: dict[str, set[Waiter]] = field(default_factory=dict)
    # Where the next read starts. Kept while nobody waits (a stale cursor only makes the next
    # read longer); None until known, and then the first batch wakes everyone.
    cursor: Any = None
    running: bool = False
    dirty: bool = False
    recent: _Recent | None = None
    # Moves when the database is deleted or created again (`ChangeNotifier.reset`): a read
    # begun before that is of the old file, whose seqs the new one reuses.
    generation: int = 0

    def targets(self, keys: frozenset[str] | None) -> set[Waiter]:
        if keys is None:
            return {w for group in self.by_key.values() for w in group}
        out = set(self.by_key.get(EVERY, ()))
        for key in keys:
            out |= self.by_key.get(key, set())
        return out


class ChangeNotifier:
    """From the store's write listener to the waiters a change concerns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dbs: dict[str, _DbWaiters] = {}
        self._stores: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.resolver: KeysResolver | None = None
        # Whether a change of a document of a database may change who reads its other
        # documents (then the index of recent changes starts afresh). Set with `resolver`.
        self.reshapes: Callable[[str, str], bool] = lambda db_name, docid: True
        # Counters for monitoring and tests (touched on the event loop only): shared reads of
        # changed ids, waiters woken, waiters blocked in `wait` right now.
        self.reads = 0
        self.wakes = 0
        self.parked = 0
        # Feed pages that found their rows through the index of recent changes.
        self.indexed = 0
        self._indexed_size = 0  # entries in every database's index
        self._filings = 0
        # Commits announced per database, waiters or not: a feed that read a page and saw
        # none announced until its waiter was registered has nothing to read again.
        self._announced: dict[str, int] = {}
        # The highest seq announced per database; None: a commit came without one since.
        self._announced_seq: dict[str, int | None] = {}

    def attach(self, store: Any) -> None:
        """Listen to `store` once, however many requests call this."""
        with self._lock:
            if any(s is store for s in self._stores):
                return
            self._stores.append(store)

        def listener(db_name: str, update_seq: Any = None) -> None:
            self.notify(db_name, update_seq, store)

        def observed(db_name: str, ids: list[str] | None) -> None:
            if ids is None:  # created or deleted (or rewritten whole by another process)
                self.reset(db_name)

        store.add_listener(listener)
        observe = getattr(store, "observe_writes", None)
        if observe is not None:
            observe(observed, self.reset_all)

    def reset(self, db_name: str) -> None:
        """`db_name` was deleted or created again: its seqs start afresh, so where its changes
        were last read and its index of recent changes are of another file. Every waiter of
        it is woken (CouchDB ends the feeds of a deleted database); the next read starts at
        the beginning, which a new database's is. Called in the thread that did it."""
        with self._lock:
            self._announced[db_name] = self._announced.get(db_name, 0) + 1
            self._announced_seq[db_name] = None
            state = self._dbs.get(db_name)
            if state is None:
                return
            state.generation += 1
            state.cursor = 0
            self._replace(state, None)
            targets = state.targets(None)
        _fire_all(targets, db_name)

    def reset_all(self) -> None:
        """The store lost track of other processes' writes (`observe_writes`' `forget`):
        nothing known of any database is trusted."""
        with self._lock:
            names = list(self._dbs)
        for name in names:
            self.reset(name)

    def notify(self, db_name: str, update_seq: Any = None, store: Any = None) -> None:
        """The store's listener: called from the writing thread after a commit."""
        with self._lock:
            self._announced[db_name] = self._announced.get(db_name, 0) + 1
            # A commit without a seq (another process's, a forgotten one) leaves it unknown
            # until the next one with a seq, which is past it.
            latest = self._announced_seq.get(db_name, -1)
            if isinstance(update_seq, int):
                self._announced_seq[db_name] = update_seq if latest is None else max(latest, update_seq)
            else:
                self._announced_seq[db_name] = None
            state = self._dbs.get(db_name)
            if state is None or not state.by_key:
                return
            if state.running:
                state.dirty = True  # the running dispatch reads once more when it ends
                return
            state.running = True
            loop = state.loop
        try:
            loop.call_soon_threadsafe(self._spawn, db_name, state, store)
        except RuntimeError:
            # The waiters' loop has closed (server shutting down): nothing to wake.
            with self._lock:
                state.running = False

    def announced(self, db_name: str) -> int:
        """How many commits of `db_name` the store announced so far (a count to compare)."""
        return self._announced.get(db_name, 0)

    def _spawn(self, db_name: str, state: _DbWaiters, store: Any) -> None:
        task = asyncio.ensure_future(self._dispatch(db_name, state, store))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, db_name: str, state: _DbWaiters, store: Any) -> None:
        """Read the changed ids once, wake the concerned waiters; again while writes came in."""
        while True:
            with self._lock:
                state.dirty = False
                cursor = state.cursor
                generation = state.generation
            keys_of = None if self.resolver is None or store is None else self.resolver(db_name)
            keys: frozenset[str] | None = None
            new_cursor = cursor
            rows: list[tuple[int, str, frozenset[str] | None]] | None = None
            if keys_of is not None:
                try:
                    keys, new_cursor, rows = await anyio.to_thread.run_sync(
                        _read_db_keys, store, db_name, cursor, keys_of
                    )
                except Exception:  # noqa: BLE001 - e.g. the database was deleted: wake everyone
                    _log.debug("reading the changes of %s for wake-ups failed", db_name, exc_info=True)
                    keys, new_cursor = None, None
                self.reads += 1
            with self._lock:
                if state.generation != generation:
                    # The database was deleted or created again during the read (which woke
                    # every waiter): read the new one from its beginning.
                    continue
                if new_cursor != cursor:
                    # Read past commits whose own announcement may still be on its way (the
                    # store announces after it commits): a feed that read its first page
                    # before this read and registers after it would be woken by neither.
                    # Counted as announced, that feed reads its page again.
                    self._announced[db_name] = self._announced.get(db_name, 0) + 1
                state.cursor = new_cursor
                self._remember(db_name, state, cursor, new_cursor, rows)
                targets = state.targets(keys)
                again = state.dirty
                if not again:
                    state.running = False
            self.wakes += len(targets)
            _fire_all(targets, db_name)
            if not again:
                return

    def _remember(
        self,
        db_name: str,
        state: _DbWaiters,
        start: Any,
        end: Any,
        rows: list[tuple[int, str, frozenset[str] | None]] | None,
    ) -> None:
        """File a read's rows, every change in (start, end], in the index of recent changes,
        or start it afresh when they cannot be (see the module docstring). Under the lock.

        Reads come from the dispatch and from feed pages (`candidates`), in any order: rows
        the index already holds are skipped, and a read that does not join the index (it
        starts after the index ends) starts it afresh at its own start."""
        if not isinstance(end, int) or not isinstance(start, int):
            self._replace(state, None)
            return
        if rows is None:
            self._replace(state, _Recent(end, end))
            return
        recent = state.recent
        if recent is not None and recent.end >= end:
            return  # another read filed these already
        if recent is None or recent.end < start:
            recent = _Recent(start, start)
        else:
            rows = [row for row in rows if row[0] > recent.end]
        if any(self.reshapes(db_name, docid) for _, docid, _ in rows):
            self._replace(state, _Recent(end, end))
            return
        added = sum(1 if keys is None else len(keys) for _, _, keys in rows)
        if added > RECENT_MAX:
            self._replace(state, _Recent(end, end))
            return
        if recent.size + added > RECENT_MAX:
            recent = _Recent(recent.end, recent.end)
        if recent is not state.recent:
            self._replace(state, recent)
        recent.add(rows, end)
        self._indexed_size += added
        self._filings += 1
        recent.filed = self._filings
        if self._indexed_size > RECENT_TOTAL_MAX:
            self._evict(state)

    def _evict(self, busy: _DbWaiters) -> None:
        """Over the budget of all databases: drop the indexes filed longest ago (quiet
        tenants), down to three quarters of it; the database just filed goes last."""
        idle = sorted(
            (s for s in self._dbs.values() if s.recent is not None and s is not busy),
            key=lambda s: s.recent.filed if s.recent is not None else 0,
        )
        for state in [*idle, busy]:
            if self._indexed_size <= RECENT_TOTAL_MAX * 3 // 4:
                return
            self._replace(state, None)

    def _replace(self, state: _DbWaiters, recent: _Recent | None) -> None:
        if state.recent is not None:
            self._indexed_size -= state.recent.size
        state.recent = recent
        if recent is not None:
            self._indexed_size += recent.size

    def candidates(
        self, db_name: str, key: str, since: Any, read: Callable[[Any], Any] | None = None
    ) -> tuple[frozenset[str], int] | None:
        """The ids changed after `since` that can concern waiters under `key`, and the seq up
        to which that is known; None when the index does not reach back to `since`.

        `read(start)`, when given, is `read_keys` from `start` on: a page that finds the
        index behind the database files the changes since, for every later page (the
        dispatch that would do it waits its turn on a busy event loop, and meanwhile each
        page would scan those changes itself)."""
        with self._lock:
            state = self._dbs.get(db_name)
            recent = None if state is None else state.recent
            if recent is None or not isinstance(since, int) or not recent.start <= since <= recent.end:
                return None
            assert state is not None  # it holds the index
            end = recent.end
            generation = state.generation
            # Nothing announced past the index's end: nothing to file (the page itself scans
            # whatever lands after `end` meanwhile, so this only spares a read).
            latest = self._announced_seq.get(db_name, -1)
            behind = latest is None or latest > end
        if read is not None and behind:
            _, new_end, rows = read(end)
            if isinstance(new_end, int) and new_end > end:
                with self._lock:
                    if state.generation == generation:  # else it read a database made since
                        self._remember(db_name, state, end, new_end, rows)
        with self._lock:
            recent = state.recent
            if recent is None or not recent.start <= since <= recent.end:
                return None
            self.indexed += 1
            return frozenset(recent.ids_after(key, since)), recent.end

    def waiting(self) -> int:
        """How many requests are waiting right now (for monitoring and tests)."""
        with self._lock:
            return len({w for state in self._dbs.values() for group in state.by_key.values() for w in group})

    def stats(self) -> dict[str, int]:
        """Registered waiters, those blocked in `wait`, shared reads and waiters woken so far,
        databases whose changes are being read right now, and feed pages that used the index
        of recent changes."""
        with self._lock:
            busy = sum(1 for state in self._dbs.values() if state.running)
        return {
            "waiting": self.waiting(),
            "parked": self.parked,
            "reads": self.reads,
            "wakes": self.wakes,
            "dispatching": busy,
            "indexed": self.indexed,
        }

    def waiter(
        self,
        db_name: str,
        keys: Iterable[str] = (EVERY,),
        also: dict[str, frozenset[str]] | None = None,
        since: Any = None,
    ) -> Waiter:
        """A waiter on `db_name` under `keys`, and on the databases of `also` under theirs.

        `since`: a seq of `db_name` the caller has read every change up to; it starts the
        database's cursor if there is none yet (sparing the first write a wake-up of all)."""
        subscriptions = {db_name: frozenset(keys)}
        for name, more in (also or {}).items():
            subscriptions[name] = subscriptions.get(name, frozenset()) | more
        return Waiter(self, subscriptions, since)

    def _add(self, w: Waiter) -> None:
        with self._lock:
            for db_name, keys in w.subscriptions.items():
                state = self._dbs.get(db_name)
                if state is None:
                    state = self._dbs[db_name] = _DbWaiters(w.loop)
                if not state.by_key:
                    state.loop = w.loop
                if state.cursor is None and db_name == w.db_name and not state.running:
                    state.cursor = w.since
                    # As a read past commits (`_dispatch`): one made visible before this
                    # waiter's page but announced after this will read nothing new.
                    self._announced[db_name] = self._announced.get(db_name, 0) + 1
                for key in keys:
                    state.by_key.setdefault(key, set()).add(w)

    def _remove(self, w: Waiter) -> None:
        with self._lock:
            for db_name, keys in w.subscriptions.items():
                state = self._dbs.get(db_name)
                if state is None:
                    continue
                for key in keys:
                    group = state.by_key.get(key)
                    if group is not None:
                        group.discard(w)
                        if not group:
                            del state.by_key[key]


def read_keys(
    db: Any, cursor: Any, keys_of: KeysOf
) -> tuple[frozenset[str] | None, Any, list[tuple[int, str, frozenset[str] | None]] | None]:
    """(keys the changes of `db` after `cursor` concern, the new cursor, each change's (seq,
    id, keys) or None when the read could not see them all); blocking."""
    if cursor is None:
        # Not read since the first waiter came: wake them all, and read from here on.
        return None, db.update_seq, None
    res = db.changes(since=cursor, limit=MAX_IDS_PER_READ)
    if res.get("pending"):
        return None, db.update_seq, None
    if not res["results"] and isinstance(cursor, int):
        # A commit was announced and nothing follows the cursor: it may lie past the end, if
        # it was not taken from this file (a waiter's `since` from before the database was
        # deleted and created again, when no feed of it waited to hear of that). Then wake
        # every waiter and read on from the end.
        end = db.update_seq
        if end < cursor:
            return None, end, None
    # Asked once per group of documents (a session's header and events are one group and
    # share their readers); a group's answer covers each of its documents, perhaps too widely.
    grouped = [(row["seq"], row["id"], partition(row["id"])) for row in res["results"]]
    groups: dict[str, list[str]] = {}
    for _, docid, group in grouped:
        groups.setdefault(group, []).append(docid)
    group_keys = {group: keys_of(ids) for group, ids in groups.items()}
    rows = [(seq, docid, group_keys[group]) for seq, docid, group in grouped]
    every = any(row_keys is None for _, _, row_keys in rows)
    keys = None if every else frozenset(k for _, _, row_keys in rows for k in row_keys or ())
    return keys, res.get("last_seq", cursor), rows


def _read_db_keys(store: Any, db_name: str, cursor: Any, keys_of: KeysOf) -> Any:
    return read_keys(store.db(db_name), cursor, keys_of)


def _fire_all(waiters: Iterable[Waiter], db_name: str) -> None:
    """Wake `waiters`: at once on this thread's event loop, through their own loop otherwise
    (a deletion made on a worker thread)."""
    try:
        here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        here = None
    for w in waiters:
        if w.loop is here:
            w.fire(db_name)
        else:
            _fire_threadsafe(w, db_name)


def _fire_threadsafe(w: Waiter, db_name: str) -> None:
    try:
        w.loop.call_soon_threadsafe(w.fire, db_name)
    except RuntimeError:
        pass  # that waiter's loop has closed
