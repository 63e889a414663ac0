"""Invitations (issue 14): what a link is for before accepting it, how a pending invitation is
listed, resent and cancelled, and why it can never be "reactivated" into an account without a
password. Against a real server; each test registers its own tenant."""

from __future__ import annotations

from tests.auth.test_auth import assert_error
from tests.conftest import STRONG_PASSWORD, Tenant, unique_email


def invite(http, tenant: Tenant, email: str, role: str = "engineer") -> dict:
    r = http.post("/api/v1/users/invite", headers=tenant.headers, json={"email": email, "role": role})
    assert r.status_code == 201, r.text
    return r.json()


def member(http, tenant: Tenant, user_id: str) -> dict:
    r = http.get(f"/api/v1/users/{user_id}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_link_names_its_team_and_address_until_it_is_used(http):
    tenant = Tenant(http, name="Northwind IT")
    email = unique_email("invitee")
    sent = invite(http, tenant, email, role="author")
    r = http.post("/api/v1/auth/invitation", json={"token": sent["invite_token"]})
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["email"] == email and info["role"] == "author"
    assert info["tenant"] == {"id": tenant.id, "name": "Northwind IT"}
    assert info["expires_at"] == sent["invite_expires_at"]
    assert_error(http.post("/api/v1/auth/invitation", json={"token": "inv.nope"}), 400, "bad_request")
    r = http.post(
        "/api/v1/auth/accept-invite", json={"token": sent["invite_token"], "password": STRONG_PASSWORD}
    )
    assert r.status_code == 200, r.text
    body = assert_error(http.post("/api/v1/auth/invitation", json={"token": sent["invite_token"]}), 401)
    assert "already used" in body["reason"]


def test_a_pending_invitation_is_listed_as_invited_and_cannot_be_reactivated(http):
    tenant = Tenant(http)
    email = unique_email("pending")
    sent = invite(http, tenant, email)
    user = next(
        u for u in http.get("/api/v1/users", headers=tenant.headers).json()["items"] if u["email"] == email
    )
    assert user["status"] == "invited" and user["active"] is False
    assert user["invite"]["expires_at"] == sent["invite_expires_at"]

    body = assert_error(
        http.patch(f"/api/v1/users/{user['id']}", headers=tenant.headers, json={"active": True}),
        409,
        "conflict",
    )
    assert (
        "has not accepted the invitation" in body["reason"]
        and f"/api/v1/users/{user['id']}/invite" in body["reason"]
    )
    assert member(http, tenant, user["id"])["status"] == "invited"

    # Cancelled: the link stops working, and reactivating is still refused.
    r = http.delete(f"/api/v1/users/{user['id']}/invite", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["status"] == "invite_cancelled", r.text
    assert_error(
        http.post(
            "/api/v1/auth/accept-invite", json={"token": sent["invite_token"], "password": STRONG_PASSWORD}
        ),
        401,
    )
    assert_error(
        http.patch(f"/api/v1/users/{user['id']}", headers=tenant.headers, json={"active": True}), 409
    )
    assert_error(http.delete(f"/api/v1/users/{user['id']}/invite", headers=tenant.headers), 409)

    # Resent: a fresh link works; then the account is an ordinary one.
    r = http.post(f"/api/v1/users/{user['id']}/invite", headers=tenant.headers)
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["status"] == "invited" and again["invite_url"].endswith(again["invite_token"])
    r = http.post(
        "/api/v1/auth/accept-invite", json={"token": again["invite_token"], "password": STRONG_PASSWORD}
    )
    assert r.status_code == 200, r.text
    assert member(http, tenant, user["id"])["status"] == "active"
    assert_error(http.post(f"/api/v1/users/{user['id']}/invite", headers=tenant.headers), 409, "conflict")
    r = http.patch(f"/api/v1/users/{user['id']}", headers=tenant.headers, json={"active": False})
    assert r.json()["status"] == "deactivated"
    r = http.patch(f"/api/v1/users/{user['id']}", headers=tenant.headers, json={"active": True})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text


def test_invitations_of_another_tenant_are_out_of_reach(http):
    one, two = Tenant(http), Tenant(http)
    sent = invite(http, one, unique_email("theirs"))
    assert_error(http.post(f"/api/v1/users/{sent['id']}/invite", headers=two.headers), 404)
    assert_error(http.delete(f"/api/v1/users/{sent['id']}/invite", headers=two.headers), 404)
