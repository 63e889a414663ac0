"""An action whose author left "skipped" unconnected offers no Skip, in the runner and in the
editor's preview: the fold ignores such an answer, so the button could only do nothing. An
action with its skip connected still offers it."""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, app_context, shot, sign_in, start_session
from tests.browser.test_editor_build_publish import node, sign_in as sign_in_anywhere
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def skip_tree() -> dict:
    tree = small_tree("Printer skips")
    nodes = tree["nodes"]
    nodes["restart"]["next"]["skipped"] = "reseat"
    nodes["restart"]["log"]["skipped"] = "Skipped the spooler restart."
    nodes["reseat"] = {
        "type": "action",
        "title": "Reseat the network cable",
        "next": {"done": "fixed", "failed": "escalate"},
        "log": {"done": "Reseated the cable.", "failed": "Reseating did not help."},
    }
    return tree


def answers(page) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=step-card] [data-answer]", "els => els.map(e => e.dataset.answer)"
    )


def test_an_unconnected_skip_is_not_offered(browser, http, server):
    tenant = Tenant(http)
    author, engineer = tenant.add_user("author"), tenant.add_user("engineer")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=skip_tree()).json()["id"]
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={}).status_code == 201

    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        start_session(page, "Printer skips", "T-SKIP-1")
        page.click("[data-testid=step-card] [data-answer=yes]")
        page.wait_for_selector("[data-testid=step-card][data-node-id=restart]")
        # Connected: Skip is there and leads on.
        assert answers(page) == ["done", "failed", "skipped"]
        page.click("[data-testid=step-card] [data-answer=skipped]")
        page.wait_for_selector("[data-testid=step-card][data-node-id=reseat]")
        # Left unconnected: only Done and Didn't work; the key 3 does not answer either.
        assert answers(page) == ["done", "failed"]
        shot(page, "runner-unconnected-skip")
        page.keyboard.press("3")
        page.keyboard.press("1")
        page.wait_for_selector("[data-testid=step-card][data-node-id=fixed]")
        assert "Skipped" not in page.text_content("[data-testid=timeline]").split("Reseat")[-1]
    finally:
        ctx.close()

    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in_anywhere(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "reseat").wait_for()
        page.click("button:has-text('Preview run')")
        preview = page.locator("[data-testid=preview-run]")
        preview.locator("button:has-text('Yes')").click()
        preview.locator("[data-testid=step-card][data-node-id=restart]").wait_for()
        assert preview.locator("button:has-text('Skipped')").count() == 1
        preview.locator("button:has-text('Skipped')").click()
        preview.locator("[data-testid=step-card][data-node-id=reseat]").wait_for()
        assert preview.locator("button:has-text('Done')").count() == 1
        assert preview.locator("button:has-text('Skipped')").count() == 0
    finally:
        ctx.close()
