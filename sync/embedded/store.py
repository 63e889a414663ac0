"""`EmbeddedStore`: every database of one data folder."""
from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import BadRequest, NotFound, PreconditionFailed
from ..private_files import private_dir, private_file
from .database import EmbeddedDatabase
from .handles import DEFAULT_CACHE_KB, DEFAULT_MAX_OPEN, DEFAULT_READERS, HandleCache
from .nonblocking import WouldBlock, _Lock, _mode
from .schema import check_db_name

_log = logging.getLogger(__name__)

# Compacting each written database hourly keeps old revisions' bodies about an hour.
DEFAULT_COMPACT_SECONDS = 3600.0


class EmbeddedStore:
    """All databases of one Branchline data folder. Implements `sync.store.Store`.

    `max_open` bounds how many databases have SQLite connections open at once (see
    `handles.py`), `cache_kb` is each connection's page cache, `readers` how many reader
    connections one database may have. Every `compact_seconds` (0: never), the databases
    written since the last run are compacted, one at a time, on a background thread.
    """

    def __init__(self, data_dir: str | os.PathLike[str], *, max_open: int = DEFAULT_MAX_OPEN,
                 cache_kb: int = DEFAULT_CACHE_KB, readers: int = DEFAULT_READERS,
                 compact_seconds: float = DEFAULT_COMPACT_SECONDS) -> None:
        private_dir(Path(data_dir))
        self.dir = private_dir(Path(data_dir) / "dbs")
        # Databases (and their WAL files) made by an older version were world-readable.
        for path in self.dir.iterdir():
            private_file(path)
        self._lock = _Lock()
        self.handles = HandleCache(max_open=max_open, cache_kb=cache_kb, readers=readers)
        # A database object is only a name: kept while someone holds it, so a thousand
        # tenants touched once leave nothing behind.
        self._dbs: weakref.WeakValueDictionary[str, EmbeddedDatabase] = (
            weakref.WeakValueDictionary())
        self._listeners: list[Callable[[str, Any], None]] = []
        self._compact_seconds = compact_seconds
        self._written: set[str] = set()  # names only: databases to compact on the next run
        self._compactor: threading.Thread | None = None
        self._compactor_lock = threading.Lock()
        self._stop = threading.Event()

    def _path(self, name: str) -> Path:
        return self.dir / f"{check_db_name(name)}.sqlite"

    def _notify(self, name: str, seq: int) -> None:
        if self._compact_seconds > 0:
            with self._compactor_lock:
                self._written.add(name)
                if self._compactor is None:
                    self._stop.clear()
                    self._compactor = threading.Thread(
                        target=self._compact_on_schedule, name="store-compactor", daemon=True)
                    self._compactor.start()
        for callback in list(self._listeners):
            try:
                callback(name, seq)
            except Exception:  # noqa: BLE001
                # The write is committed; a broken follower must not turn it into an error.
                _log.exception("change listener failed for %s", name)

    def _database(self, name: str, path: Path) -> EmbeddedDatabase:
        db = self._dbs.get(name)
        if db is None:
            db = EmbeddedDatabase(name, path, self.handles, self._notify)
            self._dbs[name] = db
        return db

    def _compact_on_schedule(self) -> None:
        while not self._stop.wait(self._compact_seconds):
            self.compact_written()

    def compact_written(self) -> list[str]:
        """Compact every database written since the last run; answers their names.

        One database's failure is logged and does not stop the others.
        """
        with self._compactor_lock:
            names, self._written = sorted(self._written), set()
        for name in names:
            try:
                self.db(name).compact()
            except NotFound:
                pass  # deleted since
            except Exception:  # noqa: BLE001
                _log.exception("compacting %s failed", name)
        return names

    def create_db(self, name: str) -> EmbeddedDatabase:
        """Create a database. Raises `PreconditionFailed` (`file_exists`) if it exists."""
        path = self._path(name)
        with self._lock:
            if path.exists():
                raise PreconditionFailed(
                    f"Database {name!r} already exists.", error="file_exists")
            with self.handles.pinned(name, path, create=True):
                pass
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
            self.handles.drop(name)
            if not path.exists():
                raise NotFound(f"Database {name!r} does not exist.", error="not_found")
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(str(path) + suffix)
                except FileNotFoundError:
                    pass

    def db_exists(self, name: str) -> bool:
        """Whether database `name` exists (False for an illegal name)."""
        try:
            return self._path(name).exists()
        except BadRequest:
            return False

    def list_dbs(self) -> list[str]:
        """All database names, sorted."""
        return sorted(p.name[:-len(".sqlite")] for p in self.dir.glob("*.sqlite"))

    def close(self) -> None:
        """Close every open connection and stop compacting (the store may be reopened later)."""
        with self._compactor_lock:
            compactor, self._compactor = self._compactor, None
            self._stop.set()
        if compactor is not None and compactor is not threading.current_thread():
            compactor.join(10)
        self.handles.drop_all()

    def add_listener(self, callback: Any) -> None:
        """Register `callback(db_name, update_seq)`, called after each committed write."""
        self._listeners.append(callback)

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
