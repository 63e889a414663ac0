"""The admins' Integrations screen: webhooks created, tested, read, retried, edited and deleted
from the PWA against a real receiver; who sees the page; how it reads offline.

The receiver listens on 127.0.0.1, so this module's server allows private targets. A failed
message is tried again after 0.3 s and then waits a minute: the log shows it queued, and the
test retries it by hand.
"""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook

from tests.browser.conftest import DESKTOP, MOBILE, app_context, assert_accessible, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant, wait_until
from tests.sessions.test_sessions_api import publish_tree
from tests.trees.factories import valid_tree

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_WEBHOOK_RETRY_SCHEDULE": "0.3,60",
}


def deliveries(http, tenant, hook_id: str) -> list[dict]:
    r = http.get(f"/api/v1/webhooks/{hook_id}/deliveries?limit=200", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def delivery_of(http, tenant, hook_id: str, event_type: str, predicate) -> dict:
    return wait_until(
        lambda: next(
            (d for d in deliveries(http, tenant, hook_id) if d["event_type"] == event_type and predicate(d)),
            None,
        ),
        timeout=20,
        message=f"a {event_type} delivery in the log",
    )


def only_hook(http, tenant) -> dict:
    items = http.get("/api/v1/webhooks", headers=tenant.headers).json()["items"]
    assert len(items) == 1, items
    return items[0]


def test_admin_creates_tests_reads_retries_edits_and_deletes_a_webhook(browser, http, server, receiver):
    tenant = Tenant(http)
    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin")
        page.click("nav[aria-label='Team admin'] >> text=Integrations")
        page.wait_for_selector("text=No webhooks yet")
        assert page.get_attribute("a:has-text('Manage API keys')", "href") == "/admin/keys"

        # The server's refusal is shown at the URL field, in its words; the dialog stays open.
        page.click("button:has-text('+ New webhook')")
        page.fill("#wh-url", "ftp://files.example.com/in")
        page.click("[role=dialog] button:has-text('Create webhook')")
        error = page.locator("#wh-url-error")
        error.wait_for()
        assert "url must start with https:// (or http://), not ftp" in error.inner_text()
        assert page.get_attribute("#wh-url", "aria-describedby").startswith("wh-url-error")

        page.fill("#wh-url", receiver.url)
        page.check("label:has-text('tree.published') input")
        page.fill("#wh-description", "Tells the PSA about new tree versions")
        shot(page, "integrations-01-create-desktop")
        assert_accessible(page, "the new-webhook dialog")
        page.click("[role=dialog] button:has-text('Create webhook')")

        # The secret, once, with the warning; it verifies the deliveries.
        page.wait_for_selector("[role=dialog] >> text=You will not see this secret again")
        secret = page.text_content("[data-testid=webhook-secret]").strip()
        assert secret.startswith("whsec_")
        page.click("[role=dialog] button:has-text('Copy')")
        page.wait_for_selector("[role=dialog] button:has-text('Copied')")
        assert page.evaluate("navigator.clipboard.readText()") == secret
        page.click("[role=dialog] button:has-text('I have stored it')")
        page.wait_for_selector("[role=dialog]", state="detached")
        assert secret not in page.content()

        card = page.locator("[data-testid=webhook]")
        host = f"127.0.0.1:{receiver.port}"
        assert card.locator("h3").inner_text() == host
        assert card.locator("[data-testid=webhook-status]").inner_text() == "Active"
        assert "Tells the PSA about new tree versions" in card.inner_text()
        card.locator("[data-testid=last-delivery]:has-text('None yet')").wait_for()
        hook = only_hook(http, tenant)
        assert hook["events"] == ["session.completed", "tree.published"] and hook["preset"] == "standard"

        # Send test: the receiver's status and answer.
        card.locator("button:has-text('Send test')").click()
        result = card.locator("[data-testid=test-result]")
        result.wait_for()
        assert f"{host} answered HTTP 200" in result.inner_text()
        assert card.locator("[data-testid=test-body]").inner_text() == '{"ok": true}'
        (test_msg,) = receiver.of_type("webhook.test")
        Webhook(secret).verify(test_msg.body, test_msg.headers)

        # A published tree reaches the receiver and the log.
        publish_tree(http, tenant)
        delivery_of(http, tenant, hook["id"], "tree.published", lambda d: d["status"] == "delivered")
        card.locator("button:has-text('Delivery log')").click()
        log = card.locator("[data-testid=delivery-log]")
        published = log.locator("[data-testid=delivery][data-event='tree.published']")
        published.wait_for()
        assert published.get_attribute("data-status") == "delivered"
        assert "HTTP 200" in published.inner_text() and "1 attempt" in published.inner_text()
        published.locator("summary:has-text('What was sent')").click()
        sent = json.loads(published.locator("[data-testid=delivery-payload]").inner_text())
        assert sent["type"] == "tree.published" and sent["data"]["version"] == 1
        Webhook(secret).verify(
            receiver.of_type("tree.published")[0].body, receiver.of_type("tree.published")[0].headers
        )
        events = [e.get_attribute("data-event") for e in log.locator("[data-testid=delivery]").all()]
        assert sorted(events) == ["tree.published", "webhook.test"]

        # The receiver breaks: the next message fails twice and waits, with the answer shown as text.
        receiver.status = 500
        receiver.answer = b"<b>boom</b> receiver down"
        publish_tree(http, tenant, {**valid_tree(), "_id": "tree:second", "title": "Second tree"})
        failed = delivery_of(
            http,
            tenant,
            hook["id"],
            "tree.published",
            lambda d: d["attempt_count"] >= 2 and d["status"] == "pending",
        )
        log.locator("button:has-text('Refresh')").click()
        row = log.locator("[data-testid=delivery][data-status=pending]")
        row.wait_for()
        assert "HTTP 500" in row.inner_text() and "2 attempts" in row.inner_text()
        assert row.locator("[data-testid=delivery-status]").inner_text() == "Queued"
        row.locator('summary:has-text("Receiver\'s answer")').click()
        assert row.locator("[data-testid=delivery-body]").inner_text() == "<b>boom</b> receiver down"
        assert row.locator("[data-testid=delivery-body] b").count() == 0
        shot(page, "integrations-02-log-desktop")
        assert_accessible(page, "the Integrations page with a delivery log")

        # Fixed: Retry sends it now, and the row follows it to the receiver's answer.
        receiver.status = 200
        receiver.answer = b'{"ok": true}'
        row.locator("button:has-text('Retry')").click()
        retried = log.locator("[data-testid=delivery]:has([data-testid=retry-note])")
        retried.locator("[data-testid=retry-note]:has-text('Retried: Delivered: HTTP 200.')").wait_for(
            timeout=30000
        )
        assert retried.get_attribute("data-status") == "delivered"
        assert [d["status"] for d in deliveries(http, tenant, hook["id"]) if d["id"] == failed["id"]] == [
            "delivered"
        ]
        card.locator("[data-testid=last-delivery]:has-text('Delivered: HTTP 200')").wait_for()

        # Edit: events, description, deliveries off.
        card.locator("button:has-text('Edit')").click()
        page.uncheck("[role=dialog] label:has-text('session.completed') input")
        page.fill("#wh-description", "Tree versions only")
        page.uncheck("[role=dialog] label:has-text('Deliveries on') input")
        page.click("[role=dialog] button:has-text('Save changes')")
        card.locator("[data-testid=webhook-status]:has-text('Disabled')").wait_for()
        assert "Tree versions only" in card.inner_text()
        hook = only_hook(http, tenant)
        assert (hook["events"], hook["description"], hook["enabled"]) == (
            ["tree.published"],
            "Tree versions only",
            False,
        )

        # Delete, after a confirmation.
        card.locator("button:has-text('Delete')").click()
        page.wait_for_selector(f"[role=dialog] >> text=Delete the webhook to {host}?")
        page.click("[role=dialog] button:has-text('Delete webhook')")
        page.wait_for_selector("text=No webhooks yet")
        assert http.get("/api/v1/webhooks", headers=tenant.headers).json()["items"] == []
    finally:
        ctx.close()


def test_the_delivery_log_pages_with_load_more_newest_first(browser, http, server, receiver):
    tenant = Tenant(http)
    r = http.post(
        "/api/v1/webhooks", headers=tenant.headers, json={"url": receiver.url, "events": ["tree.published"]}
    )
    assert r.status_code == 201, r.text
    hook_id = r.json()["id"]
    for _ in range(23):
        assert http.post(f"/api/v1/webhooks/{hook_id}/test", headers=tenant.headers).status_code == 200
    newest_first = [d["id"] for d in deliveries(http, tenant, hook_id)]
    assert len(newest_first) == 23

    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin/integrations")
        page.click("[data-testid=webhook] button:has-text('Delivery log')")
        rows = page.locator("[data-testid=delivery]")
        page.wait_for_function("() => document.querySelectorAll('[data-testid=delivery]').length === 20")
        page.click("button:has-text('Load more')")
        page.wait_for_function("() => document.querySelectorAll('[data-testid=delivery]').length === 23")
        assert page.locator("button:has-text('Load more')").count() == 0
        shown = page.eval_on_selector_all(
            "[data-testid=delivery]",
            "rows => rows.map(r => r.querySelector('[data-testid=delivery-code]').textContent)",
        )
        assert shown == ["HTTP 200"] * 23
        assert rows.count() == 23
    finally:
        ctx.close()


def test_engineers_do_not_see_integrations_and_admins_are_told_when_offline(browser, http, server, receiver):
    tenant = Tenant(http)
    engineer = tenant.add_user("engineer")
    http.post(
        "/api/v1/webhooks",
        headers=tenant.headers,
        json={"url": receiver.url, "events": ["session.completed"]},
    )

    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        assert page.locator("nav[aria-label=Main] >> text=Team").count() == 0
        page.goto(server.url + "/admin/integrations")
        page.wait_for_selector("[role=alert] >> text=Admins only")
        assert "managed by your team's owners and admins" in page.inner_text("[role=alert]")
        assert page.locator("[data-testid=webhook]").count() == 0
    finally:
        ctx.close()

    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.locator("nav[aria-label=Main] >> text=Team").last.click()
        page.click("nav[aria-label='Team admin'] >> text=Integrations")
        card = page.locator("[data-testid=webhook]")
        card.wait_for()
        assert card.locator("h3").inner_text() == f"127.0.0.1:{receiver.port}"
        card.locator("[data-testid=last-delivery]:has-text('None yet')").wait_for()
        # On a phone the page fits the width: nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "integrations-03-mobile")
        assert_accessible(page, "the Integrations page on a phone")
        assert page.locator("nav[aria-label='Team admin'] a:visible").all_inner_texts() == [
            "Members",
            "API keys",
            "Integrations",
            "Single sign-on",
            "Brand",
            "Usage",
            "Backups",
            "Audit log",
        ]
        page.click("button:has-text('+ New webhook')")
        page.wait_for_selector("[role=dialog] #wh-url")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "integrations-05-create-mobile")
        page.keyboard.press("Escape")
        page.wait_for_selector("[role=dialog]", state="detached")

        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=offline-note] >> text=You are offline.")
        assert page.locator("button:has-text('+ New webhook')").is_disabled()
        assert card.locator("button:has-text('Send test')").is_disabled()
        shot(page, "integrations-04-offline-mobile")
        ctx.set_offline(False)
        page.wait_for_selector("[data-testid=offline-note]", state="detached")
        assert card.locator("button:has-text('Send test')").is_enabled()
    finally:
        ctx.close()
