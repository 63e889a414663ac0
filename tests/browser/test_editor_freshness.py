"""Tree freshness in headless Chromium against a real server: an author sets a review date
and the product versions in the editor's tree settings and publishes; an engineer sees
"Applies to" on the tree's page; after the nightly job (run at a chosen moment) the author
sees the tree under "Needs attention" with its reason, and "Mark reviewed" clears it."""

from __future__ import annotations

import time
from datetime import timedelta

from tests.browser.conftest import (
    DESKTOP,
    app_context,
    assert_accessible,
    shot,
    sign_in as sign_in_to_library,
)
from tests.conftest import Tenant
from tests.freshness.helpers import at, run_job
from tests.trees.factories import valid_tree

TITLE = "Citrix VDA Not Registering"


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/signin" not in url, timeout=30000)


def test_author_sets_review_and_applies_to_engineer_sees_them_author_sees_attention(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    engineer = tenant.add_user("engineer")
    draft = {k: v for k, v in valid_tree().items() if k != "_id"}
    r = http.post("/api/v1/trees", headers=author.headers, json={**draft, "title": TITLE})
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    today = at(int(time.time() * 1000))
    due = (today + timedelta(days=1)).date().isoformat()

    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        page.wait_for_selector("[data-testid=tree-settings]")
        page.get_by_label("Review", exact=True).select_option("date")
        page.get_by_label("Review by").fill(due)
        page.get_by_label("Applies to").fill("Citrix VDA 2203 LTSR\nSonicOS 7.x")
        page.wait_for_selector("[data-testid=save-state][data-state=saved]", timeout=20000)
        shot(page, "freshness-01-tree-settings")
        assert_accessible(page, "the editor's tree settings with a review date")
        page.click("button:has-text('Publish')")
        page.click("[data-testid=publish-confirm]")
        page.wait_for_selector("[data-testid=notice]:has-text('Published version 1')")
        frozen = http.get(f"/api/v1/trees/{tree_id}/versions/1", headers=author.headers).json()["tree"]
        assert frozen["review_by"] == due
        assert frozen["applies_to"] == ["Citrix VDA 2203 LTSR", "SonicOS 7.x"]

        # The engineer sees the versions on the tree's page, and no author's badge.
        eng = app_context(browser, DESKTOP).new_page()
        sign_in_to_library(eng, server.url, engineer.email, engineer.password)
        eng.click(f"[data-testid=tree-list] >> text={TITLE}")
        eng.wait_for_selector("#ticket")
        assert eng.text_content("[data-testid=applies-to]") == "Applies to Citrix VDA 2203 LTSR, SonicOS 7.x"
        assert eng.locator("[data-testid=review-overdue]").count() == 0
        shot(eng, "freshness-02-engineer-applies-to")
        eng.context.close()

        # Four days after the review date, the nightly job flags the tree.
        run_job(server, today + timedelta(days=5))
        page.goto(server.url + "/editor")
        section = page.locator("[data-testid=needs-attention]")
        section.wait_for(timeout=30000)
        assert "Needs attention (1)" in section.text_content()
        assert f"Review was due on {due} (the review date set on the tree)." in section.text_content()
        # The list counts the days by the server's clock (today): not yet a day late.
        assert "Review overdue" in section.text_content() and "by -" not in section.text_content()
        shot(page, "freshness-03-needs-attention")
        assert_accessible(page, "the editor's tree list with trees that need attention")
        # The author's view of the tree's page carries the badge.
        page.goto(f"{server.url}/start/{tree_id}")
        page.wait_for_selector("[data-testid=review-overdue]", timeout=30000)
        assert "Applies to" in page.text_content("[data-testid=applies-to]")

        page.goto(server.url + "/editor")
        section.wait_for(timeout=30000)
        section.get_by_role("link", name=TITLE).wait_for()
        page.get_by_role("button", name=f"Mark reviewed: {TITLE}").click()
        section.wait_for(state="detached", timeout=20000)
        assert http.get("/api/v1/trees/attention", headers=author.headers).json()["items"] == []
        assert errors == []
    finally:
        ctx.close()
