"""Reviewed publishing in the browser (issue #19, point 2): with approval required, an
author's publish is refused with the reason; the author requests a review; an admin, in
another browser, sees the diff against the published version, comments on a step and
requests changes; the author sees the comment on that step, edits and asks again; the
admin approves and the publish goes through, the history naming who approved it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, app_context, assert_accessible, shot
from tests.browser.test_editor_build_publish import saved, sign_in
from tests.conftest import Tenant
from tests.trees_api.test_trees_api import small_tree

COMMENT = "Say which server the spooler runs on."


def test_publish_needs_another_persons_approval(browser, http, server):
    tenant = Tenant(http)
    author, engineer = tenant.add_user("author"), tenant.add_user("engineer")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree("Printer review")).json()[
        "id"
    ]
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={}).status_code == 201
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
    draft["nodes"]["restart"]["title"] = "Restart the print spooler service"
    assert http.put(f"/api/v1/trees/{tree_id}", headers=author.headers, json=draft).status_code == 200

    admin_ctx, author_ctx = app_context(browser, DESKTOP), app_context(browser, DESKTOP)
    try:
        admin = admin_ctx.new_page()
        sign_in(admin, server.url, tenant.owner_email, tenant.password)
        # The owner turns the rule on from the Team page.
        admin.goto(f"{server.url}/admin")
        switch = admin.get_by_test_id("require-approval")
        expect(switch).to_be_enabled(timeout=20000)
        switch.check()
        expect(switch).to_be_checked()
        expect(admin.get_by_test_id("save-status")).to_have_text("Saved", timeout=20000)
        # ... and names an engineer a reviewer.
        named = admin.get_by_label(f"{engineer.email} reviews trees")
        named.click()
        expect(named).to_be_checked()
        admin.reload()
        expect(admin.get_by_test_id("require-approval")).to_be_checked(timeout=20000)
        expect(admin.get_by_label(f"{engineer.email} reviews trees")).to_be_checked()
        assert http.get(f"/api/v1/users/{engineer.id}", headers=tenant.headers).json()["reviewer"] is True

        page = author_ctx.new_page()
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        saved(page)
        expect(page.get_by_test_id("review-badge")).to_have_text("Needs review to publish", timeout=20000)
        # Publishing without an approval: refused, and the dialog says what to do.
        page.get_by_role("button", name="Publish", exact=True).click()
        page.get_by_test_id("publish-confirm").click()
        error = page.get_by_role("dialog").get_by_text(re.compile("Request a review"))
        expect(error).to_be_visible(timeout=20000)
        expect(error).to_contain_text("approved by someone other than Author, its last editor")
        shot(page, "editor-publish-needs-approval")
        page.get_by_test_id("publish-request-review").click()
        page.fill("#review-note", "Renamed the restart step.")
        page.get_by_test_id("review-request-confirm").click()
        expect(page.get_by_test_id("review-badge")).to_have_text("In review", timeout=20000)

        # The admin sees what changed against version 1, comments on the step, asks for changes.
        admin.goto(f"{server.url}/editor")
        admin.get_by_test_id("reviews-waiting").get_by_role("link", name="Printer review").click()
        expect(admin.get_by_test_id("review-status")).to_have_attribute("data-status", "open", timeout=20000)
        expect(admin.get_by_text("Renamed the restart step.")).to_be_visible()
        changed = admin.locator("[data-node=restart]")
        expect(changed.get_by_test_id("diff-changed")).to_contain_text("Restart the print spooler service")
        expect(changed.locator("[data-testid=diff-field][data-field=title] [data-side=old]")).to_have_text(
            "Restart the spooler"
        )
        changed.get_by_role("button", name="Comment on this step").click()
        changed.get_by_label("Comment on this step").fill(COMMENT)
        changed.get_by_role("button", name="Add comment").click()
        expect(changed.get_by_test_id("review-comment")).to_have_text(
            "Owner: Say which server the spooler runs on."
        )
        assert_accessible(admin, "editor-review")
        admin.fill("#review-changes", "Name the print server in the title.")
        admin.get_by_test_id("review-reject").click()
        expect(admin.get_by_test_id("review-status")).to_have_attribute("data-status", "changes_requested")
        shot(admin, "editor-review-changes-requested")

        # The author sees the comment on the step itself, edits, and asks again.
        page.goto(f"{server.url}/editor/{tree_id}?node=restart")
        expect(page.get_by_test_id("review-badge")).to_have_text("Changes requested", timeout=20000)
        card = page.locator("[data-testid=graph-node][data-node-id=restart]")
        expect(card.get_by_test_id("review-comment-badge")).to_have_text("1")
        expect(page.get_by_test_id("review-comment-badge")).to_have_count(1)
        expect(page.get_by_test_id("node-review-comment")).to_have_text(
            "Owner: Say which server the spooler runs on."
        )
        shot(page, "editor-review-comment-on-step")
        assert_accessible(page, "editor-with-review-comments")
        page.fill("#f-title", "Restart the spooler on PRINT01")
        saved(page)
        page.get_by_role("button", name="Request review").click()
        page.get_by_test_id("review-request-confirm").click()
        expect(page.get_by_test_id("review-badge")).to_have_text("In review", timeout=20000)

        admin.reload()  # still on the first review, which points to the newer one
        admin.get_by_test_id("newer-review").click()
        expect(admin.get_by_test_id("review-status")).to_have_attribute("data-status", "open", timeout=20000)
        admin.get_by_test_id("review-approve").click()
        expect(admin.get_by_test_id("review-status")).to_have_attribute("data-status", "approved")

        page.reload()
        expect(page.get_by_test_id("review-badge")).to_have_text("Approved", timeout=20000)
        page.get_by_role("button", name="Publish", exact=True).click()
        page.get_by_test_id("publish-confirm").click()
        expect(page.get_by_test_id("notice")).to_contain_text("Published version 2", timeout=20000)

        page.goto(f"{server.url}/editor/{tree_id}/history")
        expect(page.get_by_test_id("version-2").get_by_test_id("version-people")).to_have_text(
            "Published by Author · review requested by Author, approved by Owner", timeout=20000
        )
        shot(page, "editor-history-approved-by")
    finally:
        admin_ctx.close()
        author_ctx.close()
