"""Registrations per address (issue 15: 25 tenants were registered from one address in 12 s)."""

from __future__ import annotations

import secrets

import httpx

from tests.conftest import STRONG_PASSWORD, unique_email

SERVER_ENV = {"BRANCHLINE_RATE_LIMIT_REGISTRATIONS_PER_HOUR": "3"}


def _register(client: httpx.Client) -> httpx.Response:
    return client.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": f"MSP {secrets.token_hex(3)}",
            "email": unique_email("owner"),
            "password": STRONG_PASSWORD,
            "display_name": "Owner",
            "starter_library": False,
        },
    )


def test_registrations_from_one_address_are_limited(server):
    with httpx.Client(
        base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.4")
    ) as client:
        codes = [_register(client).status_code for _ in range(5)]
        assert codes == [201, 201, 201, 429, 429], codes
        r = _register(client)
        assert r.json()["error"] == "too_many_requests"
        assert "3 per hour" in r.json()["reason"]
        assert r.headers["RateLimit-Policy"] == '"registrations";q=3;w=3600'
        assert int(r.headers["Retry-After"]) > 60  # an hour's window: come back much later
    # Someone at another address can still sign up.
    with httpx.Client(
        base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.5")
    ) as other:
        assert _register(other).status_code == 201
