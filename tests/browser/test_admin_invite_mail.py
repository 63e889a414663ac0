"""An admin invites someone from the Members page of a server that sends e-mail: the page says
the invitation was e-mailed and lists it as sent; the invitee opens the link from the message
the (real, aiosmtpd) mail server received and joins in the browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, app_context, assert_accessible, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.browser.test_pwa_accept_invite import invite_from_team_page
from tests.conftest import STRONG_PASSWORD, Tenant, unique_email
from tests.mail.smtp import SmtpServer, env_for, running, server_knowing_its_address

SMTP = SmtpServer()
# The server's SMTP client waits out a held message (the hold lasts until the page has shown
# "Sending"): a timeout would send it again, and the mailbox would hold two.
SERVER_ENV = env_for(SMTP, BRANCHLINE_SMTP_TIMEOUT_SECONDS="90")
TEAM = "Tailspin Managed IT"

smtp = running(SMTP)
server = server_knowing_its_address(SERVER_ENV)


def test_an_invitation_is_emailed_and_its_link_lets_the_invitee_join(browser, http, server, smtp):
    tenant = Tenant(http, name=TEAM, starter_library=True)
    r = http.put(
        "/api/v1/tenant/brand", headers=tenant.headers, json={"name": "Tailspin", "primary_color": "#0f766e"}
    )
    assert r.status_code == 200, r.text
    admin_ctx = app_context(browser, DESKTOP)
    invitee_ctx = app_context(browser, MOBILE)
    try:
        admin = admin_ctx.new_page()
        sign_in(admin, server.url, tenant.owner_email, tenant.password)
        admin.goto(server.url + "/admin")
        admin.get_by_test_id("user-row").first.wait_for()
        expect(admin.get_by_test_id("sent-mail")).to_contain_text("Nothing e-mailed yet.")

        email = unique_email("mailed")
        smtp.hold.add(email)  # the mail server keeps the message open: the page sees it on its way
        shown_link = invite_from_team_page(admin, email, "Mara")  # still there to copy
        expect(admin.get_by_test_id("secret-box")).to_contain_text(f"Invitation e-mailed to {email}")

        row = admin.locator(f"[data-testid=mail-row][data-to='{email}']")
        expect(row).to_contain_text("[Tailspin]")
        expect(row.get_by_test_id("mail-status")).to_have_text("Sending", timeout=20000)
        smtp.hold.discard(email)
        # No Refresh: a row on its way follows its mail by itself (it once stayed at "Sending"
        # when the page read the outbox mid-delivery, and the admin had to think of Refresh).
        expect(row.get_by_test_id("mail-status")).to_have_text("Sent", timeout=20000)
        shot(admin, "admin-40-invitation-emailed")

        got = smtp.wait_for(email)
        assert len(got) == 1
        link = re.search(r"https?://\S+/accept-invite#token=\S+", got[0].text()).group(0)
        assert link == shown_link

        invitee = invitee_ctx.new_page()
        invitee.goto(link)
        expect(invitee.get_by_role("heading", name=f"Join {TEAM}")).to_be_visible(timeout=30000)
        expect(invitee.get_by_label("Email")).to_have_value(email)
        invitee.get_by_label("Choose a password").fill(STRONG_PASSWORD)
        invitee.get_by_role("button", name="Set password and join").click()
        invitee.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        r = http.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD})
        assert r.status_code == 200, r.text

        # The Members page with its sent e-mail fits a phone and stays accessible.
        phone = app_context(browser, MOBILE)
        try:
            page = phone.new_page()
            sign_in(page, server.url, tenant.owner_email, tenant.password)
            page.goto(server.url + "/admin")
            page.get_by_test_id("mail-row").first.wait_for()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert_accessible(page, "the Members page with sent e-mail on a phone")
            page.get_by_test_id("sent-mail").scroll_into_view_if_needed()
            shot(page, "mobile-41-sent-mail")
        finally:
            phone.close()
    finally:
        admin_ctx.close()
        invitee_ctx.close()


def test_a_forgotten_password_is_reset_from_the_emailed_link_on_a_phone(browser, http, server, smtp):
    tenant = Tenant(http, name=TEAM, starter_library=True)
    member = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        page.goto(server.url + "/signin")
        page.fill("#email", member.email)
        page.get_by_role("link", name="Forgot your password?").click()
        expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        expect(page.get_by_label("Email")).to_have_value(member.email)  # carried over from sign-in
        page.get_by_role("button", name="E-mail me a link").click()
        expect(page.get_by_test_id("reset-requested")).to_contain_text("valid 1 hour")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert_accessible(page, "the forgot-password answer on a phone")
        shot(page, "mobile-42-reset-requested")

        link = re.search(
            r"https?://\S+/reset-password#token=\S+", smtp.wait_for(member.email)[0].text()
        ).group(0)
        page.goto(link)
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible(timeout=30000)
        expect(page.get_by_label("Email")).to_have_value(member.email)
        page.get_by_label("New password").fill("short")
        page.get_by_role("button", name="Set password and sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("too short")
        page.get_by_label("New password").fill("a brand new long passphrase 77")
        assert_accessible(page, "the new-password form on a phone")
        page.get_by_role("button", name="Set password and sign in").click()
        page.wait_for_selector("[data-testid=tree-list]", timeout=30000)

        # The link is spent: opened again, it says so and offers a new one.
        page.goto(link)
        expect(page.get_by_role("alert")).to_contain_text("already used")
        expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    finally:
        ctx.close()
