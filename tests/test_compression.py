"""Compressed answers: the PWA's precompressed assets picked by Accept-Encoding, whole JSON
answers gzipped above a size, and streams (live `_changes` feeds) never held back or
compressed."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from api.core.compression import MIN_SIZE, OFF_LOOP_SIZE, CompressionMiddleware, choose_encoding
from api.web import default_dist
from tests.conftest import Tenant, run_async

DIST = default_dist()


@pytest.mark.parametrize(
    "header, expected",
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip, deflate", "gzip"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("*", "br"),
        ("*;q=0.3, br;q=0", "gzip"),
        ("identity", None),
        ("", None),
        (None, None),
        ("gzip;q=oops, br;q=0.1", "br"),
        ("GZIP", "gzip"),
    ],
)
def test_choose_encoding_follows_the_weights_then_prefers_brotli(header, expected):
    assert choose_encoding(header, ("br", "gzip")) == expected


def test_choose_encoding_only_offers_the_copies_that_exist():
    assert choose_encoding("br, gzip", ("gzip",)) == "gzip"
    assert choose_encoding("br", ("gzip",)) is None


def main_script() -> Path:
    index = (DIST / "index.html").read_text()
    return DIST / re.search(r'src="/(assets/index-[^"]+\.js)"', index).group(1)


def raw_get(http, url: str, accept: str | None, **kw) -> tuple[dict, bytes]:
    """The answer's headers and its bytes as sent (not decoded by the client)."""
    headers = {"Accept-Encoding": accept} if accept is not None else {"Accept-Encoding": ""}
    with http.stream("GET", url, headers={**headers, **kw.pop("headers", {})}, **kw) as r:
        assert r.status_code == 200, r.read()
        return r.headers, b"".join(r.iter_raw())


def test_assets_come_precompressed_in_the_coding_the_browser_prefers(http):
    script = main_script()
    url = "/" + script.relative_to(DIST).as_posix()
    original = script.read_bytes()

    headers, body = raw_get(http, url, "gzip, deflate, br")
    assert headers["content-encoding"] == "br"
    assert headers["content-type"].startswith("text/javascript")
    assert headers["vary"] == "Accept-Encoding"
    assert "immutable" in headers["cache-control"]
    assert body == script.with_name(script.name + ".br").read_bytes()
    assert len(body) < len(original) / 3

    headers, body = raw_get(http, url, "gzip")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == original

    headers, body = raw_get(http, url, None)
    assert "content-encoding" not in headers
    assert headers["vary"] == "Accept-Encoding"
    assert body == original


def test_deep_links_and_the_service_worker_come_compressed(http):
    headers, body = raw_get(http, "/s/01HX-some-session", "gzip")
    assert headers["content-encoding"] == "gzip" and headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-cache"
    assert gzip.decompress(body) == (DIST / "index.html").read_bytes()

    headers, body = raw_get(http, "/sw.js", "gzip")
    assert headers["content-encoding"] == "gzip" and headers["cache-control"] == "no-cache"
    assert gzip.decompress(body) == (DIST / "sw.js").read_bytes()

    headers, body = raw_get(http, "/manifest.webmanifest", None)
    assert headers["content-type"].startswith("application/manifest+json")
    assert json.loads(body)["name"] == "Branchline"


def test_a_compressed_copy_asked_for_by_name_is_not_passed_off_as_a_script(http):
    script = main_script()
    headers, _ = raw_get(http, "/" + script.relative_to(DIST).as_posix() + ".br", None)
    assert headers["content-type"] == "application/octet-stream"
    assert "content-encoding" not in headers


def test_large_json_answers_are_gzipped_small_ones_are_not(http):
    tenant = Tenant(http, starter_library=True)
    headers, body = raw_get(http, "/api/v1/trees", "gzip, br", headers=tenant.headers, params={"limit": 50})
    assert headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    assert int(headers["content-length"]) == len(body)
    plain = gzip.decompress(body)
    assert len(plain) > MIN_SIZE and len(body) < len(plain)
    assert json.loads(plain)["items"]

    headers, body = raw_get(http, "/api/v1/trees", None, headers=tenant.headers, params={"limit": 50})
    assert "content-encoding" not in headers and "accept-encoding" in headers["vary"].lower()
    assert json.loads(body)["items"]

    # A large answer (gzipped off the event loop) decodes to exactly the identity answer.
    _, packed = raw_get(http, "/openapi.json", "gzip")
    _, plain = raw_get(http, "/openapi.json", None)
    assert len(plain) > OFF_LOOP_SIZE and gzip.decompress(packed) == plain

    headers, body = raw_get(http, "/healthz", "gzip")
    assert "content-encoding" not in headers
    assert len(body) < MIN_SIZE


def test_a_live_changes_feed_streams_uncompressed(http):
    tenant = Tenant(http, starter_library=True)
    url = tenant.me["sync"]["databases"]["trees"] + "/_changes"
    params = {"feed": "continuous", "since": "now", "heartbeat": 200, "timeout": 10000}
    with http.stream(
        "GET", url, params=params, headers={**tenant.headers, "Accept-Encoding": "gzip, br"}
    ) as r:
        assert r.status_code == 200
        assert "content-encoding" not in r.headers
        # The heartbeat arrives long before the feed's 10 s timeout ends it.
        first = next(r.iter_raw())
        assert first.strip() == b""


def test_streams_pass_through_unbuffered_even_inside_the_middleware():
    """A streaming answer's start and each chunk reach the server as they are produced: the
    stream below only yields its second chunk once the first has been sent on."""
    first_sent = asyncio.Event()

    async def feed():
        yield b'{"results":[' + b" " * 4096
        await asyncio.wait_for(first_sent.wait(), timeout=5)
        yield b"]}"

    async def endpoint(request):
        return StreamingResponse(feed(), media_type="application/json")

    app = CompressionMiddleware(Starlette(routes=[Route("/api/v1/stream", endpoint)]))
    sent: list[dict] = []

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_sent.set()

    async def receive():
        await asyncio.sleep(3600)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/stream",
        "raw_path": b"/api/v1/stream",
        "query_string": b"",
        "headers": [(b"accept-encoding", b"gzip")],
        "root_path": "",
        "scheme": "http",
        "server": ("test", 80),
        "http_version": "1.1",
    }
    run_async(app(scope, receive, send))

    start = sent[0]
    assert start["type"] == "http.response.start"
    assert b"content-encoding" not in dict(start["headers"])
    bodies = [m["body"] for m in sent[1:] if m.get("body")]
    assert bodies[0].startswith(b'{"results":[') and bodies[1] == b"]}"
