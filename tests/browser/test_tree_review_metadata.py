"""Issue #20 point 3: a tree says what it applies to, when its content was reviewed, when the
next review falls due and the pages it was checked against: a line under each tree in the
library, and a folded "Applies to ... · reviewed ... · sources" line at the session's top."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, app_context, shot, sign_in, start_session
from tests.conftest import Tenant

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
