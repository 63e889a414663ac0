"""Custom steps engineers added in sessions show up in the editor on the step where they were
added; the author turns one into a real step with one click, and the draft saves with it."""

from __future__ import annotations

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import node, saved, select_node, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def test_a_custom_step_becomes_a_real_step(browser, http, server):
    tenant = Tenant(http)
    author, engineer = tenant.add_user("author"), tenant.add_user("engineer")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={}).status_code == 201
    for _ in range(2):
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
                "note": "12 jobs stuck",
            },
        )
        assert r.status_code in (200, 201), r.text

    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "restart").wait_for()
        page.wait_for_selector("[data-testid=graph-node][data-node-id=restart][data-suggestions='2']")
        select_node(page, "restart")
        box = page.text_content("[data-testid=suggestions]")
        assert "Cleared the print queue." in box and "2×" in box and "12 jobs stuck" in box
        shot(page, "editor-suggestion-01")
        page.click("[data-testid=suggestions] button:has-text('Add as a step')")
        node(page, "cleared-the-print-queue").wait_for()
        assert page.input_value("#f-title") == "Cleared the print queue"
        saved(page)
        draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
        assert draft["nodes"]["scope"]["next"]["yes"] == "cleared-the-print-queue"
        assert draft["nodes"]["cleared-the-print-queue"]["next"] == {"done": "restart", "failed": "restart"}
        problems = http.post("/api/v1/trees/validate", headers=author.headers, json=draft).json()["problems"]
        assert problems == []
        # Once adopted, the suggestion is no longer offered on that step.
        select_node(page, "restart")
        assert page.locator("[data-testid=suggestions]").count() == 0
        shot(page, "editor-suggestion-02-adopted")
    finally:
        ctx.close()
