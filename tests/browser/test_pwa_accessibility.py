"""Accessibility of the real app, judged by axe-core in headless Chromium: no serious or
critical violation, in the light theme or the dark one, on the pages engineers, authors and
admins use (sign-in, library, a started session at phone and desktop size, the export preview,
the editor with a tree open, the team pages)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    answer_step,
    app_context,
    assert_accessible,
    shortest_run,
    sign_in,
    start_session,
    wait_synced,
)
from tests.browser.test_editor_build_publish import sign_in as sign_in_anywhere
from tests.conftest import Tenant

TREE_ID = "tree:citrix-vda-registration"
TREE_TITLE = "Citrix VDA Not Registering"
# Its shortest run meets every kind of step.
RUN_TREE_ID = "tree:dns-resolution-failure"


def test_sign_in_and_library_pass_axe(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        page.goto(server.url + "/signin")
        page.wait_for_selector("#email")
        assert_accessible(page, "the sign-in page")
        page.get_by_role("button", name="Sign in with SSO").click()
        page.wait_for_selector("#sso-name")
        assert_accessible(page, "the sign-in page with single sign-on open")

        page.goto(server.url + "/register")
        page.wait_for_selector("#email")
        assert_accessible(page, "the register page")

        sign_in(page, server.url, engineer.email, engineer.password)
        wait_synced(page)
        assert_accessible(page, "the library")
        # The sync badge is announced starting with the words it shows.
        expect(page.get_by_test_id("sync-status")).to_have_accessible_name(
            re.compile(r"^Online\W+nothing waiting\. Last synced")
        )

        for path, name in [("/history", "the session history"), ("/profile", "the profile page")]:
            page.goto(server.url + path)
            page.wait_for_selector("main h1")
            assert_accessible(page, name)
    finally:
        ctx.close()


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["phone", "desktop"])
def test_runner_dialogs_and_export_pass_axe(browser, http, server, viewport):
    """Every kind of step (choice, input, action, question, resolution), the runner's dialogs
    and the export preview, on a phone and on a laptop."""
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    r = http.get(f"/api/v1/trees/{RUN_TREE_ID}/versions/1", headers=engineer.headers)
    assert r.status_code == 200, r.text
    tree = r.json().get("tree", r.json())
    run = shortest_run(tree)
    kinds = {tree["nodes"][n]["type"] for n, _, _ in run} | {tree["nodes"][run[-1][2]]["type"]}
    assert kinds == {"choice", "input", "action", "question", "resolution"}, kinds

    ctx = app_context(browser, viewport)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        sid = start_session(page, tree["title"], "T20261203.0007")
        wait_synced(page)
        seen: set[str] = set()
        for node_id, ans, nxt in run:
            kind = tree["nodes"][node_id]["type"]
            if kind not in seen:
                seen.add(kind)
                assert_accessible(page, f"a {kind} step")
            answer_step(page, tree, node_id, ans, nxt)
        assert_accessible(page, "a resolution step")

        for opener, name in [
            ("+ Custom step", "the custom step dialog"),
            ("Finish with a summary", "the finish dialog"),
            ("Session", "the session menu"),
        ]:
            page.get_by_role("button", name=opener, exact=True).click()
            page.get_by_role("dialog").wait_for()
            assert_accessible(page, name)
            page.keyboard.press("Escape")
            expect(page.get_by_role("dialog")).to_have_count(0)

        page.goto(f"{server.url}/s/{sid}/export")
        page.wait_for_selector("[data-testid=export-preview]")
        assert_accessible(page, "the export preview")
    finally:
        ctx.close()


def test_editor_with_a_tree_open_passes_axe(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    author = tenant.add_user("author")
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in_anywhere(page, server.url, author.email, author.password)
        page.goto(server.url + "/editor")
        page.wait_for_selector(f"text={TREE_TITLE}")
        assert_accessible(page, "the editor's tree list")

        page.goto(f"{server.url}/editor/{TREE_ID}")
        page.wait_for_selector("[data-testid=graph-node]")
        page.locator("[data-testid=graph-node]").first.click()
        page.wait_for_selector("[data-testid=inspector]")
        assert_accessible(page, "the editor with a step open")

        for opener, name in [
            ("▶ Preview run", "the preview run"),
            ("Publish", "the publish dialog"),
            ("Import", "the import dialog"),
        ]:
            page.get_by_role("button", name=opener, exact=True).click()
            page.get_by_role("dialog").wait_for()
            assert_accessible(page, name)
            page.keyboard.press("Escape")
            expect(page.get_by_role("dialog")).to_have_count(0)

        page.goto(f"{server.url}/editor/{TREE_ID}/history")
        page.wait_for_selector("text=Version 1")
        assert_accessible(page, "the version history")
    finally:
        ctx.close()


def test_team_pages_pass_axe(browser, http, server):
    tenant = Tenant(http)
    tenant.add_user("engineer")
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in_anywhere(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin")
        page.wait_for_selector("[data-testid=user-row]")
        assert_accessible(page, "the team page")
        page.get_by_role("button", name="+ Add member").click()
        page.get_by_role("dialog").wait_for()
        assert_accessible(page, "the add member dialog")
        page.keyboard.press("Escape")

        page.goto(server.url + "/admin/keys")
        page.wait_for_selector("#k-name")
        assert_accessible(page, "the API keys page")

        page.goto(server.url + "/admin/integrations")
        page.wait_for_selector("text=No webhooks yet")
        assert_accessible(page, "the Integrations page")
        page.get_by_role("button", name="+ New webhook").click()
        page.get_by_role("dialog").wait_for()
        assert_accessible(page, "the new webhook dialog")
        page.keyboard.press("Escape")

        page.goto(server.url + "/admin/sso")
        page.wait_for_selector("#sso-slug")
        assert_accessible(page, "the single sign-on page")
    finally:
        ctx.close()
