"""Single sign-on in a real browser (issue 19, point 1): an engineer signs in through the
team's OpenID Connect provider (a real one, on a loopback port) from the sign-in page, then
works offline exactly as after a password sign-in; the same through a SAML IdP (pysaml2),
whose page POSTs the signed answer back; a forged answer from the IdP ends on the sign-in
page with the reason; an admin sets SSO up on its tab, and with SSO required a password
sign-in says to use SSO."""

from __future__ import annotations

import json
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    answer_step,
    app_context,
    shortest_run,
    shot,
    sign_in,
    start_session,
    wait_for_service_worker,
    wait_synced,
    write_note,
)
from tests.conftest import STRONG_PASSWORD, unique_email, wait_until
from tests.sso.conftest import SERVER_ENV as SSO_SERVER_ENV, SsoTeam
from tests.sso.idp import TestIdP
from tests.sso.saml_idp import SamlIdP
from tests.sso.test_saml import SamlTeam

SERVER_ENV = SSO_SERVER_ENV
TREE_ID = "tree:sonicwall-vpn-tunnel-down"


@pytest.fixture(scope="module")
def idp():
    provider = TestIdP().start()
    yield provider
    provider.stop()


def sso_sign_in(page, base_url: str, who: str, sub: str) -> None:
    """From the sign-in page through the IdP's own page and back."""
    page.goto(base_url + "/signin")
    page.get_by_role("button", name="Sign in with SSO").click()
    page.fill("#sso-name", who)
    page.get_by_role("button", name="Continue with SSO").click()
    page.wait_for_selector("input[name=sub]")  # the identity provider's page
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()


def test_an_sso_sign_in_works_offline_like_a_password_one(browser, http, server, idp):
    team = SsoTeam(http, idp, starter_library=True)
    sub, email = team.new_idp_user(name="Priya Field")
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sso_sign_in(page, server.url, email, sub)
        page.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        assert page.url == server.url + "/"  # the one-time code is gone from the address bar
        stored = json.loads(page.evaluate("localStorage.getItem('bl.signin')"))
        assert stored["account"]["user"]["email"] == email and stored["account"]["role"] == "engineer"
        shot(page, "sso-01-signed-in")

        wait_for_service_worker(page)
        wait_synced(page)
        tree = http.get(f"/api/v1/trees/{TREE_ID}/versions/1", headers=team.tenant.headers).json()["tree"]
        node_id, answer, next_node = shortest_run(tree)[0]

        ctx.set_offline(True)
        page.reload()
        page.wait_for_selector("[data-testid=tree-list]")
        page.wait_for_selector("[data-testid=sync-status][data-online='no']")
        sid = start_session(page, tree["title"], "SSO-OFFLINE-1")
        write_note(page, "Checked the tunnel with no signal, signed in through SSO.")
        answer_step(page, tree, node_id, answer, next_node)
        shot(page, "sso-02-offline-step")

        ctx.set_offline(False)
        wait_synced(page)

        def on_server():
            r = http.get(f"/api/v1/sessions/{sid}", headers=team.tenant.headers)
            return r.json() if r.status_code == 200 and r.json()["path"] else None

        state = wait_until(on_server, message="the offline session on the server")
        assert [s["node_id"] for s in state["path"]] == [node_id]
        notes = [n["text"] for ns in state["notes"].values() for n in ns]
        assert notes == ["Checked the tunnel with no signal, signed in through SSO."]
        assert errors == []
    finally:
        ctx.close()


def test_signing_out_revokes_the_refresh_token_and_ends_the_idp_session(browser, http, server, idp):
    team = SsoTeam(http, idp, starter_library=True)
    sub, _ = team.new_idp_user()
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sso_sign_in(page, server.url, team.slug, sub)
        page.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        wait_synced(page)
        refresh_token = json.loads(page.evaluate("localStorage.getItem('bl.signin')"))["tokens"][
            "refresh_token"
        ]
        page.goto(server.url + "/profile")
        page.click("[data-testid=sign-out]")
        page.wait_for_url(idp.url + "/oauth2/end_session?**")  # the IdP's own sign-out page
        assert f"client_id={team.client_id}" in page.url
        r = http.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        assert r.status_code == 401
    finally:
        ctx.close()


