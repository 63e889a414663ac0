"""JSON export and import in the editor: the exported file is the draft (without revision
metadata); importing a file replaces the draft's content, keeps its id, and can be undone."""

from __future__ import annotations

import json

from tests.browser.conftest import app_context
from tests.browser.test_editor_build_publish import node, saved, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree


def test_export_then_import_a_changed_file(browser, http, server, tmp_path):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]
    ctx = app_context(browser, {"width": 1360, "height": 860}, accept_downloads=True)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "scope").wait_for()
        with page.expect_download() as dl:
            page.click("button:has-text('Export')")
        exported = json.loads(open(dl.value.path(), encoding="utf-8").read())
        assert dl.value.suggested_filename == "printer-offline.tree.json"
        assert exported["_id"] == tree_id and "_rev" not in exported
        assert set(exported["nodes"]) == set(small_tree()["nodes"])

        exported["title"] = "Printer offline (imported)"
        exported["nodes"]["extra"] = {
            "type": "resolution",
            "outcome": "unresolved",
            "title": "Gave up",
            "summary": "Could not fix it.",
        }
        exported["nodes"]["scope"]["next"]["no"] = "extra"
        path = tmp_path / "changed.tree.json"
        path.write_text(json.dumps(exported), encoding="utf-8")
        page.click("button:has-text('Import')")
        page.set_input_files("[role=dialog] input[type=file]", str(path))
        page.wait_for_selector("[data-testid=import-summary]:has-text('5 steps')")
        page.click("[data-testid=import-confirm]")
        node(page, "extra").wait_for()
        saved(page)
        draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
        assert (
            draft["title"] == "Printer offline (imported)"
            and draft["nodes"]["scope"]["next"]["no"] == "extra"
        )

        page.click("[aria-label=Undo]")
        page.wait_for_selector("[data-testid=graph-node][data-node-id=extra]", state="detached")
        saved(page)
        assert "extra" not in http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()["nodes"]
    finally:
        ctx.close()
