"""Rate limits against a real server (issue 15: floods of 1,500 requests at 170-320 per
second got no 429). The limits are set low here so a flood is short; the answers past them
are 429 `{error: "too_many_requests", reason}` with Retry-After and the IETF
RateLimit-Policy / RateLimit fields."""

from __future__ import annotations

import re

import httpx

from tests.attachments.helpers import new_id, png, publish_tree, start_session, upload
from tests.conftest import Tenant
from tests.trees.factories import valid_tree

USER_LIMIT = 120
KEY_LIMIT = 60
ADDRESS_LIMIT = 150
SERVER_ENV = {
    "BRANCHLINE_RATE_LIMIT_USER_PER_MINUTE": str(USER_LIMIT),
    "BRANCHLINE_RATE_LIMIT_API_KEY_PER_MINUTE": str(KEY_LIMIT),
    "BRANCHLINE_RATE_LIMIT_ADDRESS_PER_MINUTE": str(ADDRESS_LIMIT),
    "BRANCHLINE_RATE_LIMIT_EXPORTS_PER_MINUTE": "4",
    "BRANCHLINE_RATE_LIMIT_PDF_PER_MINUTE": "1",
    "BRANCHLINE_RATE_LIMIT_UPLOADS_PER_MINUTE": "2",
}


def _flood(client: httpx.Client, path: str, n: int, headers: dict | None = None) -> list[httpx.Response]:
    return [client.get(path, headers=headers) for _ in range(n)]


def _first_refusal(answers: list[httpx.Response]) -> httpx.Response:
    # The first: later ones may pass again, as the bucket refills while the flood goes on.
    refused = [r for r in answers if r.status_code == 429]
    assert refused, f"a flood of {len(answers)} requests got no 429"
    return refused[0]


def _assert_refusal(r: httpx.Response, policy: str, limit: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error"] == "too_many_requests"
    assert "Wait" in body["reason"] and str(limit) in body["reason"]
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["RateLimit-Policy"] == f'"{policy}";q={limit};w=60'
    m = re.fullmatch(rf'"{policy}";r=0;t=(\d+)', r.headers["RateLimit"])
    assert m and int(m.group(1)) == int(r.headers["Retry-After"])


def test_a_flood_from_one_user_is_refused_and_other_tenants_are_not_hurt(http, make_tenant):
    a, b = make_tenant(), make_tenant()
    answers = _flood(http, "/api/v1/me", USER_LIMIT + 30, a.headers)
    codes = [r.status_code for r in answers]
    _assert_refusal(_first_refusal(answers), "user", USER_LIMIT)
    # The burst the limit allows passes whole; then the flood is cut off.
    assert codes.index(429) >= USER_LIMIT - 5
    # Another tenant's user, from the same address, is served as usual.
    assert http.get("/api/v1/me", headers=b.headers).status_code == 200
    assert http.get(f"/sync/{b.id}/clients", headers=b.headers).status_code == 200


def test_sync_requests_are_limited_in_front_of_the_front_door(http, tenant):
    """`/sync/` requests skip the middleware stack; the limit still applies to them."""
    answers = _flood(http, f"/sync/{tenant.id}/trees", USER_LIMIT + 30, tenant.headers)
    _assert_refusal(_first_refusal(answers), "user", USER_LIMIT)
    # One budget per user, whatever the path: the API refuses the same user now.
    _assert_refusal(_first_refusal(_flood(http, "/api/v1/me", 10, tenant.headers)), "user", USER_LIMIT)


def test_an_api_key_flood_is_refused(http, tenant):
    r = http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": "connector", "role": "viewer"})
    assert r.status_code == 201, r.text
    key = {"Authorization": f"Bearer {r.json()['key']}"}
    answers = _flood(http, "/api/v1/trees", KEY_LIMIT + 20, key)
    _assert_refusal(_first_refusal(answers), "api-key", KEY_LIMIT)
    # The team's people are not held back by their connector's flood.
    assert http.get("/api/v1/me", headers=tenant.headers).status_code == 200


def test_an_anonymous_flood_from_one_address_is_refused_and_other_addresses_are_served(server):
    # Linux routes all of 127.0.0.0/8 to loopback: a second client address, no second machine.
    flooder = httpx.Client(
        base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2")
    )
    with flooder:
        # Half the flood with a forged token: forged or expired tokens get no user's budget,
        # they count against the address like requests without credentials.
        forged = {"Authorization": "Bearer not.a.token"}
        answers = [
            flooder.get("/api/v1/me", headers=forged if i % 2 else None) for i in range(ADDRESS_LIMIT + 30)
        ]
        _assert_refusal(_first_refusal(answers), "address", ADDRESS_LIMIT)
        # The app's own files still load (a refused one would break the PWA's install).
        assert flooder.get("/").status_code != 429
    with httpx.Client(
        base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.3")
    ) as other:
        assert other.get("/healthz").status_code == 200


def _session(http: httpx.Client, t: Tenant) -> str:
    tree_id = http.post("/api/v1/trees", headers=t.headers, json=valid_tree()).json()["id"]
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=t.headers, json={}).status_code in (200, 201)
    r = http.post("/api/v1/sessions", headers=t.headers, json={"tree_id": tree_id})
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def test_exports_and_pdf_renders_are_limited_per_tenant(http, make_tenant):
    a, b = make_tenant(), make_tenant()
    sid = _session(http, a)
    export = f"/api/v1/sessions/{sid}/export"
    assert http.get(export, params={"format": "pdf"}, headers=a.headers).status_code == 200
    r = http.get(export, params={"format": "pdf"}, headers=a.headers)
    assert r.status_code == 429, r.text
    assert r.headers["RateLimit-Policy"] == '"pdf";q=1;w=60' and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"] == "too_many_requests" and "PDF" in r.json()["reason"]
    # Other formats go on until the team's export budget (4 a minute, the PDFs included) is spent.
    codes = [http.get(export, params={"format": "markdown"}, headers=a.headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429], codes
    # Another team's exports are unaffected.
    sid_b = _session(http, b)
    assert (
        http.get(f"/api/v1/sessions/{sid_b}/export", params={"format": "pdf"}, headers=b.headers).status_code
        == 200
    )


def test_uploads_are_limited_per_tenant_and_nothing_is_stored_past_the_limit(server, http, make_tenant):
    a, b = make_tenant(), make_tenant()
    sid = start_session(http, a, publish_tree(http, a))
    codes = [upload(http, a, sid, png(), attachment_id=new_id()).status_code for _ in range(3)]
    assert codes == [201, 201, 429], codes
    r = upload(http, a, sid, png(), attachment_id=new_id())
    assert r.json()["error"] == "too_many_requests" and "uploading attachments" in r.json()["reason"]
    assert r.headers["RateLimit-Policy"] == '"uploads";q=2;w=60'
    assert len(list((server.data_dir / "attachments" / a.id).iterdir())) == 2
    sid_b = start_session(http, b, publish_tree(http, b))
    assert upload(http, b, sid_b, png(), attachment_id=new_id()).status_code == 201
