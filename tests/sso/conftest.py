"""Fixtures of the SSO tests: a real OIDC provider, a real DNS server for domain proofs, and a
team whose sign-in goes through the provider, its e-mail domain proven."""

from __future__ import annotations

import secrets
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from tests.conftest import Tenant
from tests.sso import dns as test_dns
from tests.sso.idp import TestIdP

BINDING_COOKIE = "bl_sso"
DNS_TIMEOUT_SECONDS = 1.0  # a test of DNS being down waits this long, not the default 3 s


def SERVER_ENV(request) -> dict[str, str]:
    """The server's settings: the test IdP listens on loopback, which Branchline refuses for
    outbound calls by default, and domain proofs ask the test DNS server (the `dns` fixture
    of tests/conftest.py)."""
    dns = request.getfixturevalue("dns")
    return {
        "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
        "BRANCHLINE_DNS_NAMESERVER": dns.address,
        "BRANCHLINE_DNS_TIMEOUT_SECONDS": str(DNS_TIMEOUT_SECONDS),
    }


@pytest.fixture(scope="module")
def idp():
    provider = TestIdP().start()
    yield provider
    provider.stop()


@pytest.fixture(autouse=True)
def _untampered(request):
    yield
    if "idp" in request.fixturenames:
        request.getfixturevalue("idp").tamper = None


class SsoTeam:
    """A freshly registered tenant whose SSO goes through the test IdP; its own slug and domain."""

    def __init__(
        self, http: httpx.Client, idp: TestIdP, starter_library: bool = False, prove: bool = True, **settings
    ) -> None:
        self.http = http
        self.idp = idp
        self.tenant = Tenant(http, starter_library=starter_library)
        self.slug = f"t-{secrets.token_hex(4)}"
        self.domain = f"{secrets.token_hex(4)}.example.org"
        self.client_id = f"branchline-{secrets.token_hex(3)}"
        self.binding: str | None = None
        self.settings = {
            "slug": self.slug,
            "oidc": {
                "issuer": idp.url,
                "client_id": self.client_id,
                "client_secret": "s3cret-" + secrets.token_hex(8),
            },
            "allowed_domains": [self.domain],
            "default_role": "engineer",
            **settings,
        }
        r = self.configure()
        assert r.status_code == 200, r.text
        if prove:
            r = self.prove()
            assert r.status_code == 200 and r.json()["status"] == "verified", r.text

    def configure(self, **changes) -> httpx.Response:
        body = {**self.settings, **changes}
        return self.http.put("/api/v1/tenant/sso", json=body, headers=self.tenant.headers)

    def prove(self, domain: str | None = None) -> httpx.Response:
        return prove_domain(self.http, self.tenant.headers, domain or self.domain)

    def email(self, name: str = "user") -> str:
        return f"{name}-{secrets.token_hex(3)}@{self.domain}"

    def new_idp_user(self, email: str | None = None, **kw) -> tuple[str, str]:
        email = email or self.email()
        sub = "sub-" + secrets.token_hex(6)
        self.idp.add_user(sub, email, **kw)
        return sub, email

    def sign_in(self, sub: str, browser: httpx.Client | None = None) -> tuple[str, dict[str, str]]:
        """Go through start, the IdP and the callback as a browser would; answers the path the
        callback redirected to and the parameters in its fragment."""
        own = browser is None
        browser = browser or httpx.Client(base_url=str(self.http.base_url), timeout=30)
        try:
            start = browser.get(f"/api/v1/auth/sso/{self.slug}/start")
            assert start.status_code == 302, start.text
            back = self.idp.approve(start.headers["location"], sub)
            done = browser.get(back)
            assert done.status_code == 302, done.text
            # The code is traded only with this browser's sign-in cookie (see `exchange`).
            self.binding = browser.cookies.get(BINDING_COOKIE)
            return split_fragment(done.headers["location"])
        finally:
            if own:
                browser.close()

    def exchange(self, code: str) -> httpx.Response:
        """Trade a code as the browser of the last `sign_in` does: its binding cookie along."""
        return exchange(self.http, code, self.binding)

    def audit(self, action: str) -> list[dict]:
        r = self.http.get("/api/v1/audit", params={"action": action}, headers=self.tenant.headers)
        assert r.status_code == 200, r.text
        return r.json()["items"]


def shown_domain(http: httpx.Client, headers: dict[str, str], domain: str) -> dict:
    """The domain's entry in the SSO settings: status, verified_at and the record to publish."""
    r = http.get("/api/v1/tenant/sso", headers=headers)
    assert r.status_code == 200, r.text
    return next(d for d in r.json()["sso"]["domains"] if d["domain"] == domain)


def verify(http: httpx.Client, headers: dict[str, str], domain: str) -> httpx.Response:
    return http.post(f"/api/v1/tenant/sso/domains/{domain}/verify", headers=headers)


def prove_domain(http: httpx.Client, headers: dict[str, str], domain: str) -> httpx.Response:
    """Publish the record the settings show for `domain` in the test DNS, then verify it."""
    record = shown_domain(http, headers, domain)["record"]
    test_dns.running().publish(record["name"], record["value"])
    return verify(http, headers, domain)


def exchange(http: httpx.Client, code: str, binding: str | None) -> httpx.Response:
    """POST /auth/sso/exchange with the sign-in's binding cookie, as the PWA's same-origin
    fetch sends it (None: a browser without it)."""
    headers = {"Cookie": f"{BINDING_COOKIE}={binding}"} if binding else {}
    return http.post("/api/v1/auth/sso/exchange", json={"code": code}, headers=headers)


def split_fragment(location: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(location)
    params = dict(p.split("=", 1) for p in parts.fragment.split("&") if "=" in p)
    return parts.path, {k: unquote(v) for k, v in params.items()}


@pytest.fixture
def team(http, idp):
    return SsoTeam(http, idp)


@pytest.fixture
def make_team(http, idp):
    return lambda **kw: SsoTeam(http, idp, **kw)
