"""Invitations can be accepted in the app (issue 14). An admin invites someone from the Team
page; the pending invite reads "Invited, expires ..." and offers resend and cancel, never
"Reactivate". The invitee opens the link on a fresh device, sees the team and their address,
is told why a weak password is refused, sets a good one and lands signed in on the library.
A cancelled invitation still cannot be reactivated, only resent."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, app_context, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import STRONG_PASSWORD, Tenant, unique_email

TEAM = "Fabrikam Managed IT"


def invite_from_team_page(page, email: str, name: str) -> str:
    page.get_by_role("button", name="+ Add member").click()
    dialog = page.get_by_role("dialog", name="Add a member")
    dialog.get_by_label("E-mail").fill(email)
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_role("button", name="Create invitation").click()
    return page.get_by_test_id("secret").text_content()


def test_an_invitee_accepts_in_the_app_and_a_pending_invite_is_not_deactivated(browser, http, server):
    tenant = Tenant(http, name=TEAM, starter_library=True)
    admin_ctx = app_context(browser, DESKTOP)
    invitee_ctx = app_context(browser, MOBILE)
    try:
        admin = admin_ctx.new_page()
        sign_in(admin, server.url, tenant.owner_email, tenant.password)
        admin.goto(server.url + "/admin")
        admin.get_by_test_id("user-row").first.wait_for()

        email = unique_email("invitee")
        link = invite_from_team_page(admin, email, "Ines")
        assert link.startswith(server.url + "/accept-invite#token=")
        row = admin.locator(f"[data-testid=user-row][data-email='{email}']")
        expect(row.get_by_test_id("user-status")).to_contain_text("Invited, expires")
        expect(row).not_to_contain_text("deactivated")
        expect(row.get_by_role("button", name="Reactivate")).to_have_count(0)
        expect(row.get_by_role("button", name="Resend invitation")).to_be_visible()
        expect(row.get_by_role("button", name="Cancel invitation")).to_be_visible()
        shot(admin, "admin-03-pending-invite")

        invitee = invitee_ctx.new_page()
        invitee.goto(link)
        expect(invitee.get_by_role("heading", name=f"Join {TEAM}")).to_be_visible(timeout=30000)
        expect(invitee.get_by_label("Email")).to_have_value(email)
        expect(invitee.get_by_label("Your name")).to_have_value("Ines")
        invitee.get_by_label("Your name").fill("Ines Invitee")
        invitee.get_by_label("Choose a password").fill("short")
        invitee.get_by_role("button", name="Set password and join").click()
        expect(invitee.get_by_role("alert")).to_contain_text("too short")
        invitee.get_by_label("Choose a password").fill(STRONG_PASSWORD)
        shot(invitee, "mobile-30-accept-invite")
        invitee.get_by_role("button", name="Set password and join").click()
        invitee.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        assert invitee.url.rstrip("/") == server.url
        me = http.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD})
        assert me.status_code == 200, me.text

        # The admin's list now shows an ordinary member.
        admin.reload()
        row = admin.locator(f"[data-testid=user-row][data-email='{email}']")
        expect(row).to_contain_text("Ines Invitee")
        expect(row.get_by_test_id("user-status")).to_have_count(0)  # an ordinary active member
        expect(row.get_by_role("button", name="Deactivate")).to_be_visible()

        # A cancelled invitation: still no "Reactivate", only a new invitation.
        other = unique_email("cancelled")
        old_link = invite_from_team_page(admin, other, "Otto")
        row = admin.locator(f"[data-testid=user-row][data-email='{other}']")
        row.get_by_role("button", name="Cancel invitation").click()
        expect(row.get_by_test_id("user-status")).to_contain_text("Invitation cancelled")
        expect(row.get_by_role("button", name="Reactivate")).to_have_count(0)
        row.get_by_role("button", name="Resend invitation").click()
        expect(admin.get_by_test_id("secret")).not_to_have_text(old_link)
        expect(row.get_by_test_id("user-status")).to_contain_text("Invited, expires")

        # The cancelled link says so instead of showing a sign-in page.
        invitee.goto(old_link)
        expect(invitee.get_by_role("alert")).to_contain_text("not valid")
    finally:
        admin_ctx.close()
        invitee_ctx.close()
