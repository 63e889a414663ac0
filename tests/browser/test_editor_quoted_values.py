"""The editor names a wrong value the way the server does, in plain double quotes: the step id
an answer leads to. Python's repr() quoting ('gone-step') is gone from both, so the editor's
problem list reads word for word like the server's validation."""

from __future__ import annotations

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import node, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def test_the_editor_quotes_a_missing_step_as_the_server_does(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree = small_tree("Printer with a renamed step")
    tree["nodes"]["scope"]["next"]["no"] = "gone-step"
    r = http.post("/api/v1/trees", headers=author.headers, json=tree)
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    r = http.post("/api/v1/trees/validate", headers=author.headers, json=tree)
    server_messages = [p["message"] for p in r.json()["problems"] if p["code"] == "dangling_next"]
    assert len(server_messages) == 1 and 'leads to "gone-step", which is not a step' in server_messages[0]

    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "scope").wait_for()
        page.click("[data-testid=problems-tab]")
        listing = page.locator("[data-testid=problem-list]")
        item = listing.locator("li", has_text="which is not a step in this tree")
        item.wait_for()
        assert server_messages[0] in item.text_content()
        shot(page, "editor-quoted-values")
    finally:
        ctx.close()
