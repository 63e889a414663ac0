"""Sign-up, sign-in, token rotation and revocation, against a real server."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import STRONG_PASSWORD, unique_email

# Low thresholds so throttling is reachable in a few requests.
SERVER_ENV = {
    "BRANCHLINE_LOGIN_MAX_FAILURES_PER_ACCOUNT": "3",
    "BRANCHLINE_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
    "BRANCHLINE_LOGIN_LOCKOUT_SECONDS": "30",
}


def assert_error(r: httpx.Response, status: int, error: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "reason"} and isinstance(body["reason"], str) and body["reason"]
    if error:
        assert body["error"] == error, body
    return body


def test_register_returns_tokens_and_me_describes_the_sync_databases(http, server):
    email = unique_email()
    r = http.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": "Northwind IT",
            "email": email,
            "password": STRONG_PASSWORD,
            "display_name": "Nadia",
            "starter_library": False,
        },
    )
    assert r.status_code == 201, r.text
    tokens = r.json()
    assert tokens["token_type"] == "bearer" and 60 <= tokens["expires_in"] <= 3600
    me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert me["role"] == "owner" and me["tenant"]["name"] == "Northwind IT"
    assert me["user"]["email"] == email and me["user"]["display_name"] == "Nadia"
    root = me["sync"]["root"]
    assert root == f"{server.url}/sync/{me['tenant']['id']}/"
    assert me["sync"]["databases"] == {n: root + n for n in ("clients", "sessions", "trees")}


def test_register_refuses_a_weak_password_and_leaves_nothing_behind(http):
    email = unique_email()
    r = http.post("/api/v1/auth/register", json={"tenant_name": "X", "email": email, "password": "short"})
    body = assert_error(r, 400, "weak_password")
    assert "at least 10" in body["reason"]
    # The address is still free: nothing half-written was kept.
    r = http.post(
        "/api/v1/auth/register", json={"tenant_name": "X", "email": email, "password": STRONG_PASSWORD}
    )
    assert r.status_code == 201


def test_an_email_belongs_to_one_user(http, tenant):
    r = http.post(
        "/api/v1/auth/register",
        json={"tenant_name": "Y", "email": tenant.owner_email.upper(), "password": STRONG_PASSWORD},
    )
    assert_error(r, 409, "conflict")


def test_bad_json_and_missing_fields_get_a_clear_400(http):
    r = http.post("/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(r, 400, "bad_request")
    r = http.post("/api/v1/auth/login", json={"email": "a@b.c"})
    body = assert_error(r, 400, "bad_request")
    assert "password" in body["reason"]


def test_login_wrong_password_is_401_and_unknown_route_is_json_404(http, tenant):
    r = http.post("/api/v1/auth/login", json={"email": tenant.owner_email, "password": "wrong password!!"})
    assert_error(r, 401, "unauthorized")
    assert_error(http.get("/api/v1/nope"), 404, "not_found")


def test_refresh_rotates_and_reuse_revokes_the_whole_family(http, tenant):
    first = tenant.tokens["refresh_token"]
    r = http.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first
    assert (
        http.get("/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}).status_code
        == 200
    )
    r = http.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 200, r.text
    third = r.json()
    # Presenting a used token whose successor was used too (no lost answer explains that):
    # refused, and the newest token of that sign-in dies as well.
    assert_error(http.post("/api/v1/auth/refresh", json={"refresh_token": first}), 401, "token_reused")
    assert_error(http.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]}), 401)
    # Another sign-in of the same user is unaffected.
    r = http.post("/api/v1/auth/login", json={"email": tenant.owner_email, "password": STRONG_PASSWORD})
    assert (
        http.post("/api/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]}).status_code
        == 200
    )


def test_logout_ends_the_refresh_token(http, tenant):
    rt = tenant.tokens["refresh_token"]
    r = http.post("/api/v1/auth/logout", json={"refresh_token": rt})
    assert r.status_code == 204 and r.content == b""
    assert_error(http.post("/api/v1/auth/refresh", json={"refresh_token": rt}), 401)
    assert_error(http.post("/api/v1/auth/refresh", json={"refresh_token": "garbage"}), 401)


def test_deactivated_user_is_locked_out_at_once(http, tenant):
    eng = tenant.add_user("engineer")
    assert http.get("/api/v1/me", headers=eng.headers).status_code == 200
    r = http.patch(f"/api/v1/users/{eng.id}", headers=tenant.headers, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    # The access token issued before is refused now, not when it expires.
    assert_error(http.get("/api/v1/me", headers=eng.headers), 401)
    assert_error(http.post("/api/v1/auth/refresh", json={"refresh_token": eng.tokens["refresh_token"]}), 401)
    r = http.post("/api/v1/auth/login", json={"email": eng.email, "password": eng.password})
    assert_error(r, 403)
    # Reactivated: they can sign in again.
    http.patch(f"/api/v1/users/{eng.id}", headers=tenant.headers, json={"active": True})
    assert (
        http.post("/api/v1/auth/login", json={"email": eng.email, "password": eng.password}).status_code
        == 200
    )


def test_a_tenant_always_keeps_an_owner(http, tenant):
    me = tenant.me["user"]["id"]
    body = assert_error(
        http.patch(f"/api/v1/users/{me}", headers=tenant.headers, json={"role": "admin"}), 409
    )
    assert "owner" in body["reason"]
    assert_error(http.patch(f"/api/v1/users/{me}", headers=tenant.headers, json={"active": False}), 409)
    second = tenant.add_user("owner")
    r = http.patch(f"/api/v1/users/{me}", headers=tenant.headers, json={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin"
    # The demoted admin may no longer touch the remaining owner.
    r = http.post("/api/v1/auth/login", json={"email": tenant.owner_email, "password": STRONG_PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert_error(http.patch(f"/api/v1/users/{second.id}", headers=headers, json={"active": False}), 403)


def test_failed_logins_are_throttled_with_retry_after(http, tenant):
    for _ in range(3):
        r = http.post(
            "/api/v1/auth/login", json={"email": tenant.owner_email, "password": "not the password"}
        )
        assert r.status_code == 401
    # Even the right password is refused while the account is locked.
    r = http.post("/api/v1/auth/login", json={"email": tenant.owner_email, "password": STRONG_PASSWORD})
    assert_error(r, 429, "too_many_requests")
    assert 1 <= int(r.headers["Retry-After"]) <= 30
    # Other accounts are not affected.
    other = tenant.add_user("engineer")
    assert (
        http.post("/api/v1/auth/login", json={"email": other.email, "password": other.password}).status_code
        == 200
    )


def test_password_change_ends_other_sign_ins(http, tenant):
    eng = tenant.add_user("engineer")
    r = http.post(
        "/api/v1/me/password",
        headers=eng.headers,
        json={"current_password": eng.password, "new_password": "a whole new passphrase 7"},
    )
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert_error(http.get("/api/v1/me", headers=eng.headers), 401)
    assert (
        http.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code
        == 200
    )
    assert_error(http.post("/api/v1/auth/login", json={"email": eng.email, "password": eng.password}), 401)


def test_roles_are_enforced(http, tenant):
    for role in ("author", "engineer", "viewer"):
        member = tenant.add_user(role)
        assert_error(http.get("/api/v1/users", headers=member.headers), 403, "forbidden")
        assert_error(http.post("/api/v1/api-keys", headers=member.headers, json={"name": "k"}), 403)
    admin = tenant.add_user("admin")
    assert http.get("/api/v1/users", headers=admin.headers).status_code == 200
    # An admin cannot mint an owner.
    r = http.post("/api/v1/users", headers=admin.headers, json={"email": unique_email(), "role": "owner"})
    assert_error(r, 403)


def test_created_user_without_password_gets_one_shown_once(http, tenant):
    email = unique_email()
    r = http.post("/api/v1/users", headers=tenant.headers, json={"email": email, "role": "engineer"})
    assert r.status_code == 201
    pw = r.json()["initial_password"]
    assert http.post("/api/v1/auth/login", json={"email": email, "password": pw}).status_code == 200
    listed = http.get("/api/v1/users", headers=tenant.headers).json()["items"]
    assert all("initial_password" not in u and "password_hash" not in u for u in listed)


def test_user_list_pages_with_a_cursor(http, tenant):
    for _ in range(3):
        tenant.add_user("viewer")
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = http.get("/api/v1/users", headers=tenant.headers, params=params).json()
        assert len(page["items"]) <= 2
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 4
    assert_error(http.get("/api/v1/users", headers=tenant.headers, params={"limit": 500}), 400)
    assert_error(http.get("/api/v1/users", headers=tenant.headers, params={"cursor": "%%%"}), 400)


def test_api_keys_work_as_bearer_and_basic_and_stop_when_revoked(http, tenant):
    r = http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": "ConnectWise", "role": "viewer"})
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith("bl_")
    listed = http.get("/api/v1/api-keys", headers=tenant.headers).json()["items"]
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]
    bearer = {"Authorization": f"Bearer {key}"}
    basic = {"Authorization": "Basic " + base64.b64encode(f"apikey:{key}".encode()).decode()}
    for headers in (bearer, basic):
        me = http.get("/api/v1/me", headers=headers)
        assert me.status_code == 200 and me.json()["role"] == "viewer"
    # The key acts with its role: a viewer key cannot manage users.
    assert_error(http.get("/api/v1/users", headers=bearer), 403)
    assert http.delete(f"/api/v1/api-keys/{created['id']}", headers=tenant.headers).json()["revoked"] is True
    assert_error(http.get("/api/v1/me", headers=bearer), 401)
    assert_error(http.get("/api/v1/me", headers={"Authorization": f"Bearer {key[:-2]}xx"}), 401)


def test_expired_or_forged_access_tokens_are_refused(http, tenant):
    import jwt

    claims = jwt.decode(tenant.tokens["access_token"], options={"verify_signature": False})
    forged = jwt.encode(
        {**claims, "exp": claims["exp"] + 3600}, "not-the-server-secret" * 3, algorithm="HS256"
    )
    assert_error(http.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}), 401)
    assert_error(http.get("/api/v1/me"), 401)
    assert_error(http.get("/api/v1/me", headers={"Authorization": "Token abc"}), 401)


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/healthz"])
def test_public_pages_answer(http, path):
    assert http.get(path).status_code == 200


def test_invited_user_sets_their_own_password(http, tenant, server):
    email = unique_email("invitee")
    r = http.post("/api/v1/users/invite", headers=tenant.headers, json={"email": email, "role": "author"})
    assert r.status_code == 201, r.text
    invite = r.json()
    assert invite["active"] is False and invite["invite_url"].startswith(server.url + "/accept-invite#token=")
    # Until accepted, the account cannot be used.
    assert_error(http.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD}), 401)
    r = http.post("/api/v1/auth/accept-invite", json={"token": invite["invite_token"], "password": "short"})
    assert_error(r, 400, "weak_password")
    r = http.post(
        "/api/v1/auth/accept-invite",
        json={"token": invite["invite_token"], "password": STRONG_PASSWORD, "display_name": "Ines Invitee"},
    )
    assert r.status_code == 200, r.text
    me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert me["role"] == "author" and me["user"]["display_name"] == "Ines Invitee"
    # The link works once.
    assert_error(
        http.post(
            "/api/v1/auth/accept-invite", json={"token": invite["invite_token"], "password": STRONG_PASSWORD}
        ),
        401,
    )
    assert (
        http.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD}).status_code == 200
    )


def test_every_member_can_read_the_name_directory_and_nothing_more(http, tenant):
    eng, viewer = tenant.add_user("engineer"), tenant.add_user("viewer")
    r = http.get("/api/v1/users/directory", headers=viewer.headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert {i["id"] for i in items} == {tenant.me["user"]["id"], eng.id, viewer.id}
    assert all(set(i) == {"id", "display_name"} for i in items)  # no e-mails, roles or status
