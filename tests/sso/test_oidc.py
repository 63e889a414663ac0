"""Sign-in through a real OpenID Connect provider (issue 19, point 1): the happy path with
PKCE and just-in-time accounts, and every forged, expired, replayed or misdirected answer
refused, each refusal in the team's audit log with its reason."""

from __future__ import annotations

import base64
import hashlib
import time

import flask
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import STRONG_PASSWORD
from tests.sso.conftest import SERVER_ENV as SSO_SERVER_ENV, SsoTeam, exchange
from tests.sso.idp import TestIdP, other_key, query

SERVER_ENV = SSO_SERVER_ENV


def me(http: httpx.Client, tokens: dict) -> dict:
    r = http.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_first_sign_in_creates_the_account_with_the_default_role_through_pkce(http, team, idp):
    seen: dict[str, str] = {}

    def record_verifier(response):
        if flask.request.path == "/oauth2/token":
            seen["verifier"] = flask.request.form.get("code_verifier", "")
        return response

    idp.app.after_request_funcs.setdefault(None, []).insert(0, record_verifier)
    try:
        with httpx.Client(base_url=str(http.base_url)) as browser:
            start = browser.get(f"/api/v1/auth/sso/{team.slug}/start")
            asked = query(start.headers["location"])
            sub, email = team.new_idp_user(name="Sam Field")
            done = browser.get(idp.approve(start.headers["location"], sub))
            binding = browser.cookies.get("bl_sso")
    finally:
        idp.app.after_request_funcs[None].remove(record_verifier)
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    digest = hashlib.sha256(seen["verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == asked["code_challenge"]
    assert "bl_sso" in start.headers["set-cookie"] and "httponly" in start.headers["set-cookie"].lower()

    location = done.headers["location"]
    assert location.startswith("/sso/complete#code="), location
    assert "?" not in location  # the code travels in the fragment, which no server logs
    code = location.split("#code=")[1].split("&")[0]
    tokens = exchange(http, code, binding).json()
    who = me(http, tokens)
    assert who["user"]["email"] == email and who["role"] == "engineer"
    assert who["user"]["display_name"] == "Sam Field"
    assert who["tenant"]["id"] == team.tenant.id
    assert exchange(http, code, binding).status_code == 401  # the code works once

    created = team.audit("user.created")
    assert created[0]["details"] == {"email": email, "role": "engineer", "via": "sso"}
    signed = team.audit("auth.sso_signed_in")
    assert signed[0]["actor"]["email"] == email and signed[0]["details"]["issuer"] == idp.url


def test_an_existing_member_is_matched_by_e_mail_and_keeps_the_role(team):
    author = team.tenant.add_user("author", team.email("author"))
    sub, _ = team.new_idp_user(author.email)
    path, frag = team.sign_in(sub)
    assert path == "/sso/complete"
    tokens = team.exchange(frag["code"]).json()
    assert me(team.http, tokens)["user"]["id"] == author.id and me(team.http, tokens)["role"] == "author"
    assert [e for e in team.audit("user.created") if e["details"].get("via") == "sso"] == []


def _refused(team, sub: str) -> tuple[str, str]:
    path, frag = team.sign_in(sub)
    assert path == "/signin", (path, frag)
    return frag["sso_error"], team.audit("auth.sso_failed")[0]["details"]["reason"]


def _set_claims(**changes):
    return lambda header, claims: (header, {**claims, **changes}, None)


FORGERIES = {
    "forged signature": (
        lambda header, claims: (header, claims, other_key()),
        "bad_signature",
        "signature",
    ),
    "expired": (
        _set_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "expired",
        "expired",
    ),
    "not yet valid": (
        _set_claims(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
        "not_yet_valid",
        "future",
    ),
    "wrong audience": (_set_claims(aud="some-other-app"), "wrong_audience", "another application"),
    "wrong issuer": (
        _set_claims(iss="https://evil.example.com"),
        "wrong_issuer",
        "another identity provider",
    ),
    "bad nonce": (_set_claims(nonce="a-nonce-of-another-sign-in"), "bad_nonce", "nonce"),
    # The kid names the IdP's RSA key, which cannot verify an EC signature (this was a 500).
    "ES256 naming the IdP's RSA key": (
        lambda header, claims: ({**header, "alg": "ES256"}, claims, ec.generate_private_key(ec.SECP256R1())),
        "bad_signature",
        "signature",
    ),
    "unknown kid": (
        lambda header, claims: ({**header, "kid": "not-published"}, claims, other_key()),
        "unknown_key",
        "key",
    ),
    "HMAC with the client secret": (
        lambda header, claims: ({**header, "alg": "HS256"}, claims, "s3cret-guessed"),
        "bad_algorithm",
        "not accepted",
    ),
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_a_tampered_id_token_is_refused(team, idp, case):
    tamper, reason, words = FORGERIES[case]
    sub, email = team.new_idp_user()
    idp.tamper = tamper
    message, logged = _refused(team, sub)
    assert logged == reason
    assert words in message, message
    idp.tamper = None
    assert team.http.post("/api/v1/auth/login", json={"email": email, "password": "x"}).status_code == 401
    assert team.audit("user.created") == []  # no account was made from the refused token


def test_a_callback_replayed_or_opened_in_another_browser_is_refused(team, idp):
    sub, _ = team.new_idp_user()
    with httpx.Client(base_url=str(team.http.base_url)) as browser:
        start = browser.get(f"/api/v1/auth/sso/{team.slug}/start")
        back = idp.approve(start.headers["location"], sub)
        with httpx.Client(base_url=str(team.http.base_url)) as attacker:
            stolen = attacker.get(back)  # no binding cookie: not the browser that started it
        assert "another%20browser" in stolen.headers["location"]
    assert team.audit("auth.sso_failed")[0]["details"]["reason"] == "bad_state"

    with httpx.Client(base_url=str(team.http.base_url)) as browser:
        start = browser.get(f"/api/v1/auth/sso/{team.slug}/start")
        back = idp.approve(start.headers["location"], sub)
        first = browser.get(back)
        assert first.headers["location"].startswith("/sso/complete#code=")
        browser.cookies.set("bl_sso", start.cookies["bl_sso"], path="/api/v1/auth/sso/")
        again = browser.get(back)
        assert again.headers["location"].startswith("/signin#sso_error=")
        forged_state = browser.get(back.replace("state=", "state=x"))
        assert forged_state.headers["location"].startswith("/signin#sso_error=")
    reasons = [e["details"]["reason"] for e in team.audit("auth.sso_failed")]
    assert reasons[:2] == ["bad_state", "bad_state"]


def test_a_rotated_signing_key_is_fetched_and_accepted_at_a_bounded_rate(http):
    # An IdP of its own: the server's key cache is per issuer, untouched by the other tests.
    own = TestIdP().start()
    try:
        team = SsoTeam(http, own)
        sub, _ = team.new_idp_user()
        assert team.sign_in(sub)[0] == "/sso/complete"  # the server now holds the first key
        before = own.kids()
        own.rotate()
        assert own.kids() != before
        path, frag = team.sign_in(sub)
        assert path == "/sso/complete", frag
        assert team.exchange(frag["code"]).status_code == 200
        # A second rotation right away is not fetched: unknown keys refetch at most once per
        # interval, so forged tokens cannot make the server hammer the IdP.
        own.rotate()
        path, frag = team.sign_in(sub)
        assert path == "/signin" and team.audit("auth.sso_failed")[0]["details"]["reason"] == "bad_signature"
    finally:
        own.stop()


def test_a_domain_not_allowed_an_unverified_e_mail_and_a_deactivated_member_are_refused(team):
    sub, _ = team.new_idp_user("someone@gmail.com")
    message, reason = _refused(team, sub)
    assert reason == "domain_not_allowed" and "Ask an admin to invite you" in message

    sub, _ = team.new_idp_user(verified=False)
    message, reason = _refused(team, sub)
    assert reason == "email_not_verified" and "verified" in message

    member = team.tenant.add_user("engineer", team.email("gone"))
    r = team.http.patch(f"/api/v1/users/{member.id}", json={"active": False}, headers=team.tenant.headers)
    assert r.status_code == 200, r.text
    sub, _ = team.new_idp_user(member.email)
    message, reason = _refused(team, sub)
    assert reason == "deactivated" and "deactivated" in message


def test_require_sso_refuses_passwords_except_for_break_glass_owners(team):
    engineer = team.tenant.add_user("engineer", team.email("eng"))
    r = team.configure(require_sso=True)
    assert r.status_code == 400 and "break-glass" in r.json()["reason"]
    r = team.configure(require_sso=True, break_glass_emails=[engineer.email])
    assert r.status_code == 400 and "owner" in r.json()["reason"]
    assert team.configure(require_sso=True, break_glass_emails=[team.tenant.owner_email]).status_code == 200

    r = team.http.post("/api/v1/auth/login", json={"email": engineer.email, "password": STRONG_PASSWORD})
    assert r.status_code == 403
    assert r.json()["error"] == "sso_required" and team.slug in r.json()["reason"]
    r = team.http.post(
        "/api/v1/auth/login", json={"email": team.tenant.owner_email, "password": STRONG_PASSWORD}
    )
    assert r.status_code == 200, r.text
    # A wrong password is still just a wrong password: the refusal tells nothing about SSO.
    r = team.http.post("/api/v1/auth/login", json={"email": engineer.email, "password": "wrong " * 3})
    assert r.status_code == 401
    sub, _ = team.new_idp_user(engineer.email)
    assert team.sign_in(sub)[0] == "/sso/complete"


def test_settings_hide_the_secret_and_belong_to_one_team(http, make_team):
    a = make_team()
    shown = http.get("/api/v1/tenant/sso", headers=a.tenant.headers).json()["sso"]
    assert shown["oidc"]["client_secret_set"] is True and "client_secret" not in shown["oidc"]
    assert shown["redirect_uri"].endswith(f"/api/v1/auth/sso/{a.slug}/callback")
    assert a.configure(oidc={"issuer": a.idp.url, "client_id": a.client_id}).status_code == 200  # secret kept
    changed = a.audit("sso.settings_changed")
    assert changed[0]["details"]["changed"] == [] and "client_secret" in changed[1]["details"]["changed"]

    b = make_team()
    taken = b.configure(slug=a.slug)
    assert taken.status_code == 409 and "another team" in taken.json()["reason"]
    assert b.configure(allowed_domains=[a.domain]).status_code == 409
    engineer = a.tenant.add_user("engineer")
    r = http.put("/api/v1/tenant/sso", json=a.settings, headers=engineer.headers)
    assert r.status_code == 403

    # B's IdP user with A's domain signs in to B only as B allows; A's slug leads to A.
    sub, email = b.new_idp_user(a.email())
    path, _ = b.sign_in(sub)
    assert path == "/signin" and "domain_not_allowed" == b.audit("auth.sso_failed")[0]["details"]["reason"]
    assert http.get("/api/v1/auth/sso/lookup", params={"q": email}).json()["slug"] == a.slug
    assert http.get("/api/v1/auth/sso/lookup", params={"q": b.slug}).json()["slug"] == b.slug
    assert http.get("/api/v1/auth/sso/lookup", params={"q": "nobody-here"}).status_code == 404


def test_sign_out_revokes_the_refresh_token_and_names_the_idp_logout(team, idp):
    sub, _ = team.new_idp_user()
    tokens = team.exchange(team.sign_in(sub)[1]["code"]).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    url = team.http.get("/api/v1/auth/sso/logout-url", headers=auth).json()["url"]
    assert url.startswith(idp.url + "/oauth2/end_session?") and f"client_id={team.client_id}" in url
    assert (
        team.http.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code
        == 204
    )
    r = team.http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
