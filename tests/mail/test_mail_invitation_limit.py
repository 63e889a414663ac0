"""Invitations e-mailed per team are limited. Before, any team, a freshly registered one
included, could e-mail invitations to as many addresses as it liked, under a brand name and
an inviter name of its choosing, through the operator's mail server: a way to send phishing
with the operator's reputation. Past the limit the invitation is refused with 429 and
Retry-After, before any account is made."""

from __future__ import annotations

from tests.conftest import Tenant, unique_email
from tests.mail.smtp import SmtpServer, env_for, running

SMTP = SmtpServer()
SERVER_ENV = env_for(SMTP, BRANCHLINE_RATE_LIMIT_INVITATION_MAILS_PER_HOUR="3")
smtp = running(SMTP)


def test_a_team_e_mails_a_limited_number_of_invitations_an_hour(http, smtp):
    tenant = Tenant(http, name="Bulk Inviter")
    sent = [unique_email("target") for _ in range(2)]
    for address in sent:
        r = http.post("/api/v1/users/invite", headers=tenant.headers, json={"email": address})
        assert r.status_code == 201, r.text
    invited_id = r.json()["id"]
    r = http.post(f"/api/v1/users/{invited_id}/invite", headers=tenant.headers)  # a resend counts too
    assert r.status_code == 200, r.text
    refused = unique_email("target")
    r = http.post("/api/v1/users/invite", headers=tenant.headers, json={"email": refused})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, r.text
    assert r.json()["error"] == "too_many_requests" and "invitations" in r.json()["reason"], r.text
    emails = [u["email"] for u in http.get("/api/v1/users", headers=tenant.headers).json()["items"]]
    assert refused not in emails  # no account was made
    r = http.post(f"/api/v1/users/{invited_id}/invite", headers=tenant.headers)
    assert r.status_code == 429, r.text
    smtp.wait_for(sent[1], count=2)
    assert smtp.to(refused) == [] and len(smtp.to(sent[1])) == 2
    # Another team has its own allowance.
    other = Tenant(http, name="Other Team")
    r = http.post("/api/v1/users/invite", headers=other.headers, json={"email": unique_email("fine")})
    assert r.status_code == 201, r.text
