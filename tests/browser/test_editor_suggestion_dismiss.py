"""An author dismisses a suggestion that is already handled: the badge on the step goes, an
undo is offered right where the suggestion was, and the dismissal holds after a reload, where
the step's dismissed suggestions can still be listed and one restored for good."""

from __future__ import annotations

import re

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import node, select_node, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def test_a_dismissed_suggestion_leaves_the_step_for_good(browser, http, server):
    tenant = Tenant(http)
    author, engineer = tenant.add_user("author"), tenant.add_user("engineer")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={}).status_code == 201
    for text in ("Cleared the print queue.", "Cleared the print queue", "Power-cycled the printer."):
        sid = http.post("/api/v1/sessions", headers=engineer.headers, json={"tree_id": tree_id}).json()[
            "session_id"
        ]
        r = http.post(
            f"/api/v1/sessions/{sid}/events",
            headers=engineer.headers,
            json={"type": "custom_step", "node_id": "restart", "text": text, "answer": "done"},
        )
        assert r.status_code in (200, 201), r.text

    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    badge = "[data-testid=graph-node][data-node-id=restart][data-suggestions='{}']"
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        page.wait_for_selector(badge.format(3))
        assert node(page, "restart").locator("[data-testid=suggestion-badge]").count() == 1
        select_node(page, "restart")

        # Dismiss the print-queue suggestion with the keyboard.
        dismiss = page.get_by_role("button", name="Dismiss the suggestion “Cleared the print queue")
        dismiss.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector(badge.format(1))
        undo = page.get_by_role("button", name="Undo dismissing “Cleared the print queue")
        undo.wait_for()
        page.wait_for_function(
            "() => document.activeElement"
            " && document.activeElement.dataset.undoKey === 'cleared the print queue'"
        )
        assert "Cleared the print queue" not in page.text_content(
            "[data-testid=suggestions] li:not([data-testid=dismissed-suggestion])"
        )
        shot(page, "editor-suggestion-dismiss-01-undo")

        # Undo brings it back; dismissing it again sticks.
        page.keyboard.press("Enter")
        page.wait_for_selector(badge.format(3))
        assert page.locator("[data-testid=dismissed-suggestion]").count() == 0
        dismiss.click()
        page.wait_for_selector(badge.format(1))
        page.get_by_role("button", name="Dismiss the suggestion “Power-cycled the printer.”").click()
        page.wait_for_selector("[data-testid=graph-node][data-node-id=restart][data-suggestions='0']")
        assert node(page, "restart").locator("[data-testid=suggestion-badge]").count() == 0

        # After a reload the step shows no suggestion, and offers the two dismissed ones: the
        # editor has fetched its listings again. (Waiting on a network answer here could catch
        # the previous page's refresh, whose body is gone once the page has reloaded.)
        page.reload()
        node(page, "restart").wait_for()
        select_node(page, "restart")
        page.get_by_role("button", name="Show dismissed (2)").wait_for()
        page.wait_for_selector("[data-testid=graph-node][data-node-id=restart][data-suggestions='0']")
        assert node(page, "restart").locator("[data-testid=suggestion-badge]").count() == 0
        assert page.locator("[data-testid=suggestions]").count() == 0
        shot(page, "editor-suggestion-dismiss-02-after-reload")
        listing = http.get(f"/api/v1/trees/{tree_id}/suggestions", headers=author.headers).json()
        assert listing["items"] == []

        # The dismissed ones are still listed on the step, with when; restore one with the keyboard.
        page.get_by_role("button", name="Show dismissed (2)").focus()
        page.keyboard.press("Enter")
        dismissed_list = page.locator("[data-testid=dismissed-list]")
        dismissed_list.wait_for()
        assert page.get_by_role("button", name="Hide dismissed (2)").get_attribute("aria-expanded") == "true"
        assert dismissed_list.locator("li").count() == 2
        assert re.fullmatch(r"just now|\d+ s ago", dismissed_list.locator("li time").first.text_content())
        shot(page, "editor-suggestion-dismiss-03-dismissed-list")
        page.get_by_role("button", name="Restore the suggestion “Cleared the print queue").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector(badge.format(2))
        assert node(page, "restart").locator("[data-testid=suggestion-badge]").count() == 1
        assert "Cleared the print queue" in page.text_content("[data-testid=suggestions]")
        assert dismissed_list.locator("li").count() == 1
        assert "Cleared the print queue" not in dismissed_list.text_content()
        assert "Power-cycled the printer" in dismissed_list.text_content()
        page.get_by_role("button", name="Hide dismissed (1)").wait_for()
        # Focus follows the suggestion back into the open list.
        page.wait_for_function(
            "() => document.activeElement"
            " && document.activeElement.dataset.dismissKey === 'cleared the print queue'"
        )

        # It stays restored after another reload, on the page and on the server.
        page.reload()
        page.wait_for_selector(badge.format(2))
        select_node(page, "restart")
        assert "Cleared the print queue" in page.text_content("[data-testid=suggestions]")
        page.get_by_role("button", name="Show dismissed (1)").click()
        assert "Cleared the print queue" not in page.text_content("[data-testid=dismissed-list]")
        listing = http.get(f"/api/v1/trees/{tree_id}/suggestions", headers=author.headers).json()
        assert [(g["node_id"], [s["text_key"] for s in g["suggestions"]]) for g in listing["items"]] == [
            ("restart", ["cleared the print queue"])
        ]
        hidden = http.get(
            f"/api/v1/trees/{tree_id}/suggestions?dismissed=true", headers=author.headers
        ).json()
        assert [(g["node_id"], [s["text_key"] for s in g["suggestions"]]) for g in hidden["items"]] == [
            ("restart", ["power-cycled the printer"])
        ]
    finally:
        ctx.close()
