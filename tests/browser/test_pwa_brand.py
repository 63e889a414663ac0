"""White-label in the app (issue #19 point 4): after sign-in the shell shows the tenant's
name, logo and colour (header and primary buttons), and keeps them offline after a reload."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.brand.test_brand_api import png
from tests.browser.conftest import (
    MOBILE,
    app_context,
    assert_accessible,
    shot,
    sign_in,
    wait_for_service_worker,
    wait_synced,
)
from tests.conftest import Tenant
from tests.sso.conftest import SERVER_ENV as SSO_SERVER_ENV

SERVER_ENV = SSO_SERVER_ENV  # names the test DNS server, for custom domains proven by DNS

HEADER_BG = "getComputedStyle(document.querySelector('header')).backgroundColor"
NAME_COLOR = "getComputedStyle(document.querySelector('[data-testid=brand-name]')).color"


def test_the_shell_wears_the_tenants_brand_and_keeps_it_offline(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    r = http.put(
        "/api/v1/tenant/brand",
        headers=tenant.headers,
        json={"name": "Fjord IT", "primary_color": "#fde047"},  # light yellow: dark text on it
    )
    assert r.status_code == 200, r.text
    r = http.put(
        "/api/v1/tenant/brand/logo",
        headers={**tenant.headers, "Content-Type": "image/png"},
        content=png((96, 32), (12, 74, 110)),
    )
    assert r.status_code == 200, r.text

    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.wait_for_selector("[data-testid=brand-name] >> text=Fjord IT")
        assert page.get_attribute("[data-testid=brand-logo]", "src").startswith("data:image/png;base64,")
        assert page.evaluate(HEADER_BG) == "rgb(253, 224, 71)"
        assert page.evaluate(NAME_COLOR) == "rgb(17, 24, 39)"  # the dark text the server chose
        shot(page, "brand-shell")
        page.goto(server.url + "/editor")  # "New tree" is a primary button
        button = page.locator(".btn-primary").first
        button.wait_for()
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(253, 224, 71)"
        assert button.evaluate("b => getComputedStyle(b).color") == "rgb(17, 24, 39)"
        page.goto(server.url + "/")

        wait_for_service_worker(page)
        wait_synced(page)
        ctx.set_offline(True)
        page.reload()
        page.wait_for_selector("[data-testid=brand-name] >> text=Fjord IT")
        assert page.evaluate(HEADER_BG) == "rgb(253, 224, 71)"
        assert page.get_attribute("[data-testid=brand-logo]", "src").startswith("data:image/png;base64,")
    finally:
        ctx.close()


def test_sign_in_page_on_a_verified_custom_domain_shows_the_tenants_brand(browser, http, server):
    from tests.brand.test_custom_domain import verify
    from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

    tenant = Tenant(http)
    domain = f"{tenant.id.lower()}.signin.fjord-it.example"
    r = http.put(
        "/api/v1/tenant/brand",
        headers=tenant.headers,
        json={"name": "Fjord IT", "primary_color": "#7c2d12", "custom_domain": domain},
    )
    assert r.status_code == 200, r.text
    assert verify(server, domain).returncode == 0
    rules = f"--host-resolver-rules=MAP {domain} 127.0.0.1"
    # A browser of its own, which resolves the custom domain to this server.
    own = browser.browser_type.launch(executable_path=chromium_path(), args=[*CHROMIUM_ARGS, rules])
    try:
        page = own.new_page(viewport=MOBILE)
        page.goto(f"http://{domain}:{server.port}/signin")
        page.wait_for_selector("[data-testid=brand-name] >> text=Fjord IT")
        shot(page, "brand-sign-in")
        bar = "getComputedStyle(document.querySelector('.brand-bar')).backgroundColor"
        assert page.evaluate(bar) == "rgb(124, 45, 18)"
        # The main address of the same server keeps the product's own sign-in page.
        page.goto(server.url + "/signin")
        page.wait_for_selector("[data-testid=brand-name] >> text=Branchline")
    finally:
        own.close()


def test_an_admin_sets_the_brand_and_takes_the_suggested_colour_when_one_is_unreadable(
    browser, http, server, tmp_path
):
    tenant = Tenant(http, starter_library=True)
    logo = tmp_path / "logo.png"
    logo.write_bytes(png((90, 30), (20, 20, 20)))
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin/brand")
        page.fill("#brand-name-input", "Harbour IT")
        page.fill("#brand-color", "#ff0000")
        page.click("text=Save brand")
        alert = page.locator("[role=alert]", has_text="The brand was not saved")
        alert.wait_for()
        assert "4.44:1" in alert.inner_text()
        page.click("text=Use #ff0f0f")
        page.click("text=Save brand")
        page.wait_for_selector("[role=status] >> text=Saved")
        page.wait_for_selector("[data-testid=brand-name] >> text=Harbour IT")
        assert page.evaluate(HEADER_BG) == "rgb(255, 15, 15)"
        page.set_input_files("#brand-logo", str(logo))
        page.wait_for_function(
            "() => document.querySelector('[data-testid=brand-logo]').src.startsWith('data:image/png')"
        )
        assert_accessible(page, "brand-admin")
    finally:
        ctx.close()
    assert http.get("/api/v1/tenant/brand", headers=tenant.headers).json()["primary_color"] == "#ff0f0f"


def test_an_owner_proves_the_custom_domain_with_its_dns_record_from_the_brand_page(
    browser, http, server, dns
):
    tenant = Tenant(http, starter_library=True)
    domain = f"{tenant.id.lower()}.dns.fjord-it.example"
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin/brand")
        page.fill("#brand-name-input", "Fjord IT")
        page.fill("#brand-domain", domain)
        page.click("text=Save brand")
        page.wait_for_selector("[role=status] >> text=Saved")
        proof = page.get_by_test_id("brand-domain-status")
        expect(proof).to_contain_text(f"_branchline.{domain}")

        # An admin sees the record, but only an owner verifies (e-mailed sign-in links go there).
        admin = tenant.add_user("admin")
        other = app_context(browser, MOBILE)
        try:
            admin_page = other.new_page()
            sign_in(admin_page, server.url, admin.email, admin.password)
            admin_page.goto(server.url + "/admin/brand")
            admin_proof = admin_page.get_by_test_id("brand-domain-status")
            expect(admin_proof).to_contain_text(f"_branchline.{domain}")
            expect(admin_proof).to_contain_text("Only an owner can verify the domain")
            expect(admin_proof.get_by_role("button", name="Verify domain")).to_have_count(0)
        finally:
            other.close()

        proof.get_by_role("button", name="Verify domain").click()
        expect(proof.get_by_role("alert")).to_contain_text(f"No TXT record was found at _branchline.{domain}")
        proof.get_by_role("button", name="Copy value").click()
        expect(proof.get_by_role("button", name="Copied")).to_be_visible()
        dns.publish(f"_branchline.{domain}", page.evaluate("navigator.clipboard.readText()"))
        proof.get_by_role("button", name="Verify domain").click()
        expect(proof.get_by_role("status")).to_contain_text(f"Verified. {domain} serves your brand.")
        # Nothing widens the page on a phone (the logo's file picker did, before it was given a width).
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "mobile-brand-domain-verified")
        assert_accessible(page, "brand-admin-domain")
    finally:
        ctx.close()
    r = http.get("/api/v1/brand", headers={"Host": domain})
    assert r.status_code == 200 and r.json()["name"] == "Fjord IT"


def test_a_domain_another_workspace_proved_is_shown_as_taken_on_the_brand_page(browser, http, server, dns):
    holder, late = Tenant(http), Tenant(http, starter_library=True)
    domain = f"{holder.id.lower()}.taken.fjord-it.example"
    brand = {"primary_color": "#1d4ed8", "custom_domain": domain}
    r = http.put("/api/v1/tenant/brand", headers=holder.headers, json={**brand, "name": "Holder"})
    assert r.status_code == 200, r.text
    record = r.json()["custom_domain_record"]
    # The late workspace names the domain while it is still unproven (nobody holds it yet)...
    r = http.put("/api/v1/tenant/brand", headers=late.headers, json={**brand, "name": "Late"})
    assert r.status_code == 200, r.text
    # ...then the holder proves it first.
    dns.publish(record["name"], record["value"])
    assert http.post("/api/v1/tenant/brand/domain/verify", headers=holder.headers).status_code == 200
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, late.owner_email, late.password)
        page.goto(server.url + "/admin/brand")
        status = page.get_by_test_id("brand-domain-status")
        expect(status).to_contain_text("Another workspace has already proved")
        expect(status).to_contain_text(domain)
        # No record to publish and no Verify button: this workspace cannot win the domain now.
        expect(status.get_by_role("button", name="Verify domain")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "mobile-brand-domain-taken")
    finally:
        ctx.close()
