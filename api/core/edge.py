"""The application's edge: what every request passes, `/sync/` and the REST API alike.

From the outside in: the request log and counters, the security headers, the general rate
limits, then the one door (`sync.http.SyncDispatch`): `/sync/{tenant}/...` goes to the sync
endpoints, anything else to FastAPI's own stack (body limits, compression, error handlers,
routes). Because the door sits inside these layers, no path skips them; the sync endpoints
still skip the framework's per-request machinery, which costs as much as the sync work
itself on a replication of small documents.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .security_headers import SecurityHeaders

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]
Gate = Callable[[Any, Any, Any], Awaitable[Any]]

request_log = logging.getLogger("branchline.requests")


@dataclass
class RequestStats:
    """Answers counted per part of the server ("sync" or "api") and status class ("2xx"...),
    with the time spent answering them."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, part: str, status: int, seconds: float) -> None:
        klass = f"{status // 100}xx"
        with self._lock:
            by_status = self.counts.setdefault(part, {})
            by_status[klass] = by_status.get(klass, 0) + 1
            self.seconds[part] = self.seconds.get(part, 0.0) + seconds

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                part: {"answers": dict(by_status), "seconds": round(self.seconds.get(part, 0.0), 3)}
                for part, by_status in sorted(self.counts.items())
            }


class RequestLog:
    """Counts every HTTP answer in `stats` and, at DEBUG, logs one line per request."""

    def __init__(self, app: ASGIApp, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if nothing was sent (the server's own failure)

        async def noting_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            elapsed = time.perf_counter() - started
            part = "sync" if scope["path"].startswith("/sync/") else "api"
            self.stats.record(part, status, elapsed)
            if request_log.isEnabledFor(logging.DEBUG):
                request_log.debug("%s %s %d %.1f ms", scope["method"], scope["path"], status, elapsed * 1000)


class SecurityHeadersLayer:
    """The security headers (`security_headers.py`) on every HTTP answer."""

    def __init__(self, app: ASGIApp, headers: SecurityHeaders) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, self.headers.wrap(scope, send))


class GateLayer:
    """A request gate (the rate limits): it answers a refused request itself and returns
    None, or returns the `send` to go on with."""

    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        send = await self.gate(scope, receive, send)
        if send is not None:
            await self.app(scope, receive, send)


def build_edge(
    inner: ASGIApp, *, headers: SecurityHeaders, gate: Gate | None, stats: RequestStats
) -> ASGIApp:
    """`inner` (the door) wrapped in the layers every request passes, in their order."""
    app = inner if gate is None else GateLayer(inner, gate)
    return RequestLog(SecurityHeadersLayer(app, headers), stats)
