"""The server's refusal of a private webhook target, shown at the URL field in its own words
(this module's server keeps the default: private, loopback and link-local targets refused)."""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, app_context
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant


def test_a_private_address_is_refused_next_to_the_url_field_in_the_servers_words(browser, http, server):
    tenant = Tenant(http)
    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin/integrations")
        page.click("button:has-text('+ New webhook')")
        page.fill("#wh-url", "http://10.20.30.40/branchline")
        page.click("[role=dialog] button:has-text('Create webhook')")
        error = page.locator("#wh-url-error")
        error.wait_for()
        refused = http.post(
            "/api/v1/webhooks",
            headers=tenant.headers,
            json={"url": "http://10.20.30.40/branchline", "events": ["session.completed"]},
        )
        assert refused.status_code == 400
        assert error.inner_text() == refused.json()["reason"]
        assert "private" in error.inner_text()
        assert page.get_attribute("#wh-url", "aria-invalid") == "true"
        assert page.locator("[role=dialog]").count() == 1  # still open, the input kept
        assert page.input_value("#wh-url") == "http://10.20.30.40/branchline"
        assert http.get("/api/v1/webhooks", headers=tenant.headers).json()["items"] == []
    finally:
        ctx.close()
