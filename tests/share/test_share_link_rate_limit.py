"""Views of one share link are limited per link (a forwarded link opened in a loop), with the
usual 429 headers, as a page for a browser; other links keep working."""

from __future__ import annotations

from tests.sessions.test_sessions_api import publish_tree, start

SERVER_ENV = {"BRANCHLINE_RATE_LIMIT_SHARE_VIEWS_PER_MINUTE": "3"}


def test_views_of_one_link_are_limited_per_link(http, tenant):
    sid = start(http, tenant, publish_tree(http, tenant), ticket="T-RL")["session_id"]
    links = [
        http.post(f"/api/v1/sessions/{sid}/share-links", headers=tenant.headers, json={}).json()["url"]
        for _ in range(2)
    ]
    first, second = (url[url.index("/share/") :] for url in links)
    assert [http.get(first).status_code for _ in range(3)] == [200, 200, 200]
    r = http.get(first)
    assert r.status_code == 429 and "Too many requests" in r.text
    assert int(r.headers["retry-after"]) >= 1 and r.headers["ratelimit-policy"].startswith(
        '"share_views";q=3'
    )
    assert r.headers["cache-control"] == "no-store"
    assert http.get(second).status_code == 200
