"""The sync badge tells the truth: with the network up but the server out of reach (a captive
portal answering every request with its login page), it never says Online, "Last sync" does
not move while changes are pending, and the pending count is what the engineer did (a note
saved several times while typing is one change)."""

from __future__ import annotations

from tests.browser.conftest import (
    MOBILE,
    answer_step,
    app_context,
    shortest_run,
    shot,
    sign_in,
    start_session,
    wait_synced,
)
from tests.conftest import Tenant

TREE_ID = "tree:dns-resolution-failure"
PORTAL = (
    "<!doctype html><title>Hotel Wi-Fi</title>"
    "<form>Accept the terms to get online <button>Accept</button></form>"
)
BADGE = "[data-testid=sync-status]"


def _last_sync(page) -> str:
    page.click(BADGE)
    text = page.inner_text("[role=dialog] [data-testid=last-sync]")
    page.keyboard.press("Escape")
    page.wait_for_selector("[role=dialog]", state="detached")
    return text


def _wait_for_more(page, hits: list[str], seen: int, timeout_ms: int = 15000) -> None:
    """Until the portal answered more requests than `seen`. Polled through Playwright, whose
    route handlers run only while the test is inside a Playwright call."""
    waited = 0
    while len(hits) <= seen:
        assert waited < timeout_ms, "the app never tried the server"
        page.wait_for_timeout(100)
        waited += 100


def _sync_now(page) -> None:
    page.click(BADGE)
    page.click("[role=dialog] button:has-text('Sync now')")
    page.keyboard.press("Escape")
    page.wait_for_selector("[role=dialog]", state="detached")


def test_a_captive_portal_is_not_online_and_last_sync_waits_for_the_server(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = http.get(f"/api/v1/trees/{TREE_ID}/versions/1", headers=engineer.headers).json()["tree"]
    node_id, answer, nxt = shortest_run(tree)[0]
    # No service worker: Playwright's routes (the portal) then see every request the page makes.
    ctx = app_context(browser, MOBILE, service_workers="block")
    page = ctx.new_page()
    hits: list[str] = []

    def portal(route):
        hits.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=PORTAL)

    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        sid = start_session(page, tree["title"], "CAPTIVE-1")
        wait_synced(page)
        before = _last_sync(page)

        # The hotel's Wi-Fi: the browser is online, every request gets the login page.
        for pattern in ("**/sync/**", "**/api/**", "**/healthz"):
            ctx.route(pattern, portal)
        page.fill("#step-notes", "Clients fail to resolve")
        page.locator("#step-notes").blur()
        page.wait_for_selector("[data-testid=note-status]:has-text('Saved')")
        page.fill("#step-notes", "Clients fail to resolve intranet names")
        page.locator("#step-notes").blur()
        page.wait_for_selector("[data-testid=note-status]:has-text('Saved')")
        answer_step(page, tree, node_id, answer, nxt)
        seen = len(hits)
        _sync_now(page)
        _wait_for_more(page, hits, seen)
        page.wait_for_selector(f"{BADGE}[data-online='no']", timeout=15000)
        assert "Online" not in page.inner_text(BADGE)
        shot(page, "mobile-sync-captive-portal")
        # Two things done: one note (saved twice while typing) and one answer.
        assert page.inner_text("[data-testid=pending-count]") == "2"
        page.click(BADGE)
        assert "Wi-Fi sign-in page" in page.inner_text("[role=dialog] [data-testid=sync-connection]")
        shot(page, "mobile-sync-captive-portal-sheet")
        page.keyboard.press("Escape")
        assert _last_sync(page) == before

        # A reload behind the portal starts out just as honest.
        seen = len(hits)
        page.reload()
        page.wait_for_selector("[data-testid=step-card]")
        _wait_for_more(page, hits, seen)
        page.wait_for_selector(f"{BADGE}[data-online='no']", timeout=15000)
        assert "Online" not in page.inner_text(BADGE)
        assert page.inner_text("[data-testid=pending-count]") == "2"

        # Through the portal: the server answers, everything arrives on its own (the app keeps
        # retrying), and only now is it synced.
        ctx.unroute_all()
        wait_synced(page, timeout=40000)
        assert "Online" in page.inner_text(BADGE)
        assert _last_sync(page) != before
        state = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()
        assert [n["text"] for ns in state["notes"].values() for n in ns] == [
            "Clients fail to resolve intranet names"
        ]
        assert [s["node_id"] for s in state["path"]] == [node_id]
    finally:
        ctx.close()
