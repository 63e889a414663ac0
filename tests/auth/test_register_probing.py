"""Sign-up cannot be used to list the e-mails of other tenants' users: a taken e-mail is
refused (an e-mail belongs to one account), and such refusals share the failed sign-in
budget of the client's address."""

from __future__ import annotations

import secrets

from tests.conftest import STRONG_PASSWORD, unique_email


def _register(http, email: str, address: str):
    return http.post(
        "/api/v1/auth/register",
        headers={"X-Forwarded-For": address},
        json={
            "tenant_name": "Probe",
            "email": email,
            "password": STRONG_PASSWORD,
            "display_name": "P",
            "starter_library": False,
        },
    )


def test_probing_emails_by_sign_up_is_throttled_per_address(http, tenant):
    prober = f"198.51.100.{secrets.randbelow(200) + 1}"
    answers = [_register(http, tenant.owner_email, prober).status_code for _ in range(25)]
    assert answers[0] == 409
    assert 429 in answers, answers
    first_429 = answers.index(429)
    assert first_429 <= 20 and set(answers[first_429:]) == {429}
    r = _register(http, unique_email("someone"), prober)
    assert r.status_code == 429 and r.headers.get("retry-after"), r.text
    # The account itself is not locked: its owner still signs in (from anywhere).
    assert (
        http.post(
            "/api/v1/auth/login", json={"email": tenant.owner_email, "password": STRONG_PASSWORD}
        ).status_code
        == 200
    )
    # Another address signs up as usual.
    assert _register(http, unique_email("new"), "192.0.2.77").status_code == 201
