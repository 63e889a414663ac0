"""A read-only share link from the runner on a phone: the engineer makes a link (choosing how
long it works), copies it, and a client's contact opens it in a browser with no account and
sees the session's report, later notes included; the engineer revokes it and the same address
then says it was revoked. Opened on the engineer's own phone, where the app's service worker
answers navigations, the address still reaches the server's page, not the app."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import (
    MOBILE,
    answer_step,
    app_context,
    assert_accessible,
    shortest_run,
    shot,
    sign_in,
    start_session,
    wait_for_service_worker,
    wait_synced,
    write_note,
)
from tests.browser.test_pwa_runner import pinned_tree
from tests.conftest import Tenant

TICKET = "T20261203.0101"
FIRST_NOTE = "Front desk reports CTX-W11-07 unregistered since 08:40 <b>bold?</b>"
LATER_NOTE = "Re-registered DNS; the VDA shows Registered."


def open_share_dialog(page):
    """The runner's Session menu, then its "Share read-only link": the dialog."""
    page.get_by_role("button", name="Session", exact=True).click()
    menu = page.get_by_role("dialog", name="Session")
    menu.get_by_role("button", name=re.compile("Share read-only link")).click()
    return page.get_by_role("dialog", name="Share read-only link")


def test_share_a_read_only_link_open_it_without_an_account_then_revoke_it(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = pinned_tree(http, engineer)
    (first_node, first_answer, second_node), *_ = shortest_run(tree)

    phone = app_context(browser, MOBILE)
    guest = app_context(browser, MOBILE)
    try:
        # The phone's share sheet, as far as the page can see it: what it was handed.
        phone.add_init_script("navigator.share = async (data) => { window.sharedWithSheet = data; };")
        page = phone.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_for_service_worker(page)
        start_session(page, tree["title"], TICKET)
        write_note(page, FIRST_NOTE)
        answer_step(page, tree, first_node, first_answer, second_node)
        wait_synced(page)  # the link is made on the server, which must have the session

        dialog = open_share_dialog(page)
        expect(dialog.get_by_label("Link works for")).to_have_value("7")
        dialog.get_by_label("Link works for").select_option("1")
        dialog.get_by_role("button", name="Create link").click()
        url_box = dialog.get_by_test_id("share-link-url")
        expect(url_box).to_have_value(re.compile(r"/share/[A-Za-z0-9_-]{43}$"))
        url = url_box.input_value()
        dialog.get_by_role("button", name="Copy link").click()
        expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
        expect(dialog.get_by_role("status").filter(has_text="Copied to the clipboard")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == url
        dialog.get_by_role("button", name="Share…").click()
        page.wait_for_function("() => window.sharedWithSheet !== undefined")
        assert page.evaluate("window.sharedWithSheet.url") == url
        listed = dialog.get_by_test_id("share-links").locator("li")
        expect(listed).to_have_count(1)
        expect(listed.first).to_contain_text("Works until")
        expect(listed.first).to_contain_text("not opened yet")
        shot(page, "share-link-01-dialog")
        assert_accessible(page, "the share-link dialog")

        # The client's contact: a fresh browser, no account, no app.
        contact = guest.new_page()
        response = contact.goto(url)
        assert response is not None and response.status == 200
        expect(contact.get_by_text("Read-only view")).to_be_visible()
        expect(contact.locator("body")).to_contain_text(TICKET)
        expect(contact.locator("blockquote.note").first).to_have_text(FIRST_NOTE)  # text, not markup
        assert contact.locator("b").count() == 0
        assert contact.locator("button, input, textarea, script").count() == 0
        shot(contact, "share-link-02-contact-view")

        # Later work shows up when the contact looks again.
        page.keyboard.press("Escape")
        write_note(page, LATER_NOTE)
        wait_synced(page)
        contact.reload()
        expect(contact.locator("body")).to_contain_text(LATER_NOTE)

        # On the engineer's phone the service worker does not swallow the address.
        own = phone.new_page()
        own.goto(url)
        expect(own.get_by_text("Read-only view")).to_be_visible()
        own.close()

        # Revoke: the list says so, and the contact's next look says the link was revoked.
        dialog = open_share_dialog(page)
        row = dialog.get_by_test_id("share-links").locator("li").first
        expect(row).to_contain_text("first opened")
        row.get_by_role("button", name="Revoke").click()
        expect(row).to_have_attribute("data-state", "revoked")
        expect(row).to_contain_text("Revoked")
        shot(page, "share-link-03-revoked-in-list")

        response = contact.goto(url)
        assert response is not None and response.status == 410
        expect(contact.get_by_role("heading", name="Link no longer works")).to_be_visible()
        expect(contact.locator("body")).to_contain_text("revoked")
        expect(contact.locator("body")).not_to_contain_text(TICKET)
        shot(contact, "share-link-04-contact-revoked")
    finally:
        phone.close()
        guest.close()


def test_a_session_not_yet_on_the_server_says_to_wait_for_sync(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = pinned_tree(http, engineer)
    phone = app_context(browser, MOBILE)
    try:
        page = phone.new_page()
        page.clock.install()
        sign_in(page, server.url, engineer.email, engineer.password)
        # Nothing the device writes to the sessions database reaches the server.
        page.route(re.compile(r".*/sync/[^/]+/sessions/_bulk_docs.*"), lambda route: route.abort())
        start_session(page, tree["title"], "T20261203.0303")
        dialog = open_share_dialog(page)
        dialog.get_by_role("button", name="Create link").click()
        # It waits up to half a minute for the session to get there, saying so (the page's
        # clock jumps past that here), then says why not.
        expect(dialog.get_by_test_id("share-syncing")).to_be_visible()
        page.clock.fast_forward(31_000)
        alert = dialog.get_by_role("alert").first
        expect(alert).to_contain_text("has not reached the server yet", timeout=20000)
        expect(dialog.get_by_test_id("share-syncing")).to_have_count(0)
        expect(dialog.get_by_test_id("share-link-url")).to_have_count(0)
    finally:
        phone.close()
