"""The two menus that create a step (the toolbar's "+ Step" and the one a dropped answer opens
on the graph) offer the same step types, the same way, and each creates the type picked."""

from __future__ import annotations

from tests.browser.conftest import app_context
from tests.browser.test_editor_build_publish import node, sign_in
from tests.browser.test_editor_graph_drag import center, drag
from tests.conftest import Tenant, wait_until
from tests.trees_api.test_trees_api import small_tree

TYPES = ["Question", "Choice", "Action", "Input", "Resolution"]


def _items(menu) -> list[tuple[str, str]]:
    """(label, hint) of each item, as the author reads them."""
    items = menu.get_by_role("menuitem")
    return [
        (
            items.nth(i).locator("span.font-medium").inner_text(),
            items.nth(i).locator("span.ml-auto").inner_text(),
        )
        for i in range(items.count())
    ]


def test_both_step_menus_offer_the_same_types_and_create_the_one_picked(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]

    def draft() -> dict:
        return http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()

    ctx = app_context(browser, {"width": 1360, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "escalate").wait_for()

        start = center(page.locator("[data-node-id=restart] .react-flow__handle[data-handleid=skipped]"))
        drag(page, start, (start[0] + 60, start[1] + 230))
        graph = page.locator("[role=menu][aria-label='Create the next step']")
        graph.wait_for()
        from_graph = _items(graph)
        assert [label for label, _hint in from_graph] == TYPES
        assert all(hint for _label, hint in from_graph)
        graph.get_by_role("menuitem", name="Question").click()
        node(page, "question").wait_for()
        wait_until(
            lambda: draft()["nodes"]["restart"]["next"].get("skipped") == "question",
            message="the new step saved",
        )
        assert draft()["nodes"]["question"]["type"] == "question"

        page.get_by_role("button", name="+ Step").click()
        toolbar = page.locator("[role=menu]").first
        toolbar.wait_for()
        assert _items(toolbar) == from_graph
        toolbar.get_by_role("menuitem", name="Action").click()
        node(page, "action").wait_for()
        wait_until(
            lambda: draft()["nodes"].get("action", {}).get("type") == "action", message="the new action saved"
        )
    finally:
        ctx.close()
