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

The store's listener contract is unchanged: `(db_name, update_seq)`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import anyio.to_thread

_log = logging.getLogger("branchline")

# The key of a waiter that wants every change of its database.
EVERY = "*"
# How many changed ids one read may bring; past that, every waiter of the database is woken
# (a bulk import) rather than judging them all.
MAX_IDS_PER_READ = 1000

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
        self._notifier._add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._notifier._remove(self)


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
        # Counters for monitoring and tests (touched on the event loop only): shared reads of
        # changed ids, waiters woken, waiters blocked in `wait` right now.
        self.reads = 0
        self.wakes = 0
        self.parked = 0

    def attach(self, store: Any) -> None:
        """Listen to `store` once, however many requests call this."""
        with self._lock:
            if any(s is store for s in self._stores):
                return
            self._stores.append(store)

        def listener(db_name: str, update_seq: Any = None) -> None:
            self.notify(db_name, update_seq, store)

        store.add_listener(listener)

    def notify(self, db_name: str, update_seq: Any = None, store: Any = None) -> None:
        """The store's listener: called from the writing thread after a commit."""
        with self._lock:
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
            keys_of = None if self.resolver is None or store is None else self.resolver(db_name)
            keys: frozenset[str] | None = None
            new_cursor = cursor
            if keys_of is not None:
                try:
                    keys, new_cursor = await anyio.to_thread.run_sync(
                        _read_keys, store, db_name, cursor, keys_of
                    )
                except Exception:  # noqa: BLE001 - e.g. the database was deleted: wake everyone
                    _log.debug("reading the changes of %s for wake-ups failed", db_name, exc_info=True)
                    keys, new_cursor = None, None
                self.reads += 1
            with self._lock:
                state.cursor = new_cursor
                targets = state.targets(keys)
                again = state.dirty
                if not again:
                    state.running = False
            self.wakes += len(targets)
            for w in targets:
                if w.loop is asyncio.get_running_loop():
                    w.fire(db_name)
                else:
                    _fire_threadsafe(w, db_name)
            if not again:
                return

    def waiting(self) -> int:
        """How many requests are waiting right now (for monitoring and tests)."""
        with self._lock:
            return len({w for state in self._dbs.values() for group in state.by_key.values() for w in group})

    def stats(self) -> dict[str, int]:
        """Registered waiters, those blocked in `wait`, shared reads and waiters woken so far,
        and databases whose changes are being read right now."""
        with self._lock:
            busy = sum(1 for state in self._dbs.values() if state.running)
        return {
            "waiting": self.waiting(),
            "parked": self.parked,
            "reads": self.reads,
            "wakes": self.wakes,
            "dispatching": busy,
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


def _read_keys(store: Any, db_name: str, cursor: Any, keys_of: KeysOf) -> tuple[frozenset[str] | None, Any]:
    """(keys the changes after `cursor` concern, the new cursor); runs on a worker thread."""
    db = store.db(db_name)
    if cursor is None:
        # Not read since the first waiter came: wake them all, and read from here on.
        return None, db.update_seq
    res = db.changes(since=cursor, limit=MAX_IDS_PER_READ)
    ids = [row["id"] for row in res["results"]]
    if res.get("pending"):
        return None, db.update_seq
    return keys_of(ids), res.get("last_seq", cursor)


def _fire_threadsafe(w: Waiter, db_name: str) -> None:
    try:
        w.loop.call_soon_threadsafe(w.fire, db_name)
    except RuntimeError:
        pass  # that waiter's loop has closed
