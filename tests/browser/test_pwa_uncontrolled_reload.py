"""A page the service worker does not control (after a hard reload, or a sign-in through an
identity provider whose return raced the worker's activation) still reloads offline: the
navigation goes through the active worker, which answers with the cached app shell."""

from __future__ import annotations

from tests.browser.conftest import MOBILE, app_context, sign_in, wait_for_service_worker, wait_synced
from tests.conftest import Tenant


def test_a_page_the_worker_does_not_control_reloads_offline(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_for_service_worker(page)
        wait_synced(page)

        # Shift-reload: the browser fetches the page past the service worker, which then does
        # not control it; the test helper's wait must still hold.
        with page.expect_navigation(wait_until="load", timeout=30000):
            ctx.new_cdp_session(page).send("Page.reload", {"ignoreCache": True})
        page.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        assert page.evaluate("navigator.serviceWorker.controller") is None
        wait_for_service_worker(page)

        ctx.set_offline(True)
        page.reload()
        page.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        page.wait_for_selector("[data-testid=sync-status][data-online='no']")
        assert page.evaluate("navigator.serviceWorker.controller !== null"), "the reload is the worker's"
        assert errors == []
    finally:
        ctx.close()
