"""The problems list tells the author what to do in the editor's own words ("Choose the next
step under “No leads to”"), not which JSON field is wrong (`next`, `log.yes`); the box it
names is the one the inspector shows for that step."""

from __future__ import annotations

import re

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import node, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def test_problem_messages_name_the_boxes_to_fill(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree = small_tree("Printer half done")
    tree["nodes"]["scope"]["next"]["no"] = None
    tree["nodes"]["scope"]["log"]["yes"] = ""
    tree["nodes"]["fixed"]["summary"] = ""
    r = http.post("/api/v1/trees", headers=author.headers, json=tree)
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]

    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "scope").wait_for()
        page.click("[data-testid=problems-tab]")
        listing = page.locator("[data-testid=problem-list]")
        listing.wait_for()
        text = listing.text_content()
        assert (
            'The answer No does not lead to any step yet. Choose the next step under "No leads to", '
            "or drag from its dot on the graph onto a step."
        ) in text
        assert "The log sentence of Yes is empty. Write what the engineer did, in the past tense" in text
        assert 'The resolution has no summary. Under "Summary", say how the case ends' in text
        assert not re.search(r"`(next|log|summary)|log\.yes", text), text
        shot(page, "editor-problem-messages")
        # The message leads to the box it names.
        listing.locator("li", has_text="does not lead to any step yet").click()
        page.get_by_label("No leads to").wait_for()
        assert page.get_by_label("Summary").count() == 0
    finally:
        ctx.close()
