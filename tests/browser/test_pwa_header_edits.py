"""Issue 14: header edits merge as promised. Two devices of the same engineer are offline; the
phone changes the session's ticket, the laptop (later) changes only its title, each through
the Session sheet's "Ticket and title" form. Once both are online again, every device and the
server show the phone's ticket and the laptop's title: the laptop's save did not mark the
ticket it left alone as edited, so it cannot undo the phone's change."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, app_context, shot, sign_in, start_session, wait_synced
from tests.conftest import Tenant, wait_until

TREE_TITLE = "Print Spooler Failures"
OLD_TICKET = "T20261203.0001"
NEW_TICKET = "T20261203.0099"
NEW_TITLE = "PRN-02 spooler crash after KB5034441"


def edit_details(page, ticket: str | None = None, title: str | None = None) -> None:
    page.get_by_role("button", name="Session", exact=True).click()
    page.get_by_role("dialog", name="Session").get_by_role(
        "button", name=re.compile("Edit ticket and title")
    ).click()
    details = page.get_by_role("dialog", name="Ticket and title")
    if ticket is not None:
        details.get_by_label("Ticket number").fill(ticket)
    if title is not None:
        details.get_by_label("Title").fill(title)
    details.get_by_role("button", name="Save", exact=True).click()
    expect(details).to_be_hidden()


def test_ticket_on_one_device_and_title_on_the_other_both_survive_offline_edits(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    phone_ctx = app_context(browser, MOBILE)
    desk_ctx = app_context(browser, DESKTOP)
    try:
        phone = phone_ctx.new_page()
        desk = desk_ctx.new_page()
        sign_in(phone, server.url, engineer.email, engineer.password)
        sid = start_session(phone, TREE_TITLE, OLD_TICKET)
        wait_synced(phone)
        sign_in(desk, server.url, engineer.email, engineer.password)
        desk.goto(server.url + f"/s/{sid}")
        expect(desk.get_by_text(OLD_TICKET)).to_be_visible(timeout=30000)

        phone_ctx.set_offline(True)
        desk_ctx.set_offline(True)
        edit_details(phone, ticket=NEW_TICKET)
        expect(phone.get_by_text(NEW_TICKET)).to_be_visible()
        # The laptop saves after the phone, leaving the ticket it shows (the old one) as it was.
        edit_details(desk, title=NEW_TITLE)
        expect(desk.get_by_test_id("session-title")).to_have_text(NEW_TITLE)

        phone_ctx.set_offline(False)
        desk_ctx.set_offline(False)
        for page in (phone, desk):
            expect(page.get_by_test_id("session-title")).to_have_text(NEW_TITLE, timeout=30000)
            expect(page.get_by_text(NEW_TICKET)).to_be_visible(timeout=30000)
            expect(page.get_by_text(OLD_TICKET)).to_have_count(0)
        shot(desk, "desktop-30-header-edits-merged")

        def merged_on_server():
            header = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()["header"]
            return header if not header.get("_conflicts") and header.get("history") else None

        header = wait_until(merged_on_server, message="the header merged on the server")
        assert (header["ticket"], header["title"]) == (NEW_TICKET, NEW_TITLE)
        wait_synced(phone)
        wait_synced(desk)
    finally:
        phone_ctx.close()
        desk_ctx.close()