def test_a_forged_id_token_ends_on_the_sign_in_page_with_the_reason(browser, http, server, idp):
    team = SsoTeam(http, idp)
    sub, _ = team.new_idp_user()
    idp.tamper = lambda header, claims: (header, {**claims, "aud": "another-app"}, None)
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sso_sign_in(page, server.url, team.slug, sub)
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Single sign-on failed")
        expect(alert).to_contain_text("issued to another application")
        assert page.url == server.url + "/signin"
        assert page.evaluate("localStorage.getItem('bl.signin')") is None
        shot(page, "sso-03-refused")
    finally:
        idp.tamper = None
        ctx.close()


def test_an_admin_sets_up_sso_and_then_passwords_name_sso(browser, http, server, idp):
    team = SsoTeam(http, idp, starter_library=True)
    engineer = team.tenant.add_user("engineer", unique_email("eng"))
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, team.tenant.owner_email, STRONG_PASSWORD)
        page.goto(server.url + "/admin/sso")
        expect(page.locator("#sso-slug")).to_have_value(team.slug)
        expect(page.get_by_test_id("sso-redirect-uri")).to_have_text(
            f"{server.url}/api/v1/auth/sso/{team.slug}/callback"
        )
        page.check("#sso-require")
        page.get_by_role("button", name="Save single sign-on").click()
        expect(page.get_by_role("alert")).to_contain_text("break-glass owner")
        page.fill("#sso-break-glass", team.tenant.owner_email)
        page.get_by_role("button", name="Save single sign-on").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        shot(page, "sso-04-admin")
        saved = http.get("/api/v1/tenant/sso", headers=team.tenant.headers).json()["sso"]
        assert saved["require_sso"] is True and saved["break_glass_emails"] == [team.tenant.owner_email]
        assert saved["oidc"]["client_secret_set"] is True  # an empty secret field kept it

        other = app_context(browser, MOBILE)
        try:
            p2 = other.new_page()
            p2.goto(server.url + "/signin")
            p2.fill("#email", engineer.email)
            p2.fill("#password", STRONG_PASSWORD)
            p2.click("button[type=submit]")
            expect(p2.get_by_role("alert")).to_contain_text("Sign in with SSO")
            expect(p2.get_by_role("alert")).to_contain_text(team.slug)
        finally:
            other.close()
    finally:
        ctx.close()


def test_an_owner_on_a_phone_proves_a_new_e_mail_domain_with_the_dns_record(browser, http, server, idp, dns):
    team = SsoTeam(http, idp, starter_library=True)
    domain = f"proof-{secrets.token_hex(3)}.example.org"
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, team.tenant.owner_email, STRONG_PASSWORD)
        page.goto(server.url + "/admin/sso")
        expect(page.locator("#sso-domains")).to_have_value(team.domain)
        page.fill("#sso-domains", f"{team.domain}, {domain}")
        page.get_by_role("button", name="Save single sign-on").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

        row = page.locator(f"[data-testid=sso-domain][data-domain='{domain}']")
        expect(row).to_have_attribute("data-status", "pending")
        expect(row).to_contain_text(f"_branchline.{domain}")
        expect(page.locator(f"[data-testid=sso-domain][data-domain='{team.domain}']")).to_contain_text(
            "Verified"
        )
        assert http.get("/api/v1/auth/sso/lookup", params={"q": f"a@{domain}"}).status_code == 404

        # Verify before publishing: the page says what is missing and the domain stays pending.
        row.get_by_role("button", name=f"Verify {domain}").click()
        expect(row.get_by_role("alert")).to_contain_text(f"No TXT record was found at _branchline.{domain}")
        expect(row).to_have_attribute("data-status", "pending")

        # Publish exactly what the Copy button put on the clipboard, as an admin pasting it would.
        row.get_by_role("button", name="Copy value").click()
        expect(row.get_by_role("button", name="Copied")).to_be_visible()
        value = page.evaluate("navigator.clipboard.readText()")
        assert value.startswith("branchline-verification=")
        dns.publish(f"_branchline.{domain}", value)
        no_overflow = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert no_overflow, "the record must wrap on a 375 px screen, not widen the page"
        shot(page, "mobile-sso-domain-pending")

        row.get_by_role("button", name=f"Verify {domain}").click()
        expect(row).to_have_attribute("data-status", "verified")
        verified = row.get_by_role("status")
        expect(verified).to_contain_text(f"Verified. People at {domain} are sent to your identity provider")
        expect(row.get_by_role("alert")).to_have_count(0)
        shot(page, "mobile-sso-domain-verified")
        found = http.get("/api/v1/auth/sso/lookup", params={"q": f"a@{domain}"})
        assert found.status_code == 200 and found.json()["slug"] == team.slug
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def saml_idp(tmp_path_factory):
    provider = SamlIdP(tmp_path_factory.mktemp("saml-idp")).start()
    yield provider
    provider.stop()


