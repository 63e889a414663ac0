"""Printing a session's screen (Ctrl+P) on a laptop gives a clean report: a header with the
tree, ticket and client; every step with its answer's sentence and its notes in full, however
long; no navigation, button or input; each step kept on one page. Checked with the print media
emulated, then as a real PDF from headless Chromium, and in a screenshot to look at."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    answer_step,
    app_context,
    shortest_run,
    shot,
    sign_in,
    start_session,
    wait_synced,
    write_note,
)
from tests.browser.test_pwa_runner import pinned_tree
from tests.conftest import Tenant

TICKET = "T20261203.0202"
# Longer than any box shows on screen: printed whole, every line.
LONG_NOTE = "\n".join(
    f"Line {i}: checked broker registration on CTX-W11-{i:02d}; state Unregistered." for i in range(1, 31)
)


def visible_controls(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('button, input, textarea, select, nav')]
             .filter(el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
             .map(el => el.outerHTML.slice(0, 80))"""
    )


def test_printing_a_session_gives_a_clean_full_report(browser, http, server, tmp_path):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = pinned_tree(http, engineer)
    run = shortest_run(tree)
    r = http.post("/api/v1/clients", headers=tenant.headers, json={"name": "Contoso Ltd"})
    assert r.status_code == 201, r.text
    client = r.json()

    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        start_session(page, tree["title"], TICKET, client=client["_id"])
        write_note(page, LONG_NOTE)
        for node_id, ans, nxt in run[:2]:
            answer_step(page, tree, node_id, ans, nxt)
        wait_synced(page)

        # On screen the runner is as ever and the report is not shown.
        expect(page.get_by_test_id("print-report")).to_be_hidden()
        expect(page.get_by_role("navigation", name="Main").first).to_be_visible()

        page.emulate_media(media="print")
        report = page.get_by_test_id("print-report")
        expect(report).to_be_visible()
        expect(page.get_by_test_id("step-card")).to_be_hidden()
        assert visible_controls(page) == []
        header = report.locator("header")
        expect(header).to_contain_text(tree["title"])
        expect(header).to_contain_text(TICKET)
        expect(header).to_contain_text(client["name"])
        steps = report.get_by_test_id("print-step")
        expect(steps).to_have_count(2)
        note = report.get_by_test_id("print-note").first
        expect(note).to_have_text(LONG_NOTE)
        # Whole: nothing clipped by a height, a line clamp or an ellipsis.
        assert note.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
        assert note.evaluate("el => getComputedStyle(el).overflow") == "visible"
        # A step is never split across pages.
        assert steps.first.evaluate("el => getComputedStyle(el).breakInside") == "avoid"
        path = shot(page, "session-print-01-report")
        assert path.stat().st_size > 0

        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000
        (tmp_path / "session.pdf").write_bytes(pdf)

        page.emulate_media(media="screen")
        expect(report).to_be_hidden()
        expect(page.get_by_test_id("step-card")).to_be_visible()
    finally:
        ctx.close()
