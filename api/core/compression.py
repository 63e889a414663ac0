"""Compressed answers for phones on one bar of signal.

Two halves: the built PWA's assets are compressed once at build time (pwa/scripts/
precompress.mjs writes NAME.br and NAME.gz) and `api.web` picks the file with
`choose_encoding`; whole JSON and text answers of the API are gzipped on the fly by
`CompressionMiddleware`. Streams are never touched: a continuous or longpoll `_changes`
feed (or any answer without a Content-Length) must reach the device chunk by chunk, and a
compressor would hold its heartbeats back until its buffer fills.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from functools import partial
from typing import Any

import anyio

# The server's preference when the browser accepts several equally: smallest first.
PREFERENCE = ("br", "gzip")
MIN_SIZE = 1024  # below about one packet, compressing saves nothing a user would notice
MAX_SIZE = 8 * 1024 * 1024  # larger answers go out as they are rather than held in memory
GZIP_LEVEL = 6
# Small answers are the busy ones (a recorded step answers the session's state, a few KB):
# at gzip's fastest level they come out about a fifth larger than at level 6 (a few hundred
# bytes; less than a packet) for a third of the CPU, which under a team's load was a tenth
# of the server's. Larger answers (trees, exports), where a fifth is kilobytes on one bar
# of signal, keep level 6.
SMALL_SIZE = 32 * 1024
SMALL_GZIP_LEVEL = 1
# A route that answers at every step of every engineer (a recorded event answers the whole
# session's state, which grows with the session) marks its requests with this scope key:
# its answers take the fastest level whatever their size. At level 6 a long session's state
# (50 to 100 KB) cost three times the CPU of level 1 and was a tenth of the event loop's
# time under a team's load, for a few hundred bytes less.
FASTEST = "branchline.gzip_fastest"
# Above this, gzip runs on a worker thread (zlib lets go of the GIL), so a large export never
# stalls the event loop that also carries every open live feed.
OFF_LOOP_SIZE = 64 * 1024

_TEXT_TYPES = (
    "application/json",
    "application/javascript",
    "application/xml",
    "application/manifest+json",
    "image/svg+xml",
)


def accepted_codings(accept_encoding: str) -> dict[str, float]:
    """The codings an Accept-Encoding header names, with their weights (RFC 9110 12.5.3)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a malformed weight is no consent to that coding
        weights[name] = q
    return weights


def choose_encoding(accept_encoding: str | None, available: Iterable[str]) -> str | None:
    """The content coding to answer with among `available`, or None for the identity.

    A coding counts when the header gives it (or `*`) a weight above zero; the highest
    weight wins and the server's `PREFERENCE` breaks ties.
    """
    if not accept_encoding:
        return None
    weights = accepted_codings(accept_encoding)
    star = weights.get("*", 0.0)
    best, best_q = None, 0.0
    for coding in sorted(
        available, key=lambda c: PREFERENCE.index(c) if c in PREFERENCE else len(PREFERENCE)
    ):
        q = weights.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    return best


def compressible(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+json")


def add_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The raw headers with Accept-Encoding in Vary (caches must keep one copy per coding)."""
    for i, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            if b"accept-encoding" in value.lower() or value.strip() == b"*":
                return headers
            return [*headers[:i], (key, value + b", Accept-Encoding"), *headers[i + 1 :]]
    return [*headers, (b"vary", b"Accept-Encoding")]


def _weak(etag: bytes) -> bytes:
    """The compressed bytes differ from the ones a strong validator names."""
    return etag if etag.startswith(b"W/") else b"W/" + etag


class CompressionMiddleware:
    """Gzips whole text answers (JSON, exports, a PWA asset without a precompressed copy)
    of at least `MIN_SIZE` bytes for clients that accept gzip.

    An answer qualifies only when its start announces a Content-Length: that is how a
    whole body differs from a stream here, decided before a byte is held back, so
    streaming answers pass straight through. `/sync/` is left alone altogether: its live
    feeds are streams, and its other answers never reach the framework's middleware
    (`sync.http.SyncDoor`, see `api/core/edge.py`), where even gzip's fastest level would add about a tenth
    to the server's CPU per replication (about 8 ms per MB of JSON against about 1 s of CPU
    for the sync benchmark's 10,000 documents).
    """

    def __init__(self, app: Any, min_size: int = MIN_SIZE) -> None:
        self.app = app
        self.min_size = min_size

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/sync/"):
            await self.app(scope, receive, send)
            return
        accept = ""
        for key, value in scope["headers"]:
            if key == b"accept-encoding":
                accept = value.decode("latin-1")
                break

        start: dict | None = None
        chunks: list[bytes] = []

        async def deliver(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if self._eligible(message):
                    start = message
                    return
                await send(message)
                return
            if start is not None and message["type"] != "http.response.body":
                await send(start)  # e.g. a file sent by path: not ours to hold back
                start = None
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._send_whole(start, b"".join(chunks), accept, send, fastest=bool(scope.get(FASTEST)))

        await self.app(scope, receive, deliver)

    def _eligible(self, start: dict) -> bool:
        if start["status"] < 200 or start["status"] in (204, 206, 304):
            return False
        length, content_type, encoded = None, "", False
        for key, value in start.get("headers", []):
            k = key.lower()
            if k == b"content-length":
                length = int(value)
            elif k == b"content-type":
                content_type = value.decode("latin-1")
            elif k == b"content-encoding":
                encoded = True
        return (
            not encoded
            and length is not None
            and self.min_size <= length <= MAX_SIZE
            and compressible(content_type)
        )

    async def _send_whole(self, start: dict, body: bytes, accept: str, send: Any, *, fastest: bool) -> None:
        headers = add_vary(list(start.get("headers", [])))
        if choose_encoding(accept, ("gzip",)) == "gzip":
            level = SMALL_GZIP_LEVEL if fastest or len(body) < SMALL_SIZE else GZIP_LEVEL
            pack = partial(gzip.compress, body, compresslevel=level, mtime=0)
            packed = await anyio.to_thread.run_sync(pack) if len(body) > OFF_LOOP_SIZE else pack()
            if len(packed) < len(body):
                body = packed
                headers = [
                    (k, _weak(v) if k.lower() == b"etag" else v)
                    for k, v in headers
                    if k.lower() != b"content-length"
                ]
                headers += [(b"content-length", str(len(body)).encode()), (b"content-encoding", b"gzip")]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
