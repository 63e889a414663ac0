"""A tenant's custom domain (issue #19 point 4): once the operator verifies it, requests
whose Host is that domain get the tenant's manifest, icons and public brand for the
sign-in page; the main domain keeps the default manifest."""

from __future__ import annotations

import subprocess

from tests.conftest import branchline_cli

from .test_brand_api import BRAND, png

DOMAIN = "help.fjord-it.example"


def verify(server, domain: str, *more: str) -> subprocess.CompletedProcess:
    return branchline_cli(server.env, "domain", "verify", domain, *more)  # the server's data and secret


def test_verified_custom_domain_serves_the_tenants_manifest_and_sign_in_brand(http, server, tenant):
    domain = f"{tenant.id.lower()}.{DOMAIN}"
    r = http.put(
        "/api/v1/tenant/brand",
        headers=tenant.headers,
        json={**BRAND, "name": "Fjord IT Support", "custom_domain": domain},
    )
    assert r.status_code == 200, r.text
    assert r.json()["custom_domain_verified"] is False
    r = http.put(
        "/api/v1/tenant/brand/logo", headers={**tenant.headers, "Content-Type": "image/png"}, content=png()
    )
    assert r.status_code == 200, r.text
    host = {"Host": f"{domain}:443"}

    # Claimed but not verified: the domain shows nothing of the tenant.
    assert http.get("/api/v1/brand", headers=host).status_code == 204
    assert http.get("/manifest.webmanifest", headers=host).json()["name"] == "Branchline"

    done = verify(server, domain)
    assert done.returncode == 0, done.stderr
    assert http.get("/api/v1/tenant/brand", headers=tenant.headers).json()["custom_domain_verified"] is True

    manifest = http.get("/manifest.webmanifest", headers=host)
    assert manifest.status_code == 200
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["name"] == "Fjord IT Support" and body["short_name"] == "Fjord IT Sup"
    assert body["theme_color"] == "#1d4ed8" and body["start_url"] == "/"
    assert [i["sizes"] for i in body["icons"]] == ["192x192", "512x512"]
    icon = http.get(body["icons"][1]["src"], headers=host)
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    assert icon.content.startswith(b"\x89PNG")

    public = http.get("/api/v1/brand", headers=host).json()
    assert public["name"] == "Fjord IT Support" and public["logo"]["data_url"].startswith("data:image/png")
    assert set(public) == {"name", "primary_color", "on_primary", "logo"}  # nothing private

    # The main domain keeps the default manifest, and has no public brand.
    default = http.get("/manifest.webmanifest").json()
    assert default["name"] == "Branchline" and default["theme_color"] == "#0f172a"
    assert http.get("/api/v1/brand").status_code == 204


def test_verifying_an_unclaimed_domain_fails_with_a_reason(server):
    done = verify(server, "nobody-claimed.example")
    assert done.returncode == 1 and "No workspace names nobody-claimed.example" in done.stderr


def test_when_two_workspaces_name_a_domain_the_operator_says_which_one_proves_it(http, server):
    from tests.conftest import Tenant

    a, b = Tenant(http), Tenant(http)
    domain = f"both-{a.id.lower()}.{DOMAIN}"
    for t in (a, b):
        r = http.put("/api/v1/tenant/brand", headers=t.headers, json={**BRAND, "custom_domain": domain})
        assert r.status_code == 200, r.text
    done = verify(server, domain)
    assert done.returncode == 1 and "Several workspaces name" in done.stderr and "--tenant" in done.stderr
    assert a.id in done.stderr and b.id in done.stderr
    done = verify(server, domain, "--tenant", b.id)
    assert done.returncode == 0, done.stderr
    assert http.get("/api/v1/tenant/brand", headers=b.headers).json()["custom_domain_status"] == "verified"
    assert http.get("/api/v1/tenant/brand", headers=a.headers).json()["custom_domain_status"] == "taken"
    assert http.get("/api/v1/brand", headers={"Host": domain}).json()["name"] == BRAND["name"]
    # Once proven, the domain is refused to a third workspace and to the operator's other choice.
    c = Tenant(http)
    r = http.put("/api/v1/tenant/brand", headers=c.headers, json={**BRAND, "custom_domain": domain})
    assert r.status_code == 409, r.text
    done = verify(server, domain, "--tenant", a.id)
    assert done.returncode == 1 and "already used by another team" in done.stderr
