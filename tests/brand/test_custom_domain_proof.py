"""A tenant's custom domain verified by its own DNS TXT record from the Brand page, as well as
by the operator's `branchline domain verify` (tests/brand/test_custom_domain.py): the same
proof as single sign-on's e-mail domains, through a real DNS server on loopback."""

from __future__ import annotations

import secrets

from tests.conftest import Tenant
from tests.sso.conftest import SERVER_ENV as SSO_SERVER_ENV

from .test_brand_api import BRAND

SERVER_ENV = SSO_SERVER_ENV  # names the test DNS server


def put_domain(http, tenant: Tenant, domain: str | None):
    return http.put("/api/v1/tenant/brand", headers=tenant.headers, json={**BRAND, "custom_domain": domain})


def verify(http, headers):
    return http.post("/api/v1/tenant/brand/domain/verify", headers=headers)


def test_a_custom_domain_is_verified_by_its_txt_record_and_then_serves_the_brand(http, tenant, dns):
    domain = f"help-{secrets.token_hex(3)}.fjord-it.example"
    r = put_domain(http, tenant, domain)
    assert r.status_code == 200, r.text
    brand = r.json()
    assert brand["custom_domain_verified"] is False
    record = brand["custom_domain_record"]
    assert record["type"] == "TXT" and record["name"] == f"_branchline.{domain}"
    assert record["value"].startswith("branchline-verification=")
    host = {"Host": domain}
    assert http.get("/api/v1/brand", headers=host).status_code == 204

    r = verify(http, tenant.headers)
    assert r.status_code == 422 and r.json()["error"] == "dns_record_missing", r.text
    dns.publish(record["name"], "branchline-verification=someone-elses")
    r = verify(http, tenant.headers)
    assert r.status_code == 422 and r.json()["error"] == "dns_record_mismatch", r.text
    assert "someone-elses" in r.json()["reason"] and record["value"] in r.json()["reason"]
    assert http.get("/api/v1/brand", headers=host).status_code == 204

    dns.down = True
    try:
        r = verify(http, tenant.headers)
    finally:
        dns.down = False
    assert r.status_code == 503 and r.json()["error"] == "dns_unavailable" and r.headers["Retry-After"]

    dns.publish(record["name"], record["value"])
    admin = tenant.add_user("admin")
    engineer = tenant.add_user("engineer")
    assert verify(http, engineer.headers).status_code == 403
    assert verify(http, admin.headers).status_code == 403  # see the test below
    r = verify(http, tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["custom_domain_verified"] is True and r.json()["custom_domain_record"] is None
    assert http.get("/api/v1/brand", headers=host).json()["name"] == BRAND["name"]
    entries = http.get("/api/v1/audit", params={"action": "brand.domain_verified"}, headers=tenant.headers)
    assert [e["details"] for e in entries.json()["items"]] == [{"domain": domain, "via": "dns"}]
    assert verify(http, tenant.headers).status_code == 200  # already verified: no new lookup
    assert (
        len(
            http.get(
                "/api/v1/audit", params={"action": "brand.domain_verified"}, headers=tenant.headers
            ).json()["items"]
        )
        == 1
    )


def test_verifying_without_a_custom_domain_says_to_set_one(http, tenant):
    r = verify(http, tenant.headers)
    assert r.status_code == 404 and "set one in the brand settings" in r.json()["reason"]


def test_naming_a_domain_blocks_nobody_and_the_first_proof_wins(http, dns):
    a, b = Tenant(http), Tenant(http)
    domain = f"help-{secrets.token_hex(3)}.fjord-it.example"
    record_a = put_domain(http, a, domain).json()["custom_domain_record"]
    # Before: A naming the domain first refused it to B, the domain's real owner perhaps.
    r = put_domain(http, b, domain)
    assert r.status_code == 200 and r.json()["custom_domain_status"] == "pending", r.text
    record_b = r.json()["custom_domain_record"]
    assert record_b["value"] != record_a["value"]  # each workspace proves with its own token
    # A's record does not prove the domain for B.
    dns.publish(record_a["name"], record_a["value"])
    r = verify(http, b.headers)
    assert r.status_code == 422 and r.json()["error"] == "dns_record_mismatch"
    # A proves it first: A holds it, B sees it taken and can neither verify nor serve it.
    assert verify(http, a.headers).status_code == 200
    assert http.get("/api/v1/tenant/brand", headers=b.headers).json()["custom_domain_status"] == "taken"
    dns.publish(record_b["name"], record_b["value"])
    r = verify(http, b.headers)
    assert r.status_code == 409 and "already used by another team" in r.json()["reason"]
    c = Tenant(http)
    assert put_domain(http, c, domain).status_code == 409  # a proven domain is refused to others
    # A moves to another domain: the old one is released, and B's own record now proves it.
    assert put_domain(http, a, f"x-{domain}").status_code == 200
    r = verify(http, b.headers)
    assert r.status_code == 200 and r.json()["custom_domain_verified"] is True, r.text


def test_only_an_owner_verifies_the_custom_domain_as_it_decides_where_sign_in_links_go(http, tenant, dns):
    """Regression: admins could verify a custom domain by DNS, and e-mailed invitation and
    password reset links go to the verified domain. An admin could so prove a domain of their
    own, ask for a reset of an owner's password, and the owner's genuine e-mail linked to the
    admin's site with the token (admins may not touch owners' accounts otherwise). As for single
    sign-on's e-mail domains, only owners verify."""
    domain = f"help-{secrets.token_hex(3)}.admin-own.example"
    admin = tenant.add_user("admin")
    r = http.put("/api/v1/tenant/brand", headers=admin.headers, json={**BRAND, "custom_domain": domain})
    assert r.status_code == 200, r.text  # admins still set the brand and see the record
    record = r.json()["custom_domain_record"]
    dns.publish(record["name"], record["value"])
    r = verify(http, admin.headers)
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert "owner" in r.json()["reason"]
    brand = http.get("/api/v1/tenant/brand", headers=admin.headers).json()
    assert brand["custom_domain_status"] == "pending" and brand["custom_domain_record"] == record
    assert http.get("/api/v1/brand", headers={"Host": domain}).status_code == 204
    r = verify(http, tenant.headers)
    assert r.status_code == 200 and r.json()["custom_domain_verified"] is True, r.text
