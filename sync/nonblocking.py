"""Non-blocking mode: work the HTTP layer runs on its event loop must never wait.

Backend-neutral: the embedded store honours it in every lock and connection pool, and so
must whatever else such work calls (a derived index's lock, a policy's rules that would
write a second document).
"""

from __future__ import annotations

import threading
from typing import Self

# --- non-blocking mode -------------------------------------------------------------------
# The HTTP layer may run a short read on the event loop instead of handing it to a worker
# thread (a replication makes hundreds of such requests and each hand-off costs more than
# the read). On the event loop nothing may wait: in non-blocking mode a lock held by another
# thread, or a database not opened yet, raises `WouldBlock`, and the caller runs the request
# on a worker thread instead. Reads, `_local` writes and small `_bulk_docs` batches are run
# this way, and a write refuses before it starts (SQLite's write lock taken by another
# process), so starting over is harmless.
_mode = threading.local()


class WouldBlock(Exception):
    """A call in non-blocking mode would have had to wait."""


class NonblockingLock:
    """A re-entrant lock that refuses to wait in non-blocking mode."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> Self:
        if getattr(_mode, "nonblocking", False):
            if not self._lock.acquire(blocking=False):
                raise WouldBlock()
        else:
            self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def is_nonblocking() -> bool:
    """Whether this thread is in non-blocking mode (inside `run_nonblocking`)."""
    return bool(getattr(_mode, "nonblocking", False))


def ensure_may_block() -> None:
    """Raise `WouldBlock` in non-blocking mode: for a step that must not run on the event
    loop (a second write besides the request's own, which could not be taken back if the
    request then started over on a worker thread). Call it before anything is written."""
    if is_nonblocking():
        raise WouldBlock()
