"""A forgotten password: the link is e-mailed in the workspace's brand (a real SMTP server),
sets a new password once, ends the other sign-ins, and the answer never tells whether an
address has an account. Requests for one address are limited."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

from tests.conftest import STRONG_PASSWORD, Tenant, unique_email
from tests.mail.smtp import SmtpServer, env_for, running, server_knowing_its_address

SMTP = SmtpServer()
# The per-client-address limit is raised (every test asks from 127.0.0.1); the per-e-mail one is not.
SERVER_ENV = env_for(SMTP, BRANCHLINE_RATE_LIMIT_PASSWORD_RESETS_PER_HOUR="1000")
smtp = running(SMTP)
server = server_knowing_its_address(SERVER_ENV)
NEW_PASSWORD = "a brand new long passphrase 77"


def ask(http, email: str):
    return http.post("/api/v1/auth/forgot-password", json={"email": email})


def test_the_link_sets_a_new_password_once_and_ends_other_sign_ins(http, smtp):
    tenant = Tenant(http, name="Reset Works IT")
    r = http.put(
        "/api/v1/tenant/brand",
        headers=tenant.headers,
        json={"name": "Reset Works", "primary_color": "#7c2d12"},
    )
    assert r.status_code == 200, r.text
    member = tenant.add_user("engineer")
    r = ask(http, member.email.upper())  # the address as typed, any case
    assert r.status_code == 202, r.text
    assert r.json()["emailed"] is True and "valid 1 hour" in r.json()["message"]

    got = smtp.wait_for(member.email)[0]
    assert got.message["Subject"] == "[Reset Works] Reset your password"
    assert got.message["From"].addresses[0].display_name == "Reset Works"
    assert "background:#7c2d12" in got.html()
    link = re.search(r"https?://\S+/reset-password#token=(\S+)", got.text())
    assert link, got.text()
    token = link.group(1)

    r = http.post("/api/v1/auth/password-reset", json={"token": token})
    assert r.status_code == 200 and r.json()["email"] == member.email, r.text
    r = http.post("/api/v1/auth/reset-password", json={"token": token, "password": "short"})
    assert r.status_code == 400 and "short" in r.json()["reason"], r.text  # refused; the link still works
    r = http.post("/api/v1/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["access_token"], r.text

    assert (
        http.post("/api/v1/auth/login", json={"email": member.email, "password": NEW_PASSWORD}).status_code
        == 200
    )
    assert (
        http.post("/api/v1/auth/login", json={"email": member.email, "password": STRONG_PASSWORD}).status_code
        == 401
    )
    # The sign-in made before the reset is over.
    assert http.get("/api/v1/me", headers=member.headers).status_code == 401
    r = http.post("/api/v1/auth/refresh", json={"refresh_token": member.tokens["refresh_token"]})
    assert r.status_code == 401, r.text
    # Used once.
    r = http.post("/api/v1/auth/reset-password", json={"token": token, "password": NEW_PASSWORD + "x"})
    assert r.status_code == 401 and "already used" in r.json()["reason"], r.text
    audit = http.get("/api/v1/audit", headers=tenant.headers, params={"action": "user.password_reset"}).json()
    assert [(a["actor"]["id"], a["details"]) for a in audit["items"]] == [(member.id, {"via": "email_link"})]


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(http, smtp):
    tenant = Tenant(http, name="Quiet IT")
    known = tenant.add_user("engineer")
    gone = tenant.add_user("engineer")
    assert (
        http.patch(f"/api/v1/users/{gone.id}", headers=tenant.headers, json={"active": False}).status_code
        == 200
    )
    invited = unique_email("invited")
    r = http.post("/api/v1/users/invite", headers=tenant.headers, json={"email": invited})
    assert r.status_code == 201
    nobody = unique_email("nobody")
    answers = [ask(http, address) for address in (known.email, nobody, gone.email, invited)]
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1  # byte for byte the same
    smtp.wait_for(known.email)
    assert smtp.to(nobody) == [] and smtp.to(gone.email) == []
    assert len(smtp.to(invited)) == 1  # only its invitation: an invitee accepts that instead


def test_every_link_of_the_hour_works_until_one_is_used_and_an_address_is_asked_for_at_most_3_times_an_hour(
    http, smtp
):
    """Before, each request voided the link before it: anyone knowing the address could spend
    its three requests of the hour so that the mail its owner opened held a dead link."""
    tenant = Tenant(http, name="Limits IT")
    member = tenant.add_user("engineer")
    for _ in range(3):
        assert ask(http, member.email).status_code == 202
    got = smtp.wait_for(member.email, count=3)
    links = [re.search(r"#token=(\S+)", m.text()).group(1) for m in got]
    for token in links:
        r = http.post("/api/v1/auth/password-reset", json={"token": token})
        assert r.status_code == 200 and r.json()["email"] == member.email, r.text
    r = http.post("/api/v1/auth/reset-password", json={"token": links[0], "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    for token in links:  # one was used: all of them are spent
        r = http.post("/api/v1/auth/password-reset", json={"token": token})
        assert r.status_code == 401 and "already used" in r.json()["reason"], r.text
    r = ask(http, member.email)
    assert r.status_code == 429 and r.headers["Retry-After"], r.text
    assert r.json()["error"] == "too_many_requests"
    assert len(smtp.to(member.email)) == 3
    r = ask(http, member.email)
    assert r.status_code == 429 and r.headers["Retry-After"], r.text
    assert r.json()["error"] == "too_many_requests"
    assert len(smtp.to(member.email)) == 3


def test_a_forged_host_never_takes_the_link_elsewhere(http, server, smtp):
    tenant = Tenant(http, name="Host Safe IT")
    member = tenant.add_user("engineer")
    r = http.post(
        "/api/v1/auth/forgot-password", json={"email": member.email}, headers={"Host": "attacker.example"}
    )
    assert r.status_code == 202, r.text
    text = smtp.wait_for(member.email)[0].text()
    assert f"{server.url}/reset-password#token=" in text and "attacker.example" not in text


def test_a_pending_reset_link_does_not_travel_in_the_workspace_archive(http, smtp):
    """Regression: the archive left out password hashes but kept `password_reset`, the hash of
    a link that sets a password and signs in; imported under the same id it would still work."""
    tenant = Tenant(http, name="Archive Reset IT")
    member = tenant.add_user("engineer")
    assert ask(http, member.email).status_code == 202
    token = re.search(r"reset-password#token=(\S+)", smtp.wait_for(member.email)[0].text())
    assert token, "no reset link was e-mailed"
    r = http.get("/api/v1/backups/archive", headers=tenant.headers)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        accounts = [json.loads(x) for x in zf.read("system.ndjson").splitlines() if b'"type":"user"' in x]
    assert {a["email"] for a in accounts} == {tenant.owner_email, member.email}
    assert all("password_reset" not in a for a in accounts), accounts
    secret = token.group(1).rsplit(".", 1)[1]
    assert hashlib.sha256(secret.encode()).hexdigest().encode() not in r.content
