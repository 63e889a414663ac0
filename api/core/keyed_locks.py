"""Locks by key, for threads of one process that must take turns on one thing (an account, a
document, a tenant's log) while other things go on in parallel.

A key's lock lives while some thread holds or waits for it (it is weakly kept), so a server
that touches a million keys keeps only the ones in use. Clearing a plain dict of locks to
bound it instead could hand a second thread a fresh lock for a key whose old one was still
held, and both would go in.
"""

from __future__ import annotations

import threading
import weakref
from typing import Self


class KeyLock:
    """One key's lock (a context manager)."""

    __slots__ = ("__weakref__", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class KeyedLocks:
    """`with locks(key):` takes turns with every other thread using the same key."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, KeyLock] = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def __call__(self, key: str) -> KeyLock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = KeyLock()
            return lock
