"""Publish clicked while the autosave is on its way: the publish waits for that save and
publishes the draft as edited. Before, the editor's save answered "nothing saved" when another
save was running, and the publish failed with "The draft could not be saved first" (CI caught
it on a busy machine, where the autosave is slow enough to meet the click)."""

from __future__ import annotations

import re

from tests.browser.conftest import app_context
from tests.browser.test_editor_build_publish import saved, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def test_publish_during_an_autosave_waits_for_it_and_publishes_the_edit(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]
    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    held = []  # the autosave's PUT, held until the publish has been asked for

    def hold_first_save(route):
        if route.request.method == "PUT" and not held:
            held.append(route)
        else:
            route.continue_()

    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        page.wait_for_selector("[data-testid=tree-editor]")
        saved(page)
        page.route(re.compile(r"/api/v1/trees/[^/?]+$"), hold_first_save)
        page.fill("#t-title", "Printer offline after the update")
        page.wait_for_selector("[data-testid=save-state][data-state=saving]")  # the autosave, held
        assert len(held) == 1

        page.click("button:has-text('Publish')")
        page.fill("#change-note", "Renamed")
        page.click("[data-testid=publish-confirm]")
        held[0].continue_()  # the autosave reaches the server now, after the click
        page.wait_for_selector("[data-testid=notice]:has-text('Published version 1')")
        assert not page.locator("text=could not be saved first").count()
    finally:
        ctx.close()
    version = http.get(f"/api/v1/trees/{tree_id}/versions/1", headers=author.headers).json()
    assert version["tree"]["title"] == "Printer offline after the update"
