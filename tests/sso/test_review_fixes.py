"""Security review of single sign-on: who may change it, the client secret's binding to its
IdP, the one-time code's binding to the browser, invitations, and the IdP edge cases."""

from __future__ import annotations

import flask
import httpx

from tests.conftest import STRONG_PASSWORD
from tests.sso.conftest import SERVER_ENV as SSO_SERVER_ENV, SsoTeam, exchange
from tests.sso.idp import TestIdP

SERVER_ENV = SSO_SERVER_ENV


def test_only_an_owner_may_change_single_sign_on(team, idp):
    admin = team.tenant.add_user("admin", team.email("admin"))
    # The attack: an admin points SSO at an IdP of their own that asserts the owner's e-mail.
    hijack = {**team.settings, "oidc": {**team.settings["oidc"], "client_id": "mine", "client_secret": "x"}}
    r = team.http.put("/api/v1/tenant/sso", json=hijack, headers=admin.headers)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "forbidden" and "Only an owner" in r.json()["reason"]
    r = team.http.put(
        "/api/v1/tenant/sso",
        json={**team.settings, "require_sso": True, "break_glass_emails": [team.tenant.owner_email]},
        headers=admin.headers,
    )
    assert r.status_code == 403, r.text
    shown = team.http.get("/api/v1/tenant/sso", headers=admin.headers).json()["sso"]
    assert shown["oidc"]["client_id"] == team.client_id and shown["require_sso"] is False
    assert team.configure(default_role="viewer").status_code == 200  # the owner still can


def test_a_new_issuer_or_client_id_needs_its_own_client_secret(team, idp):
    for oidc in (
        {"issuer": idp.url + "/other", "client_id": team.client_id},
        {"issuer": idp.url, "client_id": "another-client"},
    ):
        r = team.configure(oidc=oidc)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "bad_request" and "oidc.client_secret" in r.json()["reason"]
    shown = team.http.get("/api/v1/tenant/sso", headers=team.tenant.headers).json()["sso"]["oidc"]
    assert shown["client_id"] == team.client_id  # nothing was saved
    # Same issuer and client: the secret is kept. A new client with its own secret: saved.
    assert team.configure(oidc={"issuer": idp.url, "client_id": team.client_id}).status_code == 200
    r = team.configure(oidc={"issuer": idp.url, "client_id": "another-client", "client_secret": "new"})
    assert r.status_code == 200, r.text
    assert r.json()["sso"]["oidc"]["client_id"] == "another-client"


def test_a_one_time_code_is_traded_only_in_the_browser_that_signed_in(team, idp):
    # Login CSRF: an attacker signs in with their own IdP account, stops before the exchange
    # and plants the code in a victim's browser, which would then work in the attacker's account.
    sub, _ = team.new_idp_user()
    base = str(team.http.base_url)
    for other in (None, "another-browsers-cookie"):
        with httpx.Client(base_url=base) as attacker:
            path, frag = team.sign_in(sub, browser=attacker)
            assert path == "/sso/complete", frag
            # The binding cookie is kept until the exchange, for no longer than the code lives.
            assert attacker.cookies.get("bl_sso")
        r = exchange(team.http, frag["code"], other)
        assert r.status_code == 401, r.text
        assert "another browser" in r.json()["reason"]
    with httpx.Client(base_url=base) as browser:
        path, frag = team.sign_in(sub, browser=browser)
        r = browser.post("/api/v1/auth/sso/exchange", json={"code": frag["code"]})
        assert r.status_code == 200, r.text
        assert "access_token" in r.json()
        assert browser.cookies.get("bl_sso") is None  # cleared once used


