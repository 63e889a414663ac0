"""Signing out ends the sign-in's access token at once, on the API and the sync endpoints,
not up to its expiry later; the user's other sign-ins go on."""

from __future__ import annotations

from tests.conftest import STRONG_PASSWORD


def test_logout_refuses_the_access_token_of_that_sign_in_at_once(http, tenant):
    other = http.post(
        "/api/v1/auth/login", json={"email": tenant.owner_email, "password": STRONG_PASSWORD}
    ).json()
    phone = {"Authorization": f"Bearer {tenant.tokens['access_token']}"}
    laptop = {"Authorization": f"Bearer {other['access_token']}"}
    # Used first, so the server remembers the verified token (its fast path is checked too).
    assert http.get("/api/v1/me", headers=phone).status_code == 200
    assert http.get(f"/sync/{tenant.id}/trees", headers=phone).status_code == 200

    assert (
        http.post("/api/v1/auth/logout", json={"refresh_token": tenant.tokens["refresh_token"]}).status_code
        == 204
    )

    for r in (
        http.get("/api/v1/me", headers=phone),
        http.get(f"/sync/{tenant.id}/trees", headers=phone),
        http.get(f"/sync/{tenant.id}/trees/_all_docs", headers=phone),
    ):
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "token_revoked" and "sign in again" in r.json()["reason"]
    # The laptop's sign-in is another one: it goes on, and refreshes as before.
    assert http.get("/api/v1/me", headers=laptop).status_code == 200
    refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refreshed.status_code == 200
    assert (
        http.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        ).status_code
        == 200
    )


def test_reusing_a_spent_refresh_token_also_ends_its_access_tokens(http, tenant):
    first = tenant.tokens
    second = http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert http.get("/api/v1/me", headers=headers).status_code == 200
    # A copy of the spent token, replayed from elsewhere: the whole sign-in is revoked.
    r = http.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": first["refresh_token"]},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert r.status_code == 401
    assert http.get("/api/v1/me", headers=headers).status_code == 401
