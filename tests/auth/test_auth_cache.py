"""Remembered credentials on the sync endpoints never outlive what they stand for.

The server remembers a verified access token (and recently checked Basic credentials) so a
replication's hundreds of requests skip the signature check, and answers small sync reads
on the event loop for such callers. These tests warm that cache with several requests,
then change the account and expect the very next request to be refused, on the paths
answered on the event loop (`GET /db`, `GET _local/...`, `_revs_diff`, `PUT _local/...`)
and on the worker-thread path (`_bulk_docs`).
"""

from __future__ import annotations

import base64
import time
from typing import Any, ClassVar

import httpx

from tests.conftest import STRONG_PASSWORD


def _basic(email: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def _warm(http: httpx.Client, base: str, headers: dict[str, str]) -> None:
    for _ in range(3):
        assert http.get(f"{base}/clients", headers=headers).status_code == 200
    r = http.post(f"{base}/clients/_revs_diff", headers=headers, json={"x": ["1-abc"]})
    assert r.status_code == 200, r.text
    r = http.put(
        f"{base}/clients/_local/ckpt-{headers['Authorization'][-8:]}", headers=headers, json={"last_seq": 1}
    )
    assert r.status_code in (201, 409), r.text


def _refused(http: httpx.Client, base: str, headers: dict[str, str]) -> None:
    assert http.get(f"{base}/clients", headers=headers).status_code == 401
    assert http.get(f"{base}/clients/_local/anything", headers=headers).status_code == 401
    r = http.post(f"{base}/clients/_revs_diff", headers=headers, json={"x": ["1-abc"]})
    assert r.status_code == 401
    assert http.put(f"{base}/clients/_local/x", headers=headers, json={}).status_code == 401
    r = http.post(f"{base}/clients/_bulk_docs", headers=headers, json={"docs": [{"_id": "c1"}]})
    assert r.status_code == 401


def test_deactivation_refuses_a_cached_token_and_cached_basic_credentials_at_once(http, tenant):
    eng = tenant.add_user("engineer")
    base = f"/sync/{tenant.id}"
    basic = _basic(eng.email, STRONG_PASSWORD)
    _warm(http, base, eng.headers)
    _warm(http, base, basic)
    r = http.patch(f"/api/v1/users/{eng.id}", headers=tenant.headers, json={"active": False})
    assert r.status_code == 200, r.text
    _refused(http, base, eng.headers)
    _refused(http, base, basic)
    # The owner's own cached token is untouched.
    assert http.get(f"{base}/clients", headers=tenant.headers).status_code == 200


def test_a_password_change_refuses_the_cached_token_at_once(http, tenant):
    eng = tenant.add_user("engineer")
    base = f"/sync/{tenant.id}"
    _warm(http, base, eng.headers)
    r = http.post(
        "/api/v1/me/password",
        headers=eng.headers,
        json={"current_password": eng.password, "new_password": "a whole new passphrase 7"},
    )
    assert r.status_code == 200, r.text
    _refused(http, base, eng.headers)
    _refused(http, base, _basic(eng.email, STRONG_PASSWORD))
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert http.get(f"{base}/clients", headers=fresh).status_code == 200


def test_a_cached_token_is_refused_on_another_tenants_sync_url(http, make_tenant):
    a, b = make_tenant(), make_tenant()
    _warm(http, f"/sync/{a.id}", a.headers)
    assert http.get(f"/sync/{b.id}/clients", headers=a.headers).status_code == 403
    r = http.post(f"/sync/{b.id}/clients/_revs_diff", headers=a.headers, json={"x": ["1-abc"]})
    assert r.status_code == 403


def test_cached_claims_expire_with_the_token_and_follow_the_secret(monkeypatch):
    from api.auth import service, tokens

    class Ctx:
        secret = "s" * 40
        access_token_cache: ClassVar[dict[str, Any]] = {}

    ctx = Ctx()
    token, _ = tokens.make_access_token(
        ctx.secret, user_id="u1", tenant_id="t1", minutes=1, epoch=3, family="f1"
    )
    assert service.cached_principal(ctx, f"Bearer {token}") is None  # never verified yet
    claims = service._access_claims(ctx, token)
    assert claims[:3] == ("t1", "u1", 3) and claims[4] == "f1"
    assert abs(claims[3] - (time.time() + 60)) < 5  # the token's expiry travels with the claims
    assert service._cached_claims(ctx, token) == claims
    ctx.secret = "t" * 40  # a rotated secret: the entry no longer counts
    assert service._cached_claims(ctx, token) is None
    ctx.secret = "s" * 40
    service._access_claims(ctx, token)
    real_time = service.time.time
    monkeypatch.setattr(service.time, "time", lambda: real_time() + 120)
    assert service._cached_claims(ctx, token) is None  # expired: the full check runs again
