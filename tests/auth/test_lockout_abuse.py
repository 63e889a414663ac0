"""Issue 15, point 4: the sign-in lockout cannot be turned against a victim.

Before, five wrong passwords from anywhere locked the account everywhere (and each further
try doubled the lock), so anyone knowing an e-mail could keep its owner out. Now failures
lock the account only for the address they came from; the owner, from elsewhere, still
signs in and is told about the attempts. The attacker here connects from another loopback
address (127.0.0.2), as a second machine would.
"""

from __future__ import annotations

import httpx

from tests.conftest import STRONG_PASSWORD

ATTACKER_ADDRESS = "127.0.0.2"


def _attacker(server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address=ATTACKER_ADDRESS)
    )


def test_wrong_passwords_from_elsewhere_never_lock_the_owner_out(server, http, tenant):
    victim = tenant.add_user("engineer")
    with _attacker(server) as attacker:
        statuses = [
            attacker.post(
                "/api/v1/auth/login", json={"email": victim.email, "password": f"guess {i}"}
            ).status_code
            for i in range(12)
        ]
        assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
        # The attacker's address stays locked out of this account, right password or not.
        r = attacker.post("/api/v1/auth/login", json={"email": victim.email, "password": STRONG_PASSWORD})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "from your address" in r.json()["reason"]
    # The owner, from their own address, signs in at once, and sync with Basic works too.
    r = http.post("/api/v1/auth/login", json={"email": victim.email, "password": STRONG_PASSWORD})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert http.get(f"/sync/{tenant.id}/sessions", auth=(victim.email, STRONG_PASSWORD)).status_code == 200
    # ... and is told: the lockout is on their account, for them and for their admins.
    events = http.get("/api/v1/me", headers=headers).json()["user"]["security_events"]
    assert events and events[0]["type"] == "sign_in_locked" and events[0]["address"] == ATTACKER_ADDRESS
    assert events[0]["locked_seconds"] >= 1 and events[0]["at"]
    seen_by_admin = http.get(f"/api/v1/users/{victim.id}", headers=tenant.headers).json()["security_events"]
    assert seen_by_admin == events
    assert "sign_in_locked" in server.log_path.read_text()


def test_a_stolen_token_cannot_guess_the_current_password_forever(server, http, tenant):
    victim = tenant.add_user("engineer")
    with _attacker(server) as attacker:
        statuses = [
            attacker.post(
                "/api/v1/me/password",
                headers=victim.headers,
                json={"current_password": f"guess number {i}", "new_password": "attacker owns this now 99"},
            ).status_code
            for i in range(8)
        ]
        assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
        r = attacker.post(
            "/api/v1/me/password",
            headers=victim.headers,
            json={"current_password": STRONG_PASSWORD, "new_password": "attacker owns this now 99"},
        )
        assert r.status_code == 429 and r.json()["error"] == "too_many_requests" and r.headers["Retry-After"]
    events = http.get("/api/v1/me", headers=victim.headers).json()["user"]["security_events"]
    assert [e["type"] for e in events] == ["password_change_locked"]
    # The owner, from their own address, still changes it.
    r = http.post(
        "/api/v1/me/password",
        headers=victim.headers,
        json={"current_password": STRONG_PASSWORD, "new_password": "the owner's new passphrase 8"},
    )
    assert r.status_code == 200, r.text
