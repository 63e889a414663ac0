"""Parsing CouchDB-style request parameters and bodies, with CouchDB's error answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .errors import BadRequest, PayloadTooLarge

JSON_TYPE = "application/json"
# CouchDB sends this on every JSON answer; PouchDB does not need it, proxies and browsers do.
_BASE_HEADERS = {"Cache-Control": "must-revalidate"}


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    out = dict(_BASE_HEADERS)
    if headers:
        out.update(headers)
    return Response(orjson.dumps(data), status_code=status, media_type=JSON_TYPE, headers=out)


async def read_capped(request: Request, limit: int, too_large: Callable[[int | None], str]) -> bytes:
    """The raw request body, refusing (413) one above `limit` bytes before reading it whole:
    at once when `Content-Length` announces more, else as soon as the bytes received pass
    the limit (a chunked body, or one longer than announced), reading nothing further.

    `too_large(declared)` words the refusal for the caller's kind of body; `declared` is the
    announced size, or None when the body turned out larger than announced or unannounced.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large(int(declared)))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(too_large(None))
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(raw: bytes, *, what: str = "request body") -> Any:
    if not raw:
        raise BadRequest(f"The {what} is empty; send a JSON document.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The {what} is not valid UTF-8 JSON: {exc}.") from None


def parse_object(raw: bytes, *, what: str = "request body") -> dict[str, Any]:
    value = parse_body(raw, what=what)
    if not isinstance(value, dict):
        raise BadRequest(f"The {what} must be a JSON object.")
    return value


class Query:
    """Typed access to a request's query string, failing the way CouchDB fails."""

    def __init__(self, params: Mapping[str, str], extra: Mapping[str, Any] | None = None) -> None:
        self._params = params
        # Values from a POST body (e.g. `_all_docs` options) that override the query string.
        self._extra = dict(extra or {})

    def has(self, key: str) -> bool:
        return key in self._extra or key in self._params

    def raw(self, key: str, default: str | None = None) -> str | None:
        return self._params.get(key, default)

    def bool(self, key: str, default: bool = False) -> bool:
        if key in self._extra:
            value = self._extra[key]
            if isinstance(value, bool):
                return value
            raise BadRequest(f"Parameter `{key}` must be true or false; got {value!r}.")
        value = self._params.get(key)
        if value is None:
            return default
        if value == "true":
            return True
        if value == "false":
            return False
        raise BadRequest(
            f"Invalid boolean parameter `{key}={value}`: use true or false.", error="query_parse_error"
        )

    def int(self, key: str, default: int | None = None, *, minimum: int = 0) -> int | None:
        if key in self._extra:
            value: Any = self._extra[key]
        else:
            value = self._params.get(key)
            if value is None:
                return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise BadRequest(
                f"Invalid integer parameter `{key}={value}`.", error="query_parse_error"
            ) from None
        if isinstance(value, bool) or number < minimum or number > 2**63 - 1:
            raise BadRequest(
                f"Parameter `{key}` must be an integer from {minimum} to 2^63-1; got {value!r}.",
                error="query_parse_error",
            )
        return number

    def json(self, key: str, default: Any = None) -> Any:
        """A JSON-encoded parameter (`startkey="a"`, `open_revs=["1-x"]`)."""
        if key in self._extra:
            return self._extra[key]
        value = self._params.get(key)
        if value is None:
            return default
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise BadRequest(
                f'Parameter `{key}` must be JSON-encoded (e.g. {key}="abc"); got {value!r}.',
                error="query_parse_error",
            ) from None

    def str_list(self, key: str) -> list[str] | None:
        value = self.json(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadRequest(f"Parameter `{key}` must be a JSON list of strings.")
        return value


def parse_since(value: str | None, now: Any) -> Any:
    """A `since` value as the store expects it: `now`, an integer, or an opaque string.

    Sequences are opaque; only the embedded backend's are integers, so a string of digits
    becomes an int and anything else is passed through for the store to judge.
    """
    if value is None or value == "":
        return 0
    if value == "now":
        return now
    if value.isdigit():
        return int(value)
    if value.startswith(("[", '"')):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise BadRequest(f"Malformed `since` parameter {value!r}.") from None
    return value


def rev_from(query: Query, if_match: str | None, body_rev: Any = None) -> str | None:
    """The revision a write targets: query `rev`, `If-Match` or the body's `_rev` (must agree)."""
    candidates = [r for r in (query.raw("rev"), (if_match or "").strip('"') or None, body_rev) if r]
    if not candidates:
        return None
    if any(r != candidates[0] for r in candidates[1:]):
        raise BadRequest("Document rev from request body and query string have different values.")
    if not isinstance(candidates[0], str):
        raise BadRequest(f"Invalid rev {candidates[0]!r}.")
    return candidates[0]
