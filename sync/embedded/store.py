"""`EmbeddedStore`: every database of one data folder."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadRequest, NotFound, PreconditionFailed
from ..nonblocking import NonblockingLock, WouldBlock, _mode
from ..observed_cache import partition
from ..private_files import private_dir, private_file
from .database import EmbeddedDatabase
from .handles import DEFAULT_CACHE_KB, DEFAULT_MAX_OPEN, DEFAULT_READERS, HandleCache
from .peers import STALL_S, Applied, PeerBus, WriteGenerations, slot_of, slots_written
from .schema import check_db_name

_log = logging.getLogger(__name__)


def _close_peers_at_exit(ref: weakref.ref[EmbeddedStore]) -> None:
    store = ref()
    if store is not None:
        store.close_peers()


@dataclass(frozen=True)
class CompactionRun:
    """What one `compact_written` did: the databases compacted, how many attachment contents
    went, and the databases that failed (name: the error), which never stop the others."""

    compacted: list[str]
    removed: int
    failed: dict[str, str]


class EmbeddedStore:
    """All databases of one Branchline data folder. Implements `sync.store.Store`.

    `max_open` bounds how many databases have SQLite connections open at once (see
    `handles.py`), `cache_kb` is each connection's page cache, `readers` how many reader
    connections one database may have. The store runs no thread of its own: whoever owns
    it (the app's scheduled jobs) calls `compact_written` now and then.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        max_open: int = DEFAULT_MAX_OPEN,
        cache_kb: int = DEFAULT_CACHE_KB,
        readers: int = DEFAULT_READERS,
        shared: bool = False,
    ) -> None:
        private_dir(Path(data_dir))
        self.dir = private_dir(Path(data_dir) / "dbs")
        # Databases (and their WAL files) made by an older version were world-readable.
        for path in self.dir.iterdir():
            private_file(path)
        self._lock = NonblockingLock()
        self.handles = HandleCache(max_open=max_open, cache_kb=cache_kb, readers=readers)
        # A database object is only a name: kept while someone holds it, so a thousand
        # tenants touched once leave nothing behind.
        self._dbs: weakref.WeakValueDictionary[str, EmbeddedDatabase] = weakref.WeakValueDictionary()
        # The most recently opened ones are also held here: every request names its database,
        # and making the object again each time (name check, a stat of the file) was a
        # measurable share of a small request (benchmarks/sync_requests.py).
        self._recent: OrderedDict[str, EmbeddedDatabase] = OrderedDict()
        self._recent_max = max(64, max_open)
        self._listeners: list[Callable[[str, Any], None]] = []
        self._observers: list[Callable[[str, list[str] | None], None]] = []
        self._commit_watchers: list[Callable[[str, list[str] | None, bool | None], None]] = []
        # Names only: the databases to compact on the next run. None until the first run,
        # which compacts them all: what an earlier process wrote after its last run is unknown.
        self._written: set[str] | None = None
        self._written_lock = threading.Lock()
        self._forgetters: list[Callable[[], None]] = []
        # Several server processes on these files (`peers.py`): None in a process alone.
        self._gens: WriteGenerations | None = None
        self._applied: Applied | None = None
        self._bus: PeerBus | None = None
        self._stall_checked = 0.0
        # For tests and monitoring: messages given up on, and times every cache was forgotten.
        self.stalls = self.forgets = 0
        if shared:
            self._gens = WriteGenerations(self.dir / ".write-generations")
            self._applied = Applied(self._gens)
            self._bus = PeerBus(self.dir / ".peers", self._from_peer, self._forget_everything)
            self._bus.on_idle = self._check_stalled
            # A command (`branchline user add`) leaves without a shutdown: its mailbox goes too.
            atexit.register(_close_peers_at_exit, weakref.ref(self))

    @property
    def shared(self) -> bool:
        """Whether other processes may write these files at the same time (`peers.py`)."""
        return self._bus is not None

    def _path(self, name: str) -> Path:
        return self.dir / f"{check_db_name(name)}.sqlite"

    def _notify(self, name: str, seq: int | None) -> None:
        with self._written_lock:
            if self._written is not None:
                self._written.add(name)
        self._wake(name, seq)

    def _wake(self, name: str, seq: int | None) -> None:
        for callback in list(self._listeners):
            try:
                callback(name, seq)
            except Exception:  # noqa: BLE001
                # The write is committed; a broken follower must not turn it into an error.
                _log.exception("change listener failed for %s", name)

    def _observe(self, name: str, ids: list[str] | None, seq: int | None = None) -> None:
        self._observe_here(name, ids)
        if self._gens is None or self._applied is None or self._bus is None:
            return
        # Counted after this process's caches dropped what the commit changed and before the
        # writer is answered: from here on, the other processes' caches no longer answer for
        # these groups until they have applied the message that follows.
        pairs = self._gens.bump(slots_written(name, ids))
        self._applied.record(pairs)
        self._bus.publish({"db": name, "ids": ids, "seq": seq, "gens": pairs})

    def _observe_here(self, name: str, ids: list[str] | None) -> None:
        for callback in list(self._observers):
            try:
                callback(name, ids)
            except Exception:  # noqa: BLE001
                _log.exception("write observer failed for %s", name)

    def _from_peer(self, message: dict[str, Any]) -> None:
        """Another process committed a write: as if it were this one's, then count it applied."""
        name, ids, seq = message["db"], message.get("ids"), message.get("seq")
        if ids is None:
            # Created, deleted (perhaps created again since) or rewritten whole by the other
            # process: connections to a deleted file would read and write what nobody sees.
            with self._lock:
                self._dbs.pop(name, None)
                self._recent.pop(name, None)
                self.handles.drop(name)
        self._observe_here(name, ids)
        if self._applied is not None:
            self._applied.record((int(s), int(v)) for s, v in message.get("gens", ()))
        self._notify(name, seq)

    def _check_stalled(self) -> None:
        """Give up on messages that never came (see `peers.STALL_S`): forget every cache."""
        now = time.monotonic()
        if self._applied is None or now - self._stall_checked < STALL_S / 4:
            return
        self._stall_checked = now
        stuck = self._applied.stalled()
        if not stuck:
            return
        _log.warning("%d write counters ran ahead without a message; forgetting cached documents", len(stuck))
        self.stalls += 1
        self._forget_everything()
        self._applied.take_as_applied(stuck)

    def _forget_everything(self) -> None:
        """Empty every cache and wake every feed: a write may have gone unannounced (a lost
        message, a peer that exited between its commit and its count)."""
        self.forgets += 1
        for forget in list(self._forgetters):
            try:
                forget()
            except Exception:  # noqa: BLE001
                _log.exception("a cache could not be cleared")
        # A spurious wake-up costs a feed one read.
        while True:
            try:
                names = list(self._dbs.keys())
                break
            except RuntimeError:  # changed size meanwhile (another thread opened one)
                continue
        for name in names:
            self._wake(name, None)

    def coherence(self, name: str, docid: str) -> tuple[int, int] | None:
        """For caches of a document group: a token that changes whenever any process commits
        to it, or None while a commit another process counted has not reached this one's
        caches yet (then read the store). Always `(0, 0)` in a process alone."""
        return self.coherence_of(self.coherence_slots(name, docid))

    @staticmethod
    def coherence_slots(name: str, docid: str) -> tuple[int, int]:
        """The counters `coherence` reads for a document group (a cache may keep them)."""
        return slot_of(name, None), slot_of(name, partition(docid))

    def coherence_of(self, slots: tuple[int, int]) -> tuple[int, int] | None:
        """`coherence` for counters found by `coherence_slots`."""
        applied = self._applied
        if applied is None:
            return (0, 0)
        whole = applied.current(slots[0])
        if whole is None:
            return None
        group = applied.current(slots[1])
        if group is None:
            return None
        return (whole, group)

    def _database(self, name: str, path: Path) -> EmbeddedDatabase:
        db = self._dbs.get(name)
        if db is None:
            db = EmbeddedDatabase(name, path, self.handles, self._notify, self._observe, self._commit_phase)
            self._dbs[name] = db
            self._recent[name] = db
            while len(self._recent) > self._recent_max:
                self._recent.popitem(last=False)
        return db

    def compact_written(self) -> CompactionRun:
        """Compact, one at a time, every database written since the last run (on the first
        run, every database), so old revisions' bodies and unused attachment content go.

        One database's failure is recorded and logged, and does not stop the others.
        """
        with self._written_lock:
            names = self.list_dbs() if self._written is None else sorted(self._written)
            self._written = set()
        compacted: list[str] = []
        removed = 0
        failed: dict[str, str] = {}
        for name in names:
            try:
                removed += self.db(name).compact()
            except NotFound:
                continue  # deleted since
            except Exception as exc:  # noqa: BLE001 - a damaged database never stops the others
                failed[name] = f"{type(exc).__name__}: {exc}"
                _log.exception("compacting %s failed", name)
                continue
            compacted.append(name)
        return CompactionRun(compacted, removed, failed)

    def create_db(self, name: str) -> EmbeddedDatabase:
        """Create a database. Raises `PreconditionFailed` (`file_exists`) if it exists."""
        path = self._path(name)
        with self._lock:
            if path.exists():
                raise PreconditionFailed(f"Database {name!r} already exists.", error="file_exists")
            with self.handles.pinned(name, path, create=True):
                pass
            self._observe(name, None)
            self._commit_phase(name, None, True)
            return self._database(name, path)

    def db(self, name: str) -> EmbeddedDatabase:
        """An existing database (opened when first used). Raises NotFound if missing."""
        db = self._dbs.get(name)  # only valid names get in, so a hit needs no check
        if db is not None:
            return db
        path = self._path(name)
        with self._lock:
            if not path.exists():
                raise NotFound(f"Database {name!r} does not exist.", error="not_found")
            return self._database(name, path)

    def delete_db(self, name: str) -> None:
        """Delete a database and its files. Raises NotFound if missing."""
        path = self._path(name)
        with self._lock:
            self._dbs.pop(name, None)
            self._recent.pop(name, None)
            self.handles.drop(name)
            if not path.exists():
                raise NotFound(f"Database {name!r} does not exist.", error="not_found")
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(str(path) + suffix)
                except FileNotFoundError:
                    pass
            self._observe(name, None)
            self._commit_phase(name, None, True)

    def db_exists(self, name: str) -> bool:
        """Whether database `name` exists (False for an illegal name)."""
        try:
            return self._path(name).exists()
        except BadRequest:
            return False

    def list_dbs(self) -> list[str]:
        """All database names, sorted."""
        return sorted(p.name[: -len(".sqlite")] for p in self.dir.glob("*.sqlite"))

    def close(self) -> None:
        """Close every open connection (the store may be reopened later)."""
        self.handles.drop_all()

    def close_peers(self) -> None:
        """Leave the other processes (at shutdown): no more messages in or out."""
        # The counters stay mapped until the process ends: a write still finishing on a worker
        # thread after this is counted (the others then forget their caches when this
        # process's connections close), never refused after its commit.
        if self._bus is not None:
            self._bus.close()

    def add_listener(self, callback: Any) -> None:
        """Register `callback(db_name, update_seq)`, called after each committed write."""
        self._listeners.append(callback)

    def observe_writes(
        self, callback: Callable[[str, list[str] | None], None], forget: Callable[[], None] | None = None
    ) -> bool:
        """Call `callback(db_name, ids)` after every commit, in the committing thread and
        before any writer of it gets its answer (None: the database was created or deleted).
        True: every write to these files is made through this store, in this process (the
        command line writing them at the same time is the exception; see its callers).

        With other server processes on the same files (`shared`), their commits reach
        `callback` from the peer bus's thread, and a cache must also ask `coherence` before
        it answers from memory; `forget()` empties it when messages were lost."""
        self._observers.append(callback)
        if forget is not None:
            self._forgetters.append(forget)
        return True

    def watch_commits(self, watcher: Callable[[str, list[str] | None, bool | None], None]) -> bool:
        """Call `watcher(db_name, ids, None)` just before a commit of documents becomes
        visible to readers, then `watcher(db_name, ids, True)` once it is made and told to
        `observe_writes` (False: it failed); `watcher(db_name, None, True)` alone when a
        database is created or deleted. All in the committing thread. A reader that saw a
        commit's documents knows its watchers heard of it, whether or not they were told the
        outcome yet: the derived indexes (api/core/derived.py) skip a feed on that ground.

        False (and never called) with other server processes on these files (`shared`):
        their commits become visible here before any message of them arrives."""
        if self._bus is not None:
            return False
        self._commit_watchers.append(watcher)
        return True

    def _commit_phase(self, name: str, ids: list[str] | None, done: bool | None) -> None:
        for watcher in list(self._commit_watchers):
            try:
                watcher(name, ids, done)
            except Exception:  # noqa: BLE001
                _log.exception("commit watcher failed for %s", name)

    def run_nonblocking(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """`(True, fn(*args))`, or `(False, None)` when `fn` would have had to wait.

        For short work the HTTP layer wants to run on the event loop: while `fn` runs, any
        of this store's locks held by another thread, a database that is not open yet, or
        SQLite's write lock held by another process raises `WouldBlock` instead of waiting
        (readers in WAL mode never wait for writers), and nothing has been written when it
        does. Other exceptions propagate.
        """
        if getattr(_mode, "nonblocking", False):
            return True, fn(*args)
        _mode.nonblocking = True
        try:
            return True, fn(*args)
        except WouldBlock:
            return False, None
        finally:
            _mode.nonblocking = False
