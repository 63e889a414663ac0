"""Printing a session's screen (Ctrl+P) on a laptop gives a clean report: a header with the
tree, ticket and client; every step with its answer's sentence and its notes in full, however
long; no navigation, button or input; each step kept on one page. Checked with the print media
emulated, then as a real PDF from headless Chromium, and in a screenshot to look at."""

from __future__ import annotations

import re
import shutil
import subprocess

from playwright.sync_api import expect

from tests.attachments.helpers import png, upload
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
    # The team leaves notes out of its exports; a print of the screen still shows them.
    r = http.put("/api/v1/export-settings", headers=tenant.headers, json={"notes": False})
    assert r.status_code == 200, r.text
    r = http.post("/api/v1/clients", headers=tenant.headers, json={"name": "Contoso Ltd"})
    assert r.status_code == 201, r.text
    client = r.json()

    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        sid = start_session(page, tree["title"], TICKET, client=client["_id"])
        write_note(page, LONG_NOTE)
        for node_id, ans, nxt in run[:2]:
            answer_step(page, tree, node_id, ans, nxt)
        wait_synced(page)
        # A wide screenshot attached to the first step (through the API, as another device
        # would), which arrives here by sync.
        r = upload(
            http, engineer, sid, png(2400, 900), name="studio.png", node_id=run[0][0], record_event="true"
        )
        assert r.status_code == 201, r.text
        expect(page.get_by_test_id("timeline")).to_be_visible()
        wait_synced(page)

        # On screen the runner is as ever and the report is not even in the page.
        expect(page.get_by_test_id("print-report")).to_have_count(0)
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
        # The image is shrunk to the page's width, never cropped.
        image = report.locator("img[alt='studio.png']")
        expect(image).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth === 2400", arg=image.element_handle())
        assert image.evaluate(
            "img => img.getBoundingClientRect().width <= document.documentElement.clientWidth"
        )
        path = shot(page, "session-print-01-report")
        assert path.stat().st_size > 0

        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000
        (tmp_path / "session.pdf").write_bytes(pdf)
        if shutil.which("pdftotext"):  # poppler-utils, when the machine has it
            text = subprocess.run(
                ["pdftotext", "-layout", str(tmp_path / "session.pdf"), "-"], capture_output=True, text=True
            ).stdout
            assert TICKET in text and "Contoso Ltd" in text and "Line 30: checked broker" in text
            assert "Finish early" not in text and "Custom step" not in text and "Sessions" not in text

        page.emulate_media(media="screen")
        expect(report).to_have_count(0)
        expect(page.get_by_test_id("step-card")).to_be_visible()

        # "Print report" in the Session sheet builds the report, waits for its images, then
        # opens the browser's print dialog (stood in for here, to see what it would print).
        page.evaluate(
            """() => { window.printed = null; window.print = () => {
                 const r = document.querySelector('[data-testid=print-report]');
                 const img = r && r.querySelector('img');
                 window.printed = { report: !!r, image: !!img && img.complete && img.naturalWidth > 0 };
               }; }"""
        )
        page.get_by_role("button", name="Session", exact=True).click()
        page.get_by_role("dialog", name="Session").get_by_role(
            "button", name=re.compile("Print report")
        ).click()
        page.wait_for_function("() => window.printed !== null")
        assert page.evaluate("window.printed") == {"report": True, "image": True}
        expect(page.get_by_role("dialog")).to_have_count(0)
    finally:
        ctx.close()
