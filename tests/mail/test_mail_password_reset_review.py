"""What a reset link does to an account beyond its password, found in review:

- deactivating an account voids its pending link, so reactivating it later does not bring a
  link from before back to life (it did, for the rest of its hour);
- a reset ends the sign-in lockout its owner's wrong passwords caused from that address: the
  lockout's own message sends them to a reset, and before, their new password was still
  refused there until the lockout ran out;
- a link used from several tabs at once sets one password, and the others are told the link
  was used, not that a document revision conflicted.
"""

from __future__ import annotations

import re
import threading

import httpx

from tests.conftest import Tenant
from tests.mail.smtp import SmtpServer, env_for, running, server_knowing_its_address

SMTP = SmtpServer()
SERVER_ENV = env_for(SMTP, BRANCHLINE_RATE_LIMIT_PASSWORD_RESETS_PER_HOUR="1000")
smtp = running(SMTP)
server = server_knowing_its_address(SERVER_ENV)
NEW_PASSWORD = "a brand new long passphrase 77"


def _link(http, smtp, email: str) -> str:
    before = len(smtp.to(email))
    r = http.post("/api/v1/auth/forgot-password", json={"email": email})
    assert r.status_code == 202, r.text
    text = smtp.wait_for(email, count=before + 1)[-1].text()
    found = re.search(r"#token=(\S+)", text)
    assert found, text
    return found.group(1)


def test_a_link_sent_before_a_deactivation_stays_dead_after_reactivation(http, smtp):
    tenant = Tenant(http, name="Deactivated Reset IT")
    member = tenant.add_user("engineer")
    token = _link(http, smtp, member.email)
    for active in (False, True):
        r = http.patch(f"/api/v1/users/{member.id}", headers=tenant.headers, json={"active": active})
        assert r.status_code == 200, r.text
    r = http.post("/api/v1/auth/password-reset", json={"token": token})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized", r.text
    r = http.post("/api/v1/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 401, r.text
    # Their password is the one they had; a new request works as usual.
    assert (
        http.post("/api/v1/auth/password-reset", json={"token": _link(http, smtp, member.email)}).status_code
        == 200
    )


def test_a_reset_ends_the_lockout_of_wrong_passwords_from_that_address(http, smtp):
    member = Tenant(http, name="Locked Reset IT").add_user("engineer")
    for _ in range(6):
        r = http.post("/api/v1/auth/login", json={"email": member.email, "password": "not it at all 123"})
    assert r.status_code == 429, r.text
    token = _link(http, smtp, member.email)
    r = http.post("/api/v1/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    # Their other device, behind the same address, signs in with the new password.
    r = http.post("/api/v1/auth/login", json={"email": member.email, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text


def test_a_link_used_several_times_at_once_sets_one_password_and_tells_the_others_it_was_used(
    http, smtp, server
):
    member = Tenant(http, name="Racing Reset IT").add_user("engineer")
    token = _link(http, smtp, member.email)
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def use(i: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            start.wait()
            answers.append(
                client.post(
                    "/api/v1/auth/reset-password", json={"token": token, "password": f"{NEW_PASSWORD} {i}"}
                )
            )

    threads = [threading.Thread(target=use, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [200, 401, 401, 401], [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 401):
        assert "already used" in refused.json()["reason"], refused.text
