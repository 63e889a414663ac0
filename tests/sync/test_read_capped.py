"""The one capped body reader (sync endpoints and attachment uploads share it)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from sync.errors import PayloadTooLarge
from sync.http_params import read_capped
from tests.conftest import run_async


def _request(chunks: list[bytes], declared: int | None) -> tuple[Request, list[int]]:
    headers = [(b"content-length", str(declared).encode())] if declared is not None else []
    given: list[int] = []
    parts = list(chunks)

    async def receive() -> dict:
        chunk = parts.pop(0) if parts else b""
        given.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    return Request({"type": "http", "method": "PUT", "path": "/", "headers": headers}, receive), given


def _read(chunks: list[bytes], declared: int | None, limit: int) -> tuple[bytes | str, list[int]]:
    request, given = _request(chunks, declared)

    async def go() -> bytes | str:
        try:
            return await read_capped(request, limit, lambda d: f"too large: {d}")
        except PayloadTooLarge as exc:
            return exc.body()["reason"]

    # The browser tests keep an event loop on the main thread: run on a thread of its own.
    return run_async(go()), given


@pytest.mark.parametrize("declared", [None, 6])
def test_a_body_within_the_limit_is_read_whole(declared):
    assert _read([b"abc", b"def"], declared, 6)[0] == b"abcdef"


def test_an_announced_size_above_the_limit_is_refused_before_reading():
    reason, given = _read([b"x" * 10], 10, 6)
    assert reason == "too large: 10" and given == []


def test_a_body_longer_than_announced_is_refused_without_reading_on():
    reason, given = _read([b"abcd", b"efgh", b"ijkl"], None, 6)
    assert reason == "too large: None" and given == [4, 4]
