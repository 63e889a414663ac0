"""Autotask PSA in the PWA: an admin connects it on the Integrations screen (the secret
write-only), tests the connection (the zone is found for the API user), sees a refused secret
as the connector's last error with the failed push waiting, fixes the secret and retries; the
fake Autotask (tests/integrations/fake_autotask.py) then holds the ticket, the note and the
time entry, and the status card shows the success.

The fake listens on 127.0.0.1 and plays Autotask's zone discovery host, so this module's
server allows private targets and discovers zones there.
"""

from __future__ import annotations

from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    answer_step,
    app_context,
    assert_accessible,
    finish_session,
    shortest_run,
    shot,
    sign_in,
    start_session,
)
from tests.conftest import Tenant, wait_until
from tests.integrations.fake_autotask import AT_PORT, DISCOVERY_ENV, FakeAutotask
from tests.integrations.helpers import configure, export_text, push
from tests.integrations.test_connectwise_push import completed_session
from tests.sessions.test_sessions_api import publish_tree
from tests.trees.factories import valid_tree

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.3,0.3",
    **DISCOVERY_ENV,
}


def fill_autotask(page, at: FakeAutotask, secret: str) -> None:
    page.fill("#at-api_user", at.api_user)
    page.fill("#at-integration_code", at.integration_code)
    page.fill("#at-secret", secret)
    page.fill("#at-company", str(at.companies[0]))
    page.fill("#at-queue_id", str(at.queues[0]))
    page.fill("#at-resource_id", "29682885")
    page.fill("#at-role_id", "29683461")


def test_admin_connects_autotask_tests_it_and_retries_a_push_the_secret_blocked(browser, http, server):
    at = FakeAutotask(
        port=AT_PORT, resources=[{"id": 29682885, "email": "x@example.invalid", "isActive": True}]
    )
    at.start()
    tenant = Tenant(http)
    tree_id = publish_tree(http, tenant)
    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin/integrations")
        page.wait_for_selector("[data-testid=at-status] >> text=Not set up")

        # A queue typed as a name is caught in the form, with what to type instead.
        fill_autotask(page, at, "wrong-secret")
        page.fill("#at-queue_id", "Tier 1")
        page.click("[data-testid=at-save]")
        page.wait_for_selector(
            "[data-testid=at-save-error] >> text=Queue id must be the number Autotask shows"
        )
        page.fill("#at-queue_id", str(at.queues[0]))
        page.click("[data-testid=at-save]")
        page.wait_for_selector("section[aria-labelledby=at-heading] [role=status]:has-text('Saved.')")
        assert page.input_value("#at-secret") == ""

        # Test connection: the zone is found, the wrong secret is refused, and the card says so.
        page.click("[data-testid=autotask-test]")
        page.wait_for_selector("[data-testid=autotask-test-result] >> text=Autotask refused the API user")
        page.wait_for_selector(
            "[data-testid=at-last-error] >> text=Check the API user name, secret and integration code"
        )
        page.wait_for_selector("[data-testid=at-status] >> text=Needs attention")
        page.wait_for_selector(f"[data-testid=at-zone] >> text=America West {at.zone}")
        assert len(at.discoveries()) >= 1

        # A completed session pushed meanwhile fails on the secret and waits for a retry.
        sid = completed_session(http, tenant, tree_id)
        push(http, tenant, sid, system="autotask", create_ticket=True)
        page.reload()
        failed = page.locator("[aria-label='Autotask pushes waiting'] [data-testid=psa-push]")
        failed.wait_for(timeout=30000)
        assert "Failed: Autotask refused the API user" in failed.inner_text()
        page.locator("#at-heading").scroll_into_view_if_needed()
        shot(page, "autotask-01-refused-desktop")
        assert_accessible(page, "the Integrations screen with Autotask needing attention")

        # The admin fixes the secret, tests again and retries the push.
        page.fill("#at-secret", at.secret)
        page.click("[data-testid=at-save]")
        page.wait_for_selector("section[aria-labelledby=at-heading] [role=status]:has-text('Saved.')")
        page.click("[data-testid=autotask-test]")
        page.wait_for_selector(
            f"[data-testid=autotask-test-result] >> text=Autotask answered (zone America West {at.zone})"
        )
        failed.get_by_role("button", name="Retry now").click()
        wait_until(lambda: at.tickets and at.entries, timeout=30, message="the ticket and its time entry")
        [(ticket_id, _)] = at.tickets.items()
        assert at.notes[ticket_id][0]["description"] == export_text(http, tenant, sid)
        page.wait_for_selector(
            f"[data-testid=at-last-success]:has-text('ticket #{ticket_id}')", timeout=30000
        )

        # The secret stays write-only after a reload; the form keeps the ids.
        page.reload()
        page.wait_for_selector("#at-api_user")
        assert page.input_value("#at-api_user") == at.api_user and page.input_value("#at-queue_id") == "8"
        assert page.get_attribute("#at-secret", "placeholder") == "•••••••• (set)"
        assert at.secret not in page.content()
        page.set_viewport_size(MOBILE)
        page.wait_for_selector("[data-testid=at-status] >> text=Connected")
        page.locator("#at-heading").scroll_into_view_if_needed()
        shot(page, "autotask-02-connected-mobile")
    finally:
        ctx.close()
        at.stop()


