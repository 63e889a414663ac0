"""The real application, plus `GET /_test/feeds`: the change notifier's counters (waiting
feeds, shared reads, feeds woken), so tests can see which feeds a write wakes; with several
processes on the data folder, also the store's peer counters (`peers`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from api.app import create_app as create_real_app

Scope = dict[str, Any]
Asgi = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def create_app() -> Asgi:
    app = create_real_app()
    notifier = app.sync_door.api.notifier  # type: ignore[attr-defined]
    store = app.state.ctx.store

    def stats() -> dict[str, Any]:
        out = dict(notifier.stats())
        bus = getattr(store, "_bus", None)
        if bus is not None:
            out["peers"] = {
                "sent": bus.sent,
                "received": bus.received,
                "dropped": bus.dropped,
                "stalls": store.stalls,
                "forgets": store.forgets,
            }
        return out

    async def with_stats(
        scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        if scope["type"] == "http" and scope["path"] == "/_test/feeds":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": orjson.dumps(stats())})
            return
        await app(scope, receive, send)

    return with_stats
