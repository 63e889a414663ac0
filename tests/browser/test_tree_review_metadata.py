"""Issue #20 points 3 and 4: a tree says what it applies to, when its content was reviewed,
when the next review falls due and the pages it was checked against (a line under each tree
in the library, a folded "Applies to ... · reviewed ... · sources" line at the session's top,
fields in the editor), and a resolved session's export says how the fix was verified."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    answer_step,
    app_context,
    copy_export,
    finish_session,
    shot,
    sign_in,
    start_session,
)
from tests.browser.test_editor_build_publish import saved, select_node, sign_in as editor_sign_in
from tests.browser.test_pwa_step_content import run_to
from tests.conftest import Tenant
from tests.trees.factories import valid_tree

SEED = json.loads(
    (Path(__file__).resolve().parents[2] / "seeds" / "trees" / "citrix-vda-registration.json").read_text(
        encoding="utf-8"
    )
)


def test_the_library_shows_what_a_tree_applies_to_and_when_it_was_reviewed(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    # The starter library is published when the workspace is created: today, and the tree
    # asks for a review every review_every_days after that.
    due = (datetime.now(UTC).date() + timedelta(days=SEED["review_every_days"])).isoformat()
    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        card = page.locator("[data-testid=tree-list] li", has_text=SEED["title"])
        line = card.locator("[data-testid=tree-review]")
        expect(line).to_contain_text(f"Applies to {SEED['applies_to'][0]}")
        expect(line).to_contain_text(f"Reviewed {SEED['reviewed_at']}")
        expect(line).to_contain_text(f"Review due {due}")
        shot(page, "review-01-library-line")
    finally:
        ctx.close()


def test_the_runner_folds_applies_to_review_and_sources_at_the_top(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        start_session(page, SEED["title"], "T-2020")
        about = page.locator("[data-testid=tree-about]")
        summary = about.locator("summary")
        expect(summary).to_contain_text(f"Applies to {SEED['applies_to'][0]}")
        expect(summary).to_contain_text(f"reviewed {SEED['reviewed_at']}")
        expect(summary).to_contain_text(f"{len(SEED['sources'])} sources")
        # Folded, it keeps the step in view on a phone; the sources open on a tap.
        links = about.locator("a")
        expect(links.first).not_to_be_visible()
        summary.click()
        expect(links).to_have_count(len(SEED["sources"]))
        first = SEED["sources"][0]
        expect(links.first).to_have_text(first["title"])
        expect(links.first).to_have_attribute("href", first["url"])
        expect(links.first).to_have_attribute("target", "_blank")
        expect(page.locator("[data-testid=step-card]")).to_be_visible()
        shot(page, "review-02-runner-sources")
    finally:
        ctx.close()


def test_an_author_records_the_review_the_sources_and_a_verification_in_the_editor(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    draft = {k: v for k, v in valid_tree().items() if k != "_id"}
    r = http.post("/api/v1/trees", headers=author.headers, json=draft)
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    source = "https://learn.microsoft.com/en-us/troubleshoot/windows-server/printing/printer-spooler-troubleshooting"
    ctx = app_context(browser, {"width": 1440, "height": 900})
    page = ctx.new_page()
    try:
        editor_sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        page.wait_for_selector("[data-testid=tree-settings]")
        page.get_by_label("Content reviewed on").fill("2026-12-04")
        page.get_by_label("Sources").fill(f"Microsoft: Troubleshoot the print spooler {source}")
        saved(page)
        select_node(page, "fixed")
        page.fill("#f-verification", "Printed a test page from the user's PC.")
        saved(page)
        shot(page, "review-03-editor-verification")
    finally:
        ctx.close()
    stored = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
    assert stored["reviewed_at"] == "2026-12-04"
    assert stored["sources"] == [{"title": "Microsoft: Troubleshoot the print spooler", "url": source}]
    assert stored["nodes"]["fixed"]["verification"] == "Printed a test page from the user's PC."


def test_a_resolved_session_exports_how_the_fix_was_verified(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    run = run_to(SEED, "res_service")
    ending = SEED["nodes"]["res_service"]
    assert ending["outcome"] == "resolved" and "{{" not in ending["verification"]
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        start_session(page, SEED["title"], "T-2021")
        for node_id, answer, next_node in run:
            answer_step(page, SEED, node_id, answer, next_node)
        expect(page.locator("text=Verification:")).to_be_visible()
        finish_session(page, "Started the Citrix Desktop Service; the VDA registered.")
        markdown = copy_export(page)
        assert f"- **Verification:** {ending['verification']}" in markdown
    finally:
        ctx.close()
