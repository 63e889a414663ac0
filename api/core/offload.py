"""Where an endpoint's blocking work runs: on the event loop when it cannot wait, else one hop.

FastAPI runs every plain `def` endpoint and dependency on a worker thread, each through
anyio's `to_thread`. A request with two dependencies and an endpoint made three trips to a
thread and back, and under load each trip cost about 50 microseconds of CPU (anyio looks
up its backend, a capacity limiter and a cancel scope on every call), besides handing the
interpreter lock back and forth. For the API's busiest routes that was more than the work.

So the hot paths (the caller's credentials, `POST /sessions/{id}/events`) are `async`
and call these instead:
- `quick(store, fn, ...)`: `fn` on the event loop in the store's non-blocking mode (see
  `sync/nonblocking.py`): any lock held elsewhere, a database not open yet or SQLite's
  write lock held by another process raises `WouldBlock` before anything is written, and
  the caller then goes to a thread;
- `in_worker(fn, ...)`: one trip to a worker thread of a plain executor (about a third of
  anyio's cost per trip), with the caller's context variables.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")

# As many as anyio's default limiter allows: requests waiting on a slow store queue here.
MAX_WORKERS = 40

_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid  # one pool per process, made on first use
    if _pool is None or _pool_pid != os.getpid():
        # A forked server process must not submit to its parent's threads (they are not there).
        _pool = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="branchline-request")
        _pool_pid = os.getpid()
    return _pool


async def in_worker(fn: Callable[..., _T], *args: Any) -> _T:
    """`fn(*args)` on a worker thread, seeing the caller's context variables."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_executor(), context.run, fn, *args)


def quick(store: Any, fn: Callable[..., _T], *args: Any) -> tuple[bool, _T | None]:
    """`(True, fn(*args))` run right here in non-blocking mode, or `(False, None)` when it
    would have waited (or the store cannot refuse to wait: the CouchDB backend)."""
    run = getattr(store, "run_nonblocking", None)
    if run is None:
        return False, None
    done, result = run(fn, *args)
    return bool(done), result


async def quick_or_worker(store: Any, fn: Callable[..., _T], *args: Any) -> _T:
    """`fn(*args)` on the event loop when it does not wait, else on a worker thread."""
    done, result = quick(store, fn, *args)
    if done:
        return result  # type: ignore[return-value]
    return await in_worker(fn, *args)
