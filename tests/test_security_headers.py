"""Security headers on every kind of answer, and API docs that work without the internet."""

from __future__ import annotations

import re

from api.core.security_headers import HSTS, SecurityHeaders, content_security_policy
from tests.conftest import run_async


def _assert_secured(response, what: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, f"{what}: no frame-ancestors in {csp!r}"
    assert "default-src 'self'" in csp, f"{what}: {csp!r}"
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "no-referrer", what
    # Plain HTTP: HSTS would be ignored by browsers, and a local install must stay reachable.
    assert "strict-transport-security" not in response.headers, what


def test_security_headers_on_pages_api_sync_and_errors(http, tenant):
    app_policy = None
    for path in ("/", "/sessions/some-deep-link", "/healthz", "/openapi.json", "/api/v1/nope"):
        r = http.get(path)
        _assert_secured(r, path)
        if path == "/":
            app_policy = r.headers["content-security-policy"]
            assert "script-src 'self';" in app_policy and "unsafe" not in app_policy
    me = http.get("/api/v1/me", headers=tenant.headers)
    assert me.status_code == 200
    _assert_secured(me, "/api/v1/me")
    assert (
        http.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "no"}).headers[
            "x-content-type-options"
        ]
        == "nosniff"
    )
    # The sync endpoints are answered ahead of the middleware stack: answers, errors and
    # unauthenticated refusals all carry the headers.
    root = f"/sync/{tenant.id}"
    for path, headers in (
        (f"{root}/", tenant.headers),
        (f"{root}/trees", tenant.headers),
        (f"{root}/trees/missing-doc", tenant.headers),
        (f"{root}/trees", {}),
    ):
        r = http.get(path, headers=headers)
        _assert_secured(r, f"GET {path} -> {r.status_code}")
        assert r.headers["content-security-policy"] == app_policy


def test_hsts_only_under_https():
    sent = []

    async def send(message):
        sent.append(message)

    async def run(scheme):
        sent.clear()
        wrapped = SecurityHeaders(content_security_policy()).wrap({"type": "http", "scheme": scheme}, send)
        await wrapped({"type": "http.response.start", "status": 200, "headers": []})
        return {k.decode(): v.decode() for k, v in sent[0]["headers"]}

    assert run_async(run("https"))["strict-transport-security"] == HSTS
    assert "strict-transport-security" not in run_async(run("http"))


def test_docs_page_loads_swagger_ui_from_this_server(http):
    r = http.get("/docs")
    assert r.status_code == 200
    page = r.text
    assert "cdn" not in page.lower() and "https://" not in page
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and all(u.startswith("/docs/assets/") for u in urls), urls
    for url in urls:
        asset = http.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    # The page's inline script runs under a policy that allows it by hash only.
    csp = r.headers["content-security-policy"]
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+'", csp), csp
    assert "frame-ancestors 'none'" in csp
    assert http.get("/docs/assets/..%2Fcore.py").status_code == 404
    assert http.get("/redoc", follow_redirects=False).headers["location"] == "/docs"
