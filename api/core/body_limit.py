"""A body ceiling for every REST route, enforced before the body is read past it.

Without it, a 200 MB JSON body sent to the (unauthenticated) sign-in route was read whole
before anything looked at it. This ASGI middleware answers 413 in the one error shape:

- at once, without reading anything, when `Content-Length` is above the route's ceiling;
- as soon as the bytes received pass the ceiling, for a chunked body (no `Content-Length`)
  or one longer than declared: the route's own answer (usually "could not parse the
  body") is replaced by the 413, and nothing more is read.

The sync endpoints (`/sync/...`) never reach the framework's middleware (`api/core/edge.py`)
and apply their own ceiling after authenticating the caller (`sync/http.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from sync.errors import PayloadTooLarge

KB = 1024
MB = 1024 * KB


@dataclass(frozen=True)
class Ceiling:
    pattern: re.Pattern[str]
    limit: int
    what: str


def _c(pattern: str, limit: int, what: str) -> Ceiling:
    return Ceiling(re.compile(pattern), limit, what)


# First match wins. Sizes leave generous room above the largest legitimate body.
CEILINGS: tuple[Ceiling, ...] = (
    # Sign-up, sign-in, refresh, logout, invitations: a few short strings, unauthenticated.
    _c(
        r"^/api/v1/auth/(login|register|refresh|logout|accept-invite|forgot-password|password-reset|reset-password)$",
        16 * KB,
        "a sign-in request",
    ),
    # Files sent through the API (the team's own limit, at most 100 MB, is checked by the
    # route; this is the ceiling above every team's limit, plus multipart framing).
    _c(r"^/api/v1/sessions/[^/]+/attachments$", 101 * MB, "an attachment upload"),
    # Whole trees: drafts, imports and validation of large trees with long bodies.
    _c(r"^/api/v1/trees(/|$)", 10 * MB, "a tree"),
    # A template is at most 200,000 characters, up to 6 bytes each once escaped in JSON.
    _c(r"^/api/v1/export-templates/", 1536 * KB, "an export template"),
)
DEFAULT = Ceiling(re.compile(""), 1 * MB, "this request")


def ceiling_for(path: str) -> Ceiling:
    """The body ceiling of a route (by its path)."""
    for ceiling in CEILINGS:
        if ceiling.pattern.search(path):
            return ceiling
    return DEFAULT


def _too_large(ceiling: Ceiling) -> PayloadTooLarge:
    size = f"{ceiling.limit // MB} MB" if ceiling.limit >= MB else f"{ceiling.limit // KB} KB"
    return PayloadTooLarge(
        f"The request body is larger than {size}, the most {ceiling.what} may send. "
        "Send a smaller body (files go through the attachments API)."
    )


def _declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer(send: Any, exc: PayloadTooLarge) -> None:
    body = orjson.dumps(exc.body())
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI (it must see the body as it arrives, chunk by chunk)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ceiling = ceiling_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > ceiling.limit:
            await _answer(send, _too_large(ceiling))
            return
        state = {"received": 0, "exceeded": False, "answered": False}

        async def limited_receive() -> dict[str, Any]:
            if state["exceeded"]:
                raise _too_large(ceiling)
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > ceiling.limit:
                    state["exceeded"] = True
                    raise _too_large(ceiling)
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if not state["exceeded"]:
                if message["type"] == "http.response.start":
                    state["answered"] = True  # already answering: nothing to replace
                await send(message)
                return
            # The route failed on the cut-off body; answer the real reason instead.
            if message["type"] == "http.response.start" and not state["answered"]:
                state["answered"] = True
                await _answer(send, _too_large(ceiling))

        try:
            await self.app(scope, limited_receive, guarded_send)
        except PayloadTooLarge:
            if not state["exceeded"]:
                raise
            if not state["answered"]:
                state["answered"] = True
                await _answer(send, _too_large(ceiling))
