"""A refresh whose answer was lost can be retried: the same successor comes back.

On one bar of signal the answer to `POST /auth/refresh` can be lost after the server rotated
the token; two tabs can also refresh at the same moment. Within a short grace period, and
only while the successor has not been used, presenting the spent token again returns that
same successor (nothing new is minted). Every other reuse still revokes the whole sign-in.
"""

from __future__ import annotations

import threading
import time

import httpx

from tests.conftest import Tenant

GRACE_S = 2.0
SERVER_ENV = {"BRANCHLINE_REFRESH_RETRY_GRACE_SECONDS": str(GRACE_S)}


def _refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/api/v1/auth/refresh", json={"refresh_token": token})


def _works(http: httpx.Client, access: str) -> bool:
    return http.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200


def test_a_retry_within_the_grace_gets_the_same_successor(http):
    first = Tenant(http).tokens["refresh_token"]
    answer = _refresh(http, first).json()  # imagine this answer lost on the way
    retry = _refresh(http, first)
    assert retry.status_code == 200, retry.text
    assert retry.json()["refresh_token"] == answer["refresh_token"]
    assert _works(http, retry.json()["access_token"])
    # The sign-in goes on from that successor as usual.
    later = _refresh(http, retry.json()["refresh_token"])
    assert later.status_code == 200 and _works(http, later.json()["access_token"])


def test_reuse_after_the_successor_was_used_revokes_the_sign_in(http):
    first = Tenant(http).tokens["refresh_token"]
    second = _refresh(http, first).json()["refresh_token"]
    third = _refresh(http, second).json()["refresh_token"]
    r = _refresh(http, first)  # within the grace, but its successor was spent: a copy
    assert r.status_code == 401 and r.json()["error"] == "token_reused"
    assert _refresh(http, third).status_code == 401


def test_reuse_after_the_grace_revokes_the_sign_in(http):
    first = Tenant(http).tokens["refresh_token"]
    second = _refresh(http, first).json()["refresh_token"]
    time.sleep(GRACE_S + 0.5)
    r = _refresh(http, first)
    assert r.status_code == 401 and r.json()["error"] == "token_reused"
    assert _refresh(http, second).status_code == 401


def test_two_tabs_refreshing_at_once_both_stay_signed_in(http, server):
    first = Tenant(http).tokens["refresh_token"]
    results: list[httpx.Response] = []
    start = threading.Barrier(4)

    def tab() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            start.wait()
            results.append(_refresh(c, first))

    threads = [threading.Thread(target=tab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200] * 4, [r.text for r in results]
    assert len({r.json()["refresh_token"] for r in results}) == 1
    assert all(_works(http, r.json()["access_token"]) for r in results)
    assert _refresh(http, results[0].json()["refresh_token"]).status_code == 200


def test_a_retry_from_another_address_is_a_reuse(http):
    """The grace is for the client that spent the token; a copy replayed from elsewhere
    (the test server trusts X-Forwarded-For from loopback, as behind a proxy) revokes."""
    first = Tenant(http).tokens["refresh_token"]
    second = _refresh(http, first).json()["refresh_token"]
    r = http.post(
        "/api/v1/auth/refresh", json={"refresh_token": first}, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert r.status_code == 401 and r.json()["error"] == "token_reused"
    assert _refresh(http, second).status_code == 401


def test_no_retry_after_the_sign_in_was_ended(http):
    """Within the grace, a retry still answers to logout, deactivation and password change."""
    tenant = Tenant(http)
    # Signed out: the whole sign-in (its family) is revoked.
    member = tenant.add_user("engineer")
    spent = member.tokens["refresh_token"]
    successor = _refresh(http, spent).json()["refresh_token"]
    assert http.post("/api/v1/auth/logout", json={"refresh_token": successor}).status_code == 204
    r = _refresh(http, spent)
    assert r.status_code == 401 and r.json()["error"] == "token_revoked"
    # Deactivated by an admin.
    member = tenant.add_user("engineer")
    spent = member.tokens["refresh_token"]
    _refresh(http, spent)
    assert (
        http.patch(f"/api/v1/users/{member.id}", headers=tenant.headers, json={"active": False}).status_code
        == 200
    )
    r = _refresh(http, spent)
    assert r.status_code == 401 and r.json()["error"] == "token_revoked"
    # Password changed (every other sign-in ends).
    member = tenant.add_user("engineer")
    spent = member.tokens["refresh_token"]
    access = _refresh(http, spent).json()["access_token"]
    r = http.post(
        "/api/v1/me/password",
        headers={"Authorization": f"Bearer {access}"},
        json={"current_password": member.password, "new_password": member.password + "-new!"},
    )
    assert r.status_code == 200, r.text
    r = _refresh(http, spent)
    assert r.status_code == 401 and r.json()["error"] == "token_revoked"
