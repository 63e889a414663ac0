"""The runner's Session sheet on a phone: an engineer renames a session and changes its ticket,
shares it with a teammate (sharing needs a connection: offline the sheet says so and keeps the
list), then abandons it with a reason. History shows the new title and "Abandoned"; the
teammate, signed in on another device, finds it under "Shared with me" and may read it but not
change who it is shared with (the sync policy's rule)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import MOBILE, app_context, shot, sign_in, start_session, wait_synced
from tests.conftest import STRONG_PASSWORD, Member, Tenant, unique_email, wait_until

TREE_TITLE = "Print Spooler Failures"
NEW_TITLE = "Spooler crash on PRN-02"
NEW_TICKET = "T20261126.0077"
REASON = "Duplicate of T20261126.0076"


def add_named_user(tenant: Tenant, http, role: str, display_name: str) -> Member:
    r = http.post(
        "/api/v1/users",
        headers=tenant.headers,
        json={
            "email": unique_email(role),
            "role": role,
            "password": STRONG_PASSWORD,
            "display_name": display_name,
        },
    )
    assert r.status_code == 201, r.text
    return Member(http, r.json(), STRONG_PASSWORD)


def open_session_sheet(page, item: str) -> None:
    page.get_by_role("button", name="Session", exact=True).click()
    page.get_by_role("dialog", name="Session").get_by_role("button", name=re.compile(item)).click()


def test_edit_share_and_abandon_from_the_session_sheet(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = add_named_user(tenant, http, "engineer", "Sam Runner")
    helper = add_named_user(tenant, http, "engineer", "Dana Helper")

    phone_ctx = app_context(browser, MOBILE)
    helper_ctx = app_context(browser, MOBILE)
    try:
        page = phone_ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        sid = start_session(page, TREE_TITLE, "T20261126.0001")

        # Ticket and title: an empty title is refused with a message, then the edit is saved.
        open_session_sheet(page, "Edit ticket and title")
        details = page.get_by_role("dialog", name="Ticket and title")
        details.get_by_label("Title").fill("   ")
        details.get_by_role("button", name="Save", exact=True).click()
        expect(details.get_by_role("alert")).to_contain_text("needs a title")
        details.get_by_label("Ticket number").fill(NEW_TICKET)
        details.get_by_label("Title").fill(NEW_TITLE)
        details.get_by_role("button", name="Save", exact=True).click()
        expect(details).to_be_hidden()
        expect(page.get_by_test_id("session-title")).to_have_text(NEW_TITLE)
        expect(page.get_by_text(NEW_TICKET)).to_be_visible()

        # Share with the teammate, picked from the directory.
        open_session_sheet(page, "Share with teammates")
        share = page.get_by_role("dialog", name="Share this session")
        share.get_by_label("Dana Helper").check()
        shot(page, "mobile-20-share-session")
        share.get_by_role("button", name="Save sharing").click()
        expect(share).to_be_hidden()
        wait_synced(page)

        # Offline, the sheet says sharing needs a connection and still lists who has access.
        phone_ctx.set_offline(True)
        open_session_sheet(page, "Share with teammates")
        share = page.get_by_role("dialog", name="Share this session")
        expect(share.get_by_text("You are offline")).to_be_visible()
        expect(share.get_by_test_id("shared-list")).to_contain_text("Dana Helper")
        share.get_by_role("button", name="Close", exact=True).last.click()
        expect(share).to_be_hidden()
        phone_ctx.set_offline(False)

        # Abandon with a reason: the runner turns read-only and says so.
        open_session_sheet(page, "Abandon session")
        confirm = page.get_by_role("dialog", name="Abandon this session?")
        confirm.get_by_label("Reason (optional)").fill(REASON)
        confirm.get_by_role("button", name="Abandon session").click()
        summary = page.get_by_test_id("session-summary")
        expect(summary).to_contain_text("Abandoned")
        expect(page.get_by_test_id("abandon-reason")).to_contain_text(REASON)
        expect(page.locator("[data-testid=step-card]")).to_have_count(0)
        shot(page, "mobile-21-session-abandoned")
        wait_synced(page)

        # History shows the new title with the status "Abandoned".
        page.goto(server.url + "/history")
        row = page.get_by_test_id("session-list").get_by_role("button", name=re.compile(re.escape(NEW_TITLE)))
        expect(row).to_contain_text("Abandoned")
        expect(row).to_contain_text(NEW_TICKET)

        # The server agrees: folded status, reason, header fields.
        def on_server():
            body = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()
            return body if body.get("status") == "abandoned" and body["header"].get("shared_with") else None

        body = wait_until(on_server, timeout=30, message="the abandoned, shared session on the server")
        assert body["header"]["title"] == NEW_TITLE
        assert body["header"]["ticket"] == NEW_TICKET
        assert body["header"]["status"] == "abandoned"
        assert body["header"]["shared_with"] == [helper.id]
        assert [h.get("reason") for h in body["history"] if h["type"] == "abandoned"] == [REASON]

        # The teammate, on their own device, finds it under "Shared with me".
        other = helper_ctx.new_page()
        sign_in(other, server.url, helper.email, helper.password)
        other.goto(server.url + "/history")
        other.get_by_role("tab", name="Shared with me").click()
        shared_row = other.get_by_test_id("session-list").get_by_role(
            "button", name=re.compile(re.escape(NEW_TITLE))
        )
        expect(shared_row).to_contain_text("Abandoned", timeout=30000)
        shared_row.click()
        expect(other.get_by_test_id("session-summary")).to_contain_text("Abandoned")
        # In shared_with they may write (reopen) but not change the sharing.
        expect(other.get_by_role("button", name="Reopen")).to_be_visible()
        open_session_sheet(other, "Who it is shared with")
        share = other.get_by_role("dialog", name="Share this session")
        expect(share.get_by_text("Only the session's owner or an admin")).to_be_visible()
        expect(share.get_by_role("checkbox")).to_have_count(0)
        shot(other, "mobile-22-shared-with-me")
    finally:
        phone_ctx.close()
        helper_ctx.close()
