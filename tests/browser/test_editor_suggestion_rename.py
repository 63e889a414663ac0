"""Renaming a step that was made from a suggestion does not bring the suggestion back, so it
cannot be added a second time as a duplicate step; it stays settled after a reload."""

from __future__ import annotations

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import node, saved, select_node, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def test_renaming_an_adopted_step_keeps_its_suggestion_away(browser, http, server):
    tenant = Tenant(http)
    author, engineer = tenant.add_user("author"), tenant.add_user("engineer")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={}).status_code == 201
    sid = http.post("/api/v1/sessions", headers=engineer.headers, json={"tree_id": tree_id}).json()[
        "session_id"
    ]
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=engineer.headers,
        json={
            "type": "custom_step",
            "node_id": "restart",
            "text": "Cleared the print queue.",
            "answer": "done",
        },
    )
    assert r.status_code in (200, 201), r.text

    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    badge = "[data-testid=graph-node][data-node-id=restart][data-suggestions='{}']"
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        page.wait_for_selector(badge.format(1))
        select_node(page, "restart")
        page.click("[data-testid=suggestions] button:has-text('Add as a step')")
        node(page, "cleared-the-print-queue").wait_for()
        # The author rewords the new step's title.
        page.fill("#f-title", "Purge the stuck print jobs")
        saved(page)
        page.wait_for_selector(badge.format(0))
        select_node(page, "restart")
        assert page.locator("[data-testid=suggestions]").count() == 0
        shot(page, "editor-suggestion-rename-01")

        page.reload()
        node(page, "restart").wait_for()
        page.wait_for_selector(badge.format(0))
        select_node(page, "restart")
        assert page.locator("[data-testid=suggestions]").count() == 0
        draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
        titles = [n.get("title") for n in draft["nodes"].values()]
        assert titles.count("Purge the stuck print jobs") == 1 and "Cleared the print queue" not in titles
        assert http.get(f"/api/v1/trees/{tree_id}/suggestions", headers=author.headers).json()["items"] == []
    finally:
        ctx.close()
