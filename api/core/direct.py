"""Direct routes: the busiest REST routes answered without the framework's per-request machinery.

A team's every step is one `POST /api/v1/sessions/{id}/events`. Under a closed loop of
such requests, a profile of the event-loop thread put about a quarter of it in FastAPI's
own layers around the route (routing through every router, dependency solving, the
exception and exit-stack middleware, the body read through `Request`), more than the
step's own store work. `/sync/` already skips those layers (`sync.http.SyncDispatch`); a
direct route does the same for one REST route, while keeping everything a client sees:

- it sits behind the same edge (request log, security headers, rate limits) and inside the
  same body-limit and compression middleware as every REST route (`DirectRoutes.wrap`);
- its errors are the same `BranchlineError` classes in the same `{"error", "reason"}`
  shape (`error_answer`), and an unexpected failure is logged and answered 500 as the
  framework's handler does;
- the route stays declared on its FastAPI router too, with the same function behind both,
  so the OpenAPI document (and the contract tests run against it) still describe it;
- it reads a request as the framework does, in its order (body, then caller, then the
  body's shape): tests/sessions/test_direct_route.py sends every kind of bad request to
  both and compares the answers, so a framework upgrade that changes one is caught.

A direct handler receives a `DirectRequest` and returns `(status, body bytes)`; it
raises `BranchlineError` for what the caller got wrong.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from sync.errors import UNEXPECTED_REASON, BadRequest, BranchlineError

from .compression import FASTEST
from .errors import invalid, is_json_type, not_json_body

log = logging.getLogger("branchline")


ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


# What the framework answers for a body it could not read (a client gone mid-body, bytes
# that are not text): the same 400.
UNREADABLE = "There was an error parsing the body"


@dataclass
class DirectRequest:
    scope: MutableMapping[str, Any]
    receive: Any
    params: dict[str, str]

    def header(self, name: bytes) -> str | None:
        """A request header's value (`name` in lower case), or None."""
        for key, value in self.scope.get("headers", ()):
            if key == name:
                return value.decode("latin-1")
        return None

    @property
    def client_host(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    async def body(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise BadRequest(UNREADABLE)  # as the framework: a 400 nobody reads, not a 5xx
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    async def json_body(self) -> Any:
        """The body as the framework reads a JSON body, before it looks at anything else:
        parsed when its content type is JSON (a body that does not parse is refused here,
        ahead of the caller's credentials), else the bytes; None when empty. The parser is
        the framework's too (`json`: a byte-order mark, UTF-16 and `NaN` are accepted)."""
        raw = await self.body()
        if not raw:
            return None
        if not is_json_type(self.header(b"content-type")):
            return raw  # the framework's strict content type: bytes, not a dictionary
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise invalid([{"field": "body", "message": "the request body is not valid JSON"}]) from None
        except ValueError:  # not text (UnicodeDecodeError)
            raise BadRequest(UNREADABLE) from None

    def json_object(self, value: Any) -> dict[str, Any]:
        """`json_body`'s value as the one JSON object a route takes, refused as the framework
        refuses it once the caller is known."""
        if value is None:
            raise invalid([{"field": "body", "message": "Field required"}])
        if isinstance(value, bytes):
            raise invalid([{"field": "body", "message": not_json_body(self.header(b"content-type"))}])
        if not isinstance(value, dict):
            raise invalid([{"field": "body", "message": "Input should be a valid dictionary"}])
        return value


Handler = Callable[[Any, DirectRequest], Awaitable[tuple[int, bytes]]]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    every_step: bool  # answered at every step of every engineer: gzip at its fastest level


def _route_path(scope: MutableMapping[str, Any]) -> str:
    """The path without the server's root path (`--root-path`), as the framework routes it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path


def error_answer(exc: BranchlineError) -> tuple[int, bytes, dict[str, str]]:
    return exc.status, orjson.dumps(exc.body()), dict(exc.headers or {})


class DirectRoutes:
    """Sends the requests of its routes to their handlers and everything else to `fallback`
    (the framework). `wrap` puts the REST middleware (body limits, compression) around the
    handlers once the app has them."""

    def __init__(self, ctx: Any, fallback: ASGIApp) -> None:
        self.ctx = ctx
        self.fallback = fallback
        self._routes: list[_Route] = []
        self._serve: ASGIApp = self._answer

    def add(self, method: str, pattern: str, handler: Handler, *, every_step: bool = False) -> None:
        self._routes.append(_Route(method, re.compile(pattern), handler, every_step))

    def wrap(self, middleware: Callable[[Any], Any]) -> None:
        self._serve = middleware(self._serve)

    def _match(self, scope: MutableMapping[str, Any]) -> tuple[_Route, dict[str, str]] | None:
        if scope["type"] != "http":
            return None
        method = scope["method"]
        path = _route_path(scope)
        for route in self._routes:
            if route.method == method:
                m = route.pattern.match(path)
                if m is not None:
                    return route, m.groupdict()
        return None

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        found = self._match(scope)
        if found is None:
            await self.fallback(scope, receive, send)
            return
        scope["branchline.direct"] = found
        if found[0].every_step:
            scope[FASTEST] = True
        await self._serve(scope, receive, send)

    async def _answer(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        route, params = scope["branchline.direct"]
        headers: dict[str, str] = {}
        try:
            status, body = await route.handler(self.ctx, DirectRequest(scope, receive, params))
        except BranchlineError as exc:
            status, body, headers = error_answer(exc)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            status, body, headers = error_answer(BranchlineError(UNEXPECTED_REASON))  # a 500
        raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})