def test_an_engineer_sends_a_session_to_the_autotask_ticket_it_was_started_for(browser, http, server):
    at = FakeAutotask(port=AT_PORT).start()
    tenant = Tenant(http)
    engineer = tenant.add_user("engineer")
    tree = valid_tree()
    publish_tree(http, tenant, tree)
    at.resources.append({"id": 4242, "email": engineer.email, "isActive": True})
    at.roles.append({"id": 1, "resourceID": 4242, "roleID": 777, "isDefault": True, "isActive": True})
    configure(http, tenant, at.config(), system="autotask")
    existing = at.add_ticket("Printer on floor 3 offline")
    number = at.tickets[existing]["ticketNumber"]
    ctx = app_context(browser, MOBILE)
    phone = ctx.new_page()
    try:
        sign_in(phone, server.url, engineer.email, engineer.password)
        sid = start_session(phone, tree["title"], number)
        for node_id, ans, nxt in shortest_run(tree):
            answer_step(phone, tree, node_id, ans, nxt)
        finish_session(phone, "Cleared the queue.")

        # Only the PSA the team set up is offered, on the ticket the session was started for.
        phone.wait_for_selector("h2:has-text('Send to Autotask')")
        assert phone.locator("text=Send to ConnectWise").count() == 0
        field = phone.get_by_label("Autotask ticket number")
        assert field.input_value() == number
        assert_accessible(phone, "the export screen with Send to Autotask")
        field.fill("printer ticket")
        phone.click("[data-testid=psa-send-autotask]")
        phone.wait_for_selector("[data-testid=psa-error] >> text=Enter the Autotask ticket number")
        field.fill(number.lower())
        phone.click("[data-testid=psa-send-autotask]")
        # "Queued", or already the ticket once the pushed header synced back in its place
        phone.wait_for_selector("[data-testid=psa-queued], [data-testid=psa-ticket]")
        shot(phone, "autotask-03-queued-mobile")

        wait_until(lambda: at.entries, timeout=30, message="the note and time entry on the ticket")
        assert at.notes[existing][0]["description"] == export_text(http, engineer, sid)
        assert at.entries[0]["ticketID"] == existing and at.entries[0]["resourceID"] == 4242
        assert at.calls("POST", "Tickets") == []

        phone.goto(f"{server.url}/s/{sid}")
        link = phone.locator("[data-testid=psa-ticket]")
        link.wait_for(timeout=30000)
        assert link.inner_text().startswith(f"Autotask #{existing} · In Progress")
        assert link.get_attribute("href").startswith(at.web_url())
        shot(phone, "autotask-04-header-mobile")
    finally:
        ctx.close()
        at.stop()
