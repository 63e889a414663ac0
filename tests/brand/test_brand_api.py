"""White-label settings per tenant (issue #19 point 4): brand, logo, contrast refusals,
roles, audit and tenant isolation, against a real server."""

from __future__ import annotations

import io

from PIL import Image

from tests.conftest import Tenant


def png(size=(64, 32), color=(29, 78, 216)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


BRAND = {"name": "Acme IT", "primary_color": "#1D4ED8", "accent_color": "#fde047"}


def test_owner_sets_brand_and_logo_and_every_member_reads_them(http, tenant):
    r = http.put("/api/v1/tenant/brand", headers=tenant.headers, json=BRAND)
    assert r.status_code == 200, r.text
    assert r.json()["primary_color"] == "#1d4ed8" and r.json()["on_primary"] == "#ffffff"
    logo = png()
    r = http.put(
        "/api/v1/tenant/brand/logo", headers={**tenant.headers, "Content-Type": "image/png"}, content=logo
    )
    assert r.status_code == 200, r.text
    engineer = tenant.add_user("engineer")
    got = http.get("/api/v1/tenant/brand", headers=engineer.headers).json()
    assert got["name"] == "Acme IT" and got["accent_color"] == "#fde047"
    assert got["logo"]["content_type"] == "image/png"
    assert got["logo"]["data_url"].startswith("data:image/png;base64,")
    audit = http.get("/api/v1/audit?action=brand.changed", headers=tenant.headers).json()["items"]
    assert {tuple(a["details"]["changed"]) for a in audit} >= {("logo",)}
    assert len(audit) == 2


def test_unreadable_brand_colour_is_refused_with_the_ratio_and_a_suggestion(http, tenant):
    r = http.put("/api/v1/tenant/brand", headers=tenant.headers, json={**BRAND, "primary_color": "#ff0000"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "bad_request"
    assert "4.44:1" in body["reason"] and "4.5:1" in body["reason"]
    suggestion = body["details"]["suggestion"]
    assert suggestion in body["reason"]
    ok = http.put("/api/v1/tenant/brand", headers=tenant.headers, json={**BRAND, "primary_color": suggestion})
    assert ok.status_code == 200, ok.text
    bad_hex = http.put(
        "/api/v1/tenant/brand", headers=tenant.headers, json={**BRAND, "primary_color": "blue"}
    )
    assert bad_hex.status_code == 400 and "#rrggbb" in bad_hex.json()["reason"]


def test_logo_is_checked_by_its_bytes_and_size(http, tenant):
    put = lambda data, ctype="image/png": http.put(  # noqa: E731
        "/api/v1/tenant/brand/logo", headers={**tenant.headers, "Content-Type": ctype}, content=data
    )
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert put(svg, "image/svg+xml").status_code == 415
    assert put(b"MZ\x90\x00 not a png", "image/png").status_code == 415
    assert put(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100).status_code == 400  # PNG magic, broken body
    big = put(png((1500, 10)))
    assert big.status_code == 400 and "1024" in big.json()["reason"]
    assert put(b"\xff\xd8\xff" + b"\x00" * (300 * 1024), "image/jpeg").status_code == 413


def test_only_owners_and_admins_change_the_brand(http, tenant):
    author = tenant.add_user("author")
    assert http.put("/api/v1/tenant/brand", headers=author.headers, json=BRAND).status_code == 403
    r = http.put("/api/v1/tenant/brand/logo", headers=author.headers, content=png())
    assert r.status_code == 403


def test_a_tenant_never_sees_another_tenants_brand_or_domain(http, tenant):
    other = Tenant(http)
    r = http.put(
        "/api/v1/tenant/brand",
        headers=tenant.headers,
        json={**BRAND, "custom_domain": "help.acme-it.example"},
    )
    assert r.status_code == 200, r.text
    mine = http.get("/api/v1/tenant/brand", headers=other.headers).json()
    assert (
        mine["name"] == other.me["tenant"]["name"] and mine["primary_color"] is None and mine["logo"] is None
    )
    # Naming a domain holds nothing until it is proven (tests/brand/test_custom_domain_proof.py):
    # the other tenant may name it too, and sees only its own brand and its own pending proof.
    same = http.put(
        "/api/v1/tenant/brand",
        headers=other.headers,
        json={**BRAND, "name": "Other", "custom_domain": "HELP.acme-it.example"},
    )
    assert same.status_code == 200, same.text
    theirs = same.json()
    assert theirs["name"] == "Other" and theirs["custom_domain_status"] == "pending"
    mine_record = http.get("/api/v1/tenant/brand", headers=tenant.headers).json()["custom_domain_record"]
    assert theirs["custom_domain_record"]["value"] != mine_record["value"]
