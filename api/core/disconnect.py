"""Blocking work that stops when the client goes away.

A route that starts expensive work on the caller's behalf (a tenant template in the sandbox
pool) runs it through `run_until_disconnected`: the work gets a `cancel` Event, set when the
client disconnects or the request is cancelled (server shutdown), so a render nobody waits
for is killed instead of finishing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

T = TypeVar("T")

_CHECK_EVERY_S = 0.2


async def run_until_disconnected(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, cancel=event, **kwargs)` in the thread pool; `event` is set once the client
    has gone, and the work's own result (or error) is what is answered."""
    cancel = threading.Event()
    work = asyncio.ensure_future(run_in_threadpool(fn, *args, cancel=cancel, **kwargs))
    try:
        while True:
            done, _ = await asyncio.wait({work}, timeout=_CHECK_EVERY_S)
            if done:
                return work.result()
            if not cancel.is_set() and await request.is_disconnected():
                cancel.set()
    except asyncio.CancelledError:
        cancel.set()
        raise
