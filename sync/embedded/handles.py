"""Open database files: their SQLite connections, kept in a bounded least-recently-used cache.

A server holding a thousand tenants cannot keep every database open: each open file in WAL
mode costs three descriptors for its writer (the file, its `-wal`, the shared `-shm`), two
more per reader, and a page cache. `HandleCache` keeps at most `max_open` databases open and
closes the one used longest ago when another is opened. A handle in use (a read or a write
running, or writers queued on it) is pinned and never closed; if every open handle is
pinned, the cache goes over its bound for as long as that lasts and shrinks back on release.

Each handle has one writer connection, owned by the group commit's leader (see
`group_commit.py`), and a small pool of reader connections: in WAL mode a reader sees the
last committed state and never waits for the writer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import NotFound
from ..nonblocking import NonblockingLock, WouldBlock, is_nonblocking
from ..private_files import private_sqlite
from .group_commit import GroupCommit
from .schema import _BUSY_TIMEOUT_MS, _COUNTS_SQL, _SCHEMA

# Defaults (settings: BRANCHLINE_STORE_MAX_OPEN, _STORE_CACHE_KB, _STORE_READERS). With 64
# databases open, each with its writer, two readers and the event loop's reader, at most
# 64 * 9 = 576 descriptors go to SQLite, leaving the rest of the common 1,024 limit to sockets.
DEFAULT_MAX_OPEN = 64
DEFAULT_CACHE_KB = 2048
DEFAULT_READERS = 2


def _missing(path: Path) -> NotFound:
    return NotFound(f"Database {path.stem!r} does not exist.", error="not_found")


def _connect(path: Path, cache_kb: int, *, create: bool) -> sqlite3.Connection:
    # `mode=rw` never creates the file: a database deleted while a caller still holds its
    # `EmbeddedDatabase` answers not_found instead of coming back empty.
    uri = path.resolve().as_uri() + ("?mode=rwc" if create else "?mode=rw")
    try:
        conn = sqlite3.connect(
            uri, uri=True, check_same_thread=False, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000
        )
    except sqlite3.OperationalError:
        if not path.exists():
            raise _missing(path) from None
        raise
    conn.execute(f"PRAGMA cache_size=-{int(cache_kb)}")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


class Handle:
    """The connections of one open database file."""

    def __init__(self, name: str, path: Path, *, cache_kb: int, readers: int, create: bool) -> None:
        self.name = name
        self.path = path
        self._cache_kb = cache_kb
        self._max_readers = max(1, readers)
        # The timeout covers a second process on the same files (the `branchline` command
        # line while the server runs): it waits for the other writer instead of failing.
        if create:
            private_sqlite(path)
        elif not path.exists():
            raise _missing(path)
        conn = _connect(path, cache_kb, create=create)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            private_sqlite(path)  # the WAL files of a database made before files were private
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            if conn.execute("SELECT 1 FROM meta WHERE key = 'doc_count'").fetchone() is None:
                conn.execute(_COUNTS_SQL)
            row = conn.execute("SELECT value FROM meta WHERE key = 'revs_limit'").fetchone()
        except BaseException:
            conn.close()
            raise
        self.writer = conn
        self._writer_busy_ms = _BUSY_TIMEOUT_MS  # as `_connect` left it
        self.revs_limit = int(row[0])
        # Held by whoever uses the writer connection: the group commit's leader, compaction.
        self.write_lock = NonblockingLock()
        self.writes: GroupCommit[Any, Any] = GroupCommit()
        self.pins = 0
        self.doomed = False  # closed as soon as the last user releases it
        self._pool = threading.Condition(threading.Lock())
        self._idle: list[sqlite3.Connection] = []
        self._readers = 0
        # One more reader, for non-blocking callers only (the event loop): worker threads
        # holding every pooled reader (feeds being paged) would otherwise send the loop's
        # short reads to worker threads too, and each hand-off costs more than the read.
        self._loop_reader: sqlite3.Connection | None = None
        self._loop_reader_taken = False

    def take_reader(self) -> sqlite3.Connection:
        """An idle reader connection (opened when none is idle and the pool has room)."""
        with self._pool:
            while not self._idle and self._readers >= self._max_readers:
                if is_nonblocking():
                    return self._take_loop_reader()
                self._pool.wait()
            if self._idle:
                return self._idle.pop()
            self._readers += 1
        try:
            conn = _connect(self.path, self._cache_kb, create=False)
            conn.execute("PRAGMA query_only=1")
            return conn
        except BaseException:
            with self._pool:
                self._readers -= 1
                self._pool.notify()
            raise

    def _take_loop_reader(self) -> sqlite3.Connection:
        # Called holding `_pool`. Taken already: a second non-blocking thread (another loop).
        if self._loop_reader_taken:
            raise WouldBlock()
        if self._loop_reader is None:
            conn = _connect(self.path, self._cache_kb, create=False)
            conn.execute("PRAGMA query_only=1")
            self._loop_reader = conn
        self._loop_reader_taken = True
        return self._loop_reader

    def give_back(self, conn: sqlite3.Connection) -> None:
        with self._pool:
            if conn is self._loop_reader:
                self._loop_reader_taken = False
                return
            self._idle.append(conn)
            self._pool.notify()

    def open_connections(self) -> int:
        with self._pool:
            return 1 + self._readers + (self._loop_reader is not None)

    def close(self) -> None:
        """Close every connection; only called once nobody uses the handle."""
        with self._pool:
            idle, self._idle, self._readers = self._idle, [], 0
            if self._loop_reader is not None:
                idle.append(self._loop_reader)
                self._loop_reader, self._loop_reader_taken = None, False
        for conn in idle:
            conn.close()
        self.writer.close()

    def writer_waits(self, may_wait: bool) -> None:
        """Set how long the writer connection waits for another process's write lock: the
        busy timeout, or not at all in non-blocking mode (then SQLite answers busy at once,
        and the caller raises `WouldBlock`). Changed only when it differs, since a PRAGMA is a
        statement of its own; call it holding `write_lock`."""
        busy_ms = _BUSY_TIMEOUT_MS if may_wait else 0
        if busy_ms != self._writer_busy_ms:
            self.writer.execute(f"PRAGMA busy_timeout = {busy_ms}")
            self._writer_busy_ms = busy_ms


class HandleCache:
    """At most `max_open` open databases, the least recently used closed first."""

    def __init__(
        self,
        *,
        max_open: int = DEFAULT_MAX_OPEN,
        cache_kb: int = DEFAULT_CACHE_KB,
        readers: int = DEFAULT_READERS,
    ) -> None:
        if max_open < 1:
            raise ValueError("max_open must be at least 1.")
        self.max_open = max_open
        self.cache_kb = cache_kb
        self.readers = readers
        self._lock = threading.Lock()
        self._open: OrderedDict[str, Handle] = OrderedDict()

    def _acquire_lock(self) -> None:
        if is_nonblocking():
            if not self._lock.acquire(blocking=False):
                raise WouldBlock()
        else:
            self._lock.acquire()

    @contextmanager
    def pinned(self, name: str, path: Path, *, create: bool = False) -> Iterator[Handle]:
        """The open handle of `name`, opened if need be, never closed while in the block."""
        handle = self._pin(name, path, create)
        try:
            yield handle
        finally:
            self._unpin(handle)

    def _pin(self, name: str, path: Path, create: bool) -> Handle:
        self._acquire_lock()
        try:
            handle = self._open.get(name)
            if handle is None:
                if is_nonblocking():
                    raise WouldBlock()  # opening runs the schema script: a write
                handle = Handle(name, path, cache_kb=self.cache_kb, readers=self.readers, create=create)
                self._open[name] = handle
            else:
                self._open.move_to_end(name)
            handle.pins += 1
            closing = self._over_bound()
        finally:
            self._lock.release()
        for old in closing:
            old.close()
        return handle

    def _unpin(self, handle: Handle) -> None:
        with self._lock:  # never refused: a pinned handle must always be released
            handle.pins -= 1
            closing = self._over_bound()
            if handle.doomed and handle.pins == 0:
                closing.append(handle)
        for old in closing:
            old.close()

    def _over_bound(self) -> list[Handle]:
        """Unpinned handles to close to get back within the bound; lock held."""
        closing: list[Handle] = []
        excess = len(self._open) - self.max_open
        if excess <= 0:
            return closing
        for name, handle in list(self._open.items()):
            if handle.pins == 0:
                del self._open[name]
                closing.append(handle)
                excess -= 1
                if excess == 0:
                    break
        return closing

    def drop(self, name: str) -> None:
        """Close `name`'s handle now, or when its last user releases it."""
        with self._lock:
            handle = self._open.pop(name, None)
            if handle is None:
                return
            handle.doomed = True
            if handle.pins:
                return
        handle.close()

    def drop_all(self) -> None:
        with self._lock:
            names = list(self._open)
        for name in names:
            self.drop(name)

    def open_count(self) -> int:
        """How many databases are open now (for monitoring and tests)."""
        with self._lock:
            return len(self._open)

    def get_open(self, name: str) -> Handle | None:
        """The open handle of `name`, if any, without pinning it (for tests)."""
        with self._lock:
            return self._open.get(name)