def _invite(team, email: str, role: str = "author") -> dict:
    r = team.http.post(
        "/api/v1/users/invite",
        json={"email": email, "role": role, "display_name": "Invited"},
        headers=team.tenant.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_an_invited_member_signing_in_with_sso_accepts_the_invitation(team):
    email = team.email("invited")
    invited = _invite(team, email, role="author")
    sub, _ = team.new_idp_user(email)
    path, frag = team.sign_in(sub)
    assert path == "/sso/complete", frag
    tokens = team.exchange(frag["code"]).json()
    me = team.http.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert me["user"]["id"] == invited["id"] and me["role"] == "author"
    listed = team.http.get(f"/api/v1/users/{invited['id']}", headers=team.tenant.headers).json()
    assert listed["status"] == "active"
    # The invitation link is used up: accepting it now is refused.
    r = team.http.post(
        "/api/v1/auth/accept-invite", json={"token": invited["invite_token"], "password": "x" * 20}
    )
    assert r.status_code == 401, r.text
    assert team.audit("user.invite_accepted")[0]["details"]["via"] == "sso"


def test_a_cancelled_invitation_still_refuses_the_sso_sign_in(team):
    email = team.email("cancelled")
    invited = _invite(team, email)
    r = team.http.delete(f"/api/v1/users/{invited['id']}/invite", headers=team.tenant.headers)
    assert r.status_code == 200, r.text
    sub, _ = team.new_idp_user(email)
    path, frag = team.sign_in(sub)
    assert path == "/signin" and "cancelled" in frag["sso_error"], frag
    assert team.audit("auth.sso_failed")[0]["details"]["reason"] == "invite_cancelled"


def test_require_sso_gives_invitees_no_password_session_and_ends_password_sessions(team):
    engineer = team.tenant.add_user("engineer", team.email("eng"))  # signed in with a password
    email = team.email("invited")
    invited = _invite(team, email, role="engineer")
    r = team.configure(require_sso=True, break_glass_emails=[team.tenant.owner_email])
    assert r.status_code == 200, r.text

    # The password session made before require_sso ends; the break-glass owner's stays.
    assert team.http.get("/api/v1/me", headers=engineer.headers).status_code == 401
    assert team.http.get("/api/v1/me", headers=team.tenant.headers).status_code == 200

    r = team.http.post(
        "/api/v1/auth/accept-invite",
        json={"token": invited["invite_token"], "password": STRONG_PASSWORD},
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "sso_required" and "access_token" not in r.json()
    assert "accepted" in r.json()["reason"] and team.slug in r.json()["reason"]
    shown = team.http.get(f"/api/v1/users/{invited['id']}", headers=team.tenant.headers).json()
    assert shown["status"] == "active"
    # The chosen password was not set: it signs nobody in, even once SSO is no longer required.
    assert team.configure(require_sso=False).status_code == 200
    r = team.http.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert r.status_code == 401, r.text
    # The account signs in through the IdP.
    sub, _ = team.new_idp_user(email)
    path, frag = team.sign_in(sub)
    assert path == "/sso/complete" and team.exchange(frag["code"]).status_code == 200


def test_an_idp_whose_issuer_ends_in_a_slash_signs_in(http):
    # Like Auth0: the discovery document and every ID token name "https://tenant.auth0.com/".
    own = TestIdP().start()  # its own issuer, so the server's cache of the shared one is untouched
    slashed = own.url + "/"

    def name_with_slash(response: flask.Response) -> flask.Response:
        if flask.request.path == "/.well-known/openid-configuration":
            response.set_data(flask.json.dumps({**response.get_json(), "issuer": slashed}))
        return response

    own.app.after_request(name_with_slash)
    own.tamper = lambda header, claims: (header, {**claims, "iss": slashed}, None)
    try:
        team = SsoTeam(http, own)
        r = team.configure(oidc={**team.settings["oidc"], "issuer": slashed})
        assert r.status_code == 200, r.text
        assert r.json()["sso"]["oidc"]["issuer"] == slashed  # kept as the IdP writes it
        sub, _ = team.new_idp_user()
        path, frag = team.sign_in(sub)
        assert path == "/sso/complete", frag
        assert team.exchange(frag["code"]).status_code == 200
    finally:
        own.stop()
