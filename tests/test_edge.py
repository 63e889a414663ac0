"""Every request passes the same edge, `/sync/` included: request log and counters, security
headers, rate limits, then the one door (`api/core/edge.py`)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
from openapi_spec_validator import validate

from api.app import create_app
from api.settings import Settings


def _calls(app, *requests: tuple[str, str]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return [await c.request(method, path) for method, path in requests]

    # A thread of its own: the browser tests keep an event loop running in the main thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, go).result()


def test_sync_and_api_answers_pass_the_same_layers(tmp_path, caplog):
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40, rate_limit_address_per_minute=3))
    with caplog.at_level(logging.DEBUG, logger="branchline.requests"):
        welcome, health, db, refused, refused_api = _calls(
            app,
            ("GET", "/sync/tenant1/"),
            ("GET", "/healthz"),
            ("GET", "/sync/tenant1/sessions"),
            ("GET", "/sync/tenant1/"),
            ("GET", "/healthz"),
        )
    assert welcome.status_code == 200 and welcome.json()["couchdb"] == "Welcome"
    assert health.status_code == 200 and db.status_code == 401
    # The address's budget (3 a minute) is shared by both parts of the server.
    for r in (refused, refused_api):
        assert r.status_code == 429 and r.json()["error"] == "too_many_requests", r.text
        assert r.headers["retry-after"]
    for r in (welcome, health, db, refused, refused_api):
        assert "default-src" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
    stats = app.request_stats.snapshot()
    assert stats["sync"]["answers"] == {"2xx": 1, "4xx": 2}
    assert stats["api"]["answers"] == {"2xx": 1, "4xx": 1}
    lines = [r.getMessage() for r in caplog.records if r.name == "branchline.requests"]
    assert [line.rsplit(" ", 2)[0] for line in lines] == [
        "GET /sync/tenant1/ 200",
        "GET /healthz 200",
        "GET /sync/tenant1/sessions 401",
        "GET /sync/tenant1/ 429",
        "GET /healthz 429",
    ]


def test_a_method_the_sync_endpoints_do_not_serve_is_their_json_405(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    (r,) = _calls(app, ("OPTIONS", "/sync/tenant1/sessions"))
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert "GET" in r.headers["allow"] and "content-security-policy" in r.headers


def test_the_openapi_document_is_valid_and_lists_no_sync_path(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    spec = app.openapi()
    validate(spec)
    assert not [p for p in spec["paths"] if p.startswith("/sync")]
