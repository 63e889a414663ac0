"""The version diff marks the words that changed inside a text field, not the whole field:
a body where one number changed shows that number struck out on the old side and added on
the new side, the rest of the sentence plain."""

from __future__ import annotations

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree

BODY = "Wait 5 minutes, then check the queue in Devices and Printers.\nPrint a test page."


def test_the_version_diff_marks_changed_words(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree = small_tree("Printer words")
    tree["nodes"]["restart"]["body"] = BODY
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=tree).json()["id"]
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={}).status_code == 201
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
    draft["nodes"]["restart"]["body"] = BODY.replace("Wait 5 minutes", "Wait 10 minutes")
    draft["nodes"]["restart"]["title"] = "Restart the print spooler"
    assert http.put(f"/api/v1/trees/{tree_id}", headers=author.headers, json=draft).status_code == 200
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={}).status_code == 201

    ctx = app_context(browser, {"width": 1360, "height": 860})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}/history")
        body = page.locator("[data-testid=diff-field][data-field=body]")
        body.wait_for()
        old, new = body.locator("[data-side=old]"), body.locator("[data-side=new]")
        assert old.text_content() == BODY and new.text_content() == BODY.replace("5", "10")
        assert old.locator("del").all_text_contents() == ["5"]
        assert new.locator("ins").all_text_contents() == ["10"]
        title = page.locator("[data-testid=diff-field][data-field=title]")
        assert title.locator("[data-side=old] del").count() == 0
        assert [t.strip() for t in title.locator("[data-side=new] ins").all_text_contents()] == ["print"]
        shot(page, "editor-version-word-diff")
    finally:
        ctx.close()
