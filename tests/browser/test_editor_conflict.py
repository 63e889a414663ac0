"""Two authors edit the same draft in two browsers: the second save is refused by `_rev`, the
editor shows both versions node by node, and the author merges; nothing is overwritten
silently. Then the first author, still on an old revision, meets the same dialog."""

from __future__ import annotations

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import saved, select_node, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def open_editor(browser, server, member, tree_id):
    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    sign_in(page, server.url, member.email, member.password)
    page.goto(f"{server.url}/editor/{tree_id}")
    page.wait_for_selector("[data-testid=graph-node][data-node-id=fixed]")
    return ctx, page


def test_conflicting_saves_are_shown_and_merged(browser, http, server):
    tenant = Tenant(http)
    alice, bob = tenant.add_user("author"), tenant.add_user("author")
    r = http.post("/api/v1/trees", headers=alice.headers, json=small_tree())
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]

    ctx_a, a = open_editor(browser, server, alice, tree_id)
    ctx_b, b = open_editor(browser, server, bob, tree_id)
    try:
        # Alice renames a step and saves first.
        select_node(a, "restart")
        a.fill("#f-title", "Restart the print spooler service")
        saved(a)

        # Bob, still on the revision he loaded, edits another step: his save is refused.
        select_node(b, "fixed")
        b.fill("#f-summary", "Spooler restarted; Bob printed a test page.")
        b.wait_for_selector("[data-testid=conflict-dialog]", timeout=20000)
        dialog = b.text_content("[data-testid=conflict-dialog]")
        assert "Restart the print spooler service" in dialog  # theirs (Alice's)
        assert "Bob printed a test page" in dialog  # mine
        assert len(b.locator("[data-testid=conflict-row]").all()) == 2
        # Defaults: each step from the side that changed it.
        assert b.is_checked("[aria-label^='Theirs:'][aria-label$='· restart']")
        assert b.is_checked("[aria-label^='Mine:'][aria-label$='· fixed']")
        shot(b, "editor-conflict-01-dialog")
        b.click("[data-testid=conflict-merge]")
        saved(b)

        draft = http.get(f"/api/v1/trees/{tree_id}", headers=alice.headers).json()
        assert draft["nodes"]["restart"]["title"] == "Restart the print spooler service"
        assert draft["nodes"]["fixed"]["summary"] == "Spooler restarted; Bob printed a test page."

        # Alice edits again from her old revision: she is shown Bob's change, and merges too.
        select_node(a, "scope")
        a.fill("#f-title", "Is only one user affected (Alice)?")
        a.wait_for_selector("[data-testid=conflict-dialog]", timeout=20000)
        assert "Bob printed a test page" in a.text_content("[data-testid=conflict-dialog]")
        a.click("[data-testid=conflict-merge]")
        saved(a)
        draft = http.get(f"/api/v1/trees/{tree_id}", headers=alice.headers).json()
        assert draft["nodes"]["scope"]["title"] == "Is only one user affected (Alice)?"
        assert draft["nodes"]["fixed"]["summary"] == "Spooler restarted; Bob printed a test page."
        assert draft["nodes"]["restart"]["title"] == "Restart the print spooler service"
        shot(a, "editor-conflict-02-merged")

        # "Take theirs" drops the local edit and shows the server's draft.
        select_node(b, "scope")
        b.fill("#f-title", "Bob's title")
        b.wait_for_selector("[data-testid=conflict-dialog]", timeout=20000)
        b.click("[data-testid=conflict-theirs]")
        b.wait_for_function(
            "() => document.querySelector('#f-title').value === 'Is only one user affected (Alice)?'"
        )
        assert (
            http.get(f"/api/v1/trees/{tree_id}", headers=bob.headers).json()["nodes"]["scope"]["title"]
            == "Is only one user affected (Alice)?"
        )
    finally:
        ctx_a.close()
        ctx_b.close()
