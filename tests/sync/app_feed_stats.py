"""The real application, plus `GET /_test/feeds`: the change notifier's counters (waiting
feeds, shared reads, feeds woken), so tests can see which feeds a write wakes."""

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
            await send({"type": "http.response.body", "body": orjson.dumps(notifier.stats())})
            return
        await app(scope, receive, send)

    return with_stats
