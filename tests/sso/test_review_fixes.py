"""Security review of single sign-on: who may change it, the client secret's binding to its
IdP, the one-time code's binding to the browser, invitations, and the IdP edge cases."""

from __future__ import annotations

from tests.sso.conftest import SERVER_ENV as SSO_SERVER_ENV

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