def test_a_saml_sign_in_in_the_browser_then_a_forged_one_refused(browser, http, server, saml_idp):
    team = SamlTeam(http, saml_idp, starter_library=True)
    email = team.email()
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        page.goto(server.url + "/signin")
        page.get_by_role("button", name="Sign in with SSO").click()
        page.fill("#sso-name", email)  # found by the e-mail's domain
        page.get_by_role("button", name="Continue with SSO").click()
        page.wait_for_selector("input[name=email]")  # the SAML IdP's page
        page.fill("input[name=email]", email)
        page.get_by_role("button", name="Sign in").click()  # it POSTs the signed answer back
        page.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        stored = json.loads(page.evaluate("localStorage.getItem('bl.signin')"))
        assert stored["account"]["user"]["email"] == email and stored["account"]["role"] == "viewer"
        shot(page, "sso-05-saml-signed-in")
    finally:
        ctx.close()

    saml_idp.next_answer = {"forged": True}
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        page.goto(server.url + "/signin")
        page.get_by_role("button", name="Sign in with SSO").click()
        page.fill("#sso-name", team.slug)
        page.get_by_role("button", name="Continue with SSO").click()
        page.fill("input[name=email]", email)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Single sign-on failed")
        expect(page.get_by_role("alert")).to_contain_text("signature")
        assert page.evaluate("localStorage.getItem('bl.signin')") is None
    finally:
        saml_idp.next_answer = {}
        ctx.close()

    # The admin tab shows the SAML set-up: the IdP's metadata and where Branchline's is.
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, team.tenant.owner_email, STRONG_PASSWORD)
        page.goto(server.url + "/admin/sso")
        expect(page.locator("#sso-protocol")).to_have_value("saml")
        expect(page.get_by_test_id("sso-sp-metadata")).to_have_text(team.settings["saml"]["sp_metadata_url"])
        expect(page.locator("#sso-metadata")).to_have_value(saml_idp.metadata())
    finally:
        ctx.close()


def test_an_invitee_of_a_team_that_requires_sso_joins_without_a_password(browser, http, server, idp):
    team = SsoTeam(http, idp)
    email = team.email("invitee")
    r = http.post(
        "/api/v1/users/invite",
        json={"email": email, "role": "engineer", "display_name": "Ines"},
        headers=team.tenant.headers,
    )
    assert r.status_code == 201, r.text
    link = r.json()["invite_url"]
    assert team.configure(require_sso=True, break_glass_emails=[team.tenant.owner_email]).status_code == 200
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        page.goto(link)
        page.get_by_label("Choose a password").fill(STRONG_PASSWORD)
        page.get_by_role("button", name="Set password and join").click()
        # Not "Could not accept the invitation": it is accepted, and the way in is SSO.
        expect(page.get_by_role("heading", name="You joined")).to_be_visible(timeout=30000)
        expect(page.get_by_role("status")).to_contain_text("accepted")
        expect(page.get_by_role("status")).to_contain_text(team.slug)
        assert page.evaluate("localStorage.getItem('bl.signin')") is None  # no password session
        shot(page, "mobile-sso-invite-accepted")
        page.get_by_role("link", name="Sign in with SSO").click()
        expect(page.get_by_role("button", name="Sign in with SSO")).to_be_visible()
    finally:
        ctx.close()


def test_an_admin_reads_the_sso_settings_but_only_an_owner_changes_them(browser, http, server, idp):
    team = SsoTeam(http, idp, starter_library=True)
    admin = team.tenant.add_user("admin", unique_email("admin"))
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, admin.email, STRONG_PASSWORD)
        page.goto(server.url + "/admin/sso")
        expect(page.locator("#sso-slug")).to_have_value(team.slug)
        expect(page.get_by_role("note")).to_contain_text("Only an owner can change single sign-on")
        expect(page.locator("#sso-slug")).to_be_disabled()
        expect(page.get_by_role("button", name="Save single sign-on")).to_be_disabled()
        # The admin sees each domain's proof, but verifying is the owners' too.
        expect(page.locator(f"[data-testid=sso-domain][data-domain='{team.domain}']")).to_contain_text(
            "Verified"
        )
        expect(page.get_by_role("button", name=f"Verify {team.domain}")).to_have_count(0)
        shot(page, "sso-05-admin-reads")
    finally:
        ctx.close()
