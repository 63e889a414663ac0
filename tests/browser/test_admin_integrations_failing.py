"""A failing webhook on the Integrations screen: its badge, since when and why, what a retry
does while it is paused, and resuming it from the edit dialog once the receiver is fixed.

One retry 0.3 s after the first attempt, so a broken receiver spends the schedule at once.
"""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, app_context, assert_accessible, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant, wait_until
from tests.sessions.test_sessions_api import publish_tree

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_WEBHOOK_RETRY_SCHEDULE": "0.3",
}


def test_a_failing_webhook_says_why_retries_at_once_and_resumes_from_the_edit_dialog(
    browser, http, server, receiver
):
    tenant = Tenant(http)
    receiver.status = 503
    receiver.answer = b"maintenance until 22:00"
    r = http.post(
        "/api/v1/webhooks", headers=tenant.headers, json={"url": receiver.url, "events": ["tree.published"]}
    )
    assert r.status_code == 201, r.text
    hook_id = r.json()["id"]
    publish_tree(http, tenant)
    wait_until(
        lambda: http.get(f"/api/v1/webhooks/{hook_id}", headers=tenant.headers).json()["status"] == "failing",
        timeout=20,
        message="the webhook failing",
    )

    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin/integrations")
        card = page.locator("[data-testid=webhook]")
        card.locator("[data-testid=webhook-status]:has-text('Failing')").wait_for()
        note = card.locator("[data-testid=failing-note]")
        assert "Failing since" in note.inner_text() and "the receiver answered 503" in note.inner_text()
        card.locator("[data-testid=last-delivery]:has-text('Failed: HTTP 503')").wait_for()

        # A retry while the webhook is failing goes out at once; the receiver is still down,
        # and the row says what it answered.
        card.locator("button:has-text('Delivery log')").click()
        row = card.locator("[data-testid=delivery][data-status=failed]")
        row.wait_for()
        row.locator("button:has-text('Retry')").click()
        card.locator("[data-testid=retry-note]:has-text('Retried: Failed: HTTP 503')").wait_for()
        shot(page, "integrations-05-failing-desktop")
        assert_accessible(page, "a failing webhook with its log")

        # Fixed: the edit dialog explains what resuming does, and resuming sends what queued.
        receiver.status = 200
        card.locator("button:has-text('Edit')").click()
        dialog = page.locator("[role=dialog]")
        dialog.locator("text=Resuming sends everything that queued meanwhile").wait_for()
        dialog.locator("label:has-text('Resume deliveries when I save') input").check()
        dialog.locator("button:has-text('Save changes')").click()
        card.locator("[data-testid=webhook-status]:has-text('Active')").wait_for()
        assert card.locator("[data-testid=failing-note]").count() == 0
        # The message retried while the receiver was down stays failed; retried now, it goes.
        row.locator("button:has-text('Retry')").click()
        card.locator("[data-testid=retry-note]:has-text('Retried: Delivered: HTTP 200')").wait_for()
        card.locator("[data-testid=last-delivery]:has-text('Delivered: HTTP 200')").wait_for()
    finally:
        ctx.close()
