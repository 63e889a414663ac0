"""In a 45-step tree the author finds a step by a word of its title, by its id or by its
text: the search box (reached with /) lists the matches, and picking one selects the step
and centres the graph on it."""

from __future__ import annotations

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import node, sign_in
from tests.conftest import Tenant
from tests.trees.factories import chain_tree


def centred(page, node_id: str) -> None:
    """The step's card sits in the middle of the graph (once the pan has finished)."""
    page.wait_for_function(
        """id => {
            const g = document.querySelector('[data-testid=graph]').getBoundingClientRect();
            const el = document.querySelector(`[data-testid=graph-node][data-node-id="${id}"]`);
            if (!el) return false;
            const n = el.getBoundingClientRect();
            return Math.abs(n.x + n.width / 2 - (g.x + g.width / 2)) < 30
                && Math.abs(n.y + n.height / 2 - (g.y + g.height / 2)) < 30;
        }""",
        arg=node_id,
        timeout=10000,
    )


def test_find_a_step_in_a_45_step_tree(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree = chain_tree(45)
    del tree["_id"]
    tree["title"] = "Forty-five steps"
    tree["nodes"]["n37"]["title"] = "Reset the Kerberos ticket cache"
    tree["nodes"]["n21"]["body"] = "Run `klist purge` on the VDA, then log off."
    r = http.post("/api/v1/trees", headers=author.headers, json=tree)
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]

    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "n0").wait_for()
        search = page.get_by_role("combobox", name="Find a step")

        # By a word of the title, reached from the keyboard.
        page.locator("[data-testid=graph]").click(position={"x": 600, "y": 20})
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Find a step"
        page.keyboard.type("kerberos")
        options = page.get_by_role("listbox", name="Matching steps").get_by_role("option")
        assert options.count() == 1 and "n37" in options.first.text_content()
        shot(page, "editor-step-search-01")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('#f-title')?.value === 'Reset the Kerberos ticket cache'"
        )
        centred(page, "n37")

        # By its id.
        search.fill("n12")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('#f-title')?.value === 'Step 12'")
        centred(page, "n12")

        # By something written in it, picked with the mouse.
        search.fill("klist purge")
        page.locator("[data-testid=step-search] [role=option][data-step-id=n21]").click()
        page.wait_for_function("() => document.querySelector('#f-title')?.value === 'Step 21'")
        centred(page, "n21")
        shot(page, "editor-step-search-02-centred")

        search.fill("no such thing")
        page.get_by_text("No step matches “no such thing”.").wait_for()
    finally:
        ctx.close()
