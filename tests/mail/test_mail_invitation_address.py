"""An address a message cannot be sent to is refused when the account is made, with what to
fix. Before, anything with an '@' was taken: an address pasted from a mail program
(`Pat Smith <pat@example.com>`) or two at once made an account nobody could e-mail, and the
invitation's answer blamed 'a server error, logged for the operator'."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant, unique_email
from tests.mail.smtp import SmtpServer, env_for, running

SMTP = SmtpServer()
SERVER_ENV = env_for(SMTP)
smtp = running(SMTP)


@pytest.mark.parametrize(
    "typed",
    ["Pat Smith <{a}>", "{a}, sam@example.com", "pat smith@example.com", "{a}>"],
)
def test_an_address_mail_cannot_go_to_is_refused_and_no_account_is_made(http, smtp, typed):
    tenant = Tenant(http, name="Address IT")
    address = unique_email("pat")
    r = http.post("/api/v1/users/invite", headers=tenant.headers, json={"email": typed.format(a=address)})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "bad_request" and "not an e-mail address" in body["reason"], body
    users = http.get("/api/v1/users", headers=tenant.headers).json()["items"]
    assert [u["email"] for u in users] == [tenant.owner_email]
    # The address itself, typed alone, is invited and e-mailed.
    r = http.post("/api/v1/users/invite", headers=tenant.headers, json={"email": address})
    assert r.status_code == 201 and r.json()["mail"]["queued"], r.text
    smtp.wait_for(address)
