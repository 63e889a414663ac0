"""First load on a phone: an engineer opening a session link in a fresh browser profile gets
the runner from a small, compressed download without the tree editor's code, and the service
worker still precaches every chunk, so an author's editor opens offline after a first visit."""

from __future__ import annotations

import json

from tests.browser.conftest import MOBILE, app_context, sign_in, wait_for_service_worker
from tests.browser.network import PageTransfers
from tests.conftest import Tenant

TREE_ID = "tree:sonicwall-vpn-tunnel-down"
JS_LIMIT = 250 * 1024
# A test id only the dashboard's chart code carries (pwa/src/insights/SessionsChart.tsx).
DASHBOARD_MARK = "sessions-chart"
INTERACTIVE = "[data-testid=step-card] button[data-answer]:enabled, [data-testid=step-card] #step-input"


def signed_in_state(browser, base_url: str, user) -> str:
    """The PWA's stored sign-in for `user`, taken from a throwaway profile."""
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, base_url, user.email, user.password)
        return page.evaluate("localStorage.getItem('bl.signin')")
    finally:
        ctx.close()


def test_runner_first_load_is_small_compressed_and_without_the_editor(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    r = http.post("/api/v1/sessions", headers=engineer.headers, json={"tree_id": TREE_ID, "ticket": "T-1300"})
    assert r.status_code == 201, r.text
    sid = r.json()["session_id"]
    signin = signed_in_state(browser, server.url, engineer)

    # A fresh profile (empty HTTP cache, no service worker yet) opens the session's link.
    ctx = app_context(browser, MOBILE)
    ctx.add_init_script(f"localStorage.setItem('bl.signin', {json.dumps(signin)});")
    try:
        page = ctx.new_page()
        transfers = PageTransfers(page)
        page.goto(f"{server.url}/s/{sid}")
        page.wait_for_selector(INTERACTIVE, timeout=30000)
        transfers.settle()
        scripts = transfers.scripts()
        assert scripts, "the runner loaded no script from the server"

        sent = sum(t.transferred for t in scripts)
        listing = ", ".join(
            f"{t.name} {t.transferred} B ({t.content_encoding or 'identity'})" for t in scripts
        )
        assert sent <= JS_LIMIT, f"the runner's first load transferred {sent} B of JavaScript: {listing}"

        fetched = [t.name for t in transfers.by_id.values()]
        assert not [n for n in fetched if n.startswith("TreeEditor")], (
            f"the runner fetched the editor: {fetched}"
        )
        # Nor the dashboard's charts: not their chunks, and not their code bundled into a chunk
        # the runner does load (an eager import would put it in the entry chunk).
        assert not [n for n in fetched if n.startswith("Insights")], (
            f"the runner fetched the dashboard: {fetched}"
        )
        for t in scripts:
            body = http.get(t.url).text
            assert DASHBOARD_MARK not in body, f"{t.name}, loaded by the runner, holds the dashboard's charts"

        # Every script and stylesheet worth compressing crossed the wire compressed.
        assets = [
            t
            for t in transfers.by_id.values()
            if t.resource_type in ("Script", "Stylesheet") and t.status == 200 and t.raw > 1024
        ]
        assert {t.resource_type for t in assets} == {"Script", "Stylesheet"}
        uncompressed = [t.name for t in assets if t.content_encoding not in ("br", "gzip")]
        assert not uncompressed, f"sent without Content-Encoding: {uncompressed}"
        assert all(t.transferred < t.raw for t in assets), listing
    finally:
        ctx.close()


def test_editor_opens_offline_after_a_first_visit(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    author = tenant.add_user("author")
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, author.email, author.password)
        wait_for_service_worker(page)

        ctx.set_offline(True)
        transfers = PageTransfers(page)
        page.goto(server.url + "/editor")
        page.wait_for_selector("h1:has-text('Edit trees')")
        # The editor screen fetches the tree editor's code ahead of the first click: offline,
        # the service worker's precache answers it, decoded and complete.
        page.wait_for_function(
            "() => performance.getEntriesByType('resource')"
            ".some(e => /\\/TreeEditor-[^/]*\\.js$/.test(e.name) && e.responseEnd > 0)"
        )
        transfers.settle()
        editor = [
            t for t in transfers.by_id.values() if t.name.startswith("TreeEditor") and t.name.endswith(".js")
        ]
        assert editor and editor[0].from_service_worker
        assert editor[0].raw > 100 * 1024, editor
    finally:
        ctx.close()
