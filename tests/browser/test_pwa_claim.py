"""A page the service worker does not control (its navigation began while the worker was
installing, as on the return from an identity provider, or a hard reload) asks the worker to
claim it: going offline right after, every screen still comes from the worker's cache."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import signed_in_page
from tests.conftest import Tenant

CONTROLLED = "() => navigator.serviceWorker.controller !== null"


def test_a_page_the_worker_did_not_claim_is_claimed_and_works_offline(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    with signed_in_page(browser, server.url, engineer, offline_ready=True) as (ctx, page):
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # Shift-reload: the browser fetches the page past the worker, which then does not
        # control it. Before, it stayed so until the next navigation.
        with page.expect_navigation(wait_until="load", timeout=30000):
            ctx.new_cdp_session(page).send("Page.reload", {"ignoreCache": True})
        page.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        page.wait_for_function(CONTROLLED, timeout=15000)

        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=sync-status][data-online='no']")
        page.get_by_role("link", name="Sessions").first.click()  # a screen loaded on first use
        expect(page).to_have_url(server.url + "/history")
        expect(page.get_by_role("heading", name="Sessions", level=1)).to_be_visible()
        page.reload()
        page.wait_for_selector("[data-testid=session-list], [data-testid=tree-list], h1", timeout=30000)
        expect(page.get_by_role("heading", name="Sessions", level=1)).to_be_visible()
        assert errors == []
