"""Print checklist: from a tree's page an engineer opens the tree as a paper checklist, laid
out exactly as the server lays it out (same pages, same numbers), one printed page per branch;
with no signal at all the page still opens, from the tree synced to the device."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    app_context,
    assert_accessible,
    shot,
    sign_in,
    wait_for_service_worker,
    wait_synced,
)
from tests.conftest import Tenant

TREE_ID = "tree:citrix-vda-registration"


def test_print_a_trees_checklist_offline_one_page_per_branch(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    r = http.get(f"/api/v1/trees/{TREE_ID}/checklist", headers=engineer.headers, params={"format": "json"})
    assert r.status_code == 200, r.text
    server_layout = r.json()

    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_for_service_worker(page)
        wait_synced(page)
        page.click(f"[data-testid=tree-list] >> text={server_layout['title']}")
        page.get_by_role("link", name="Print checklist").click()
        pages = page.get_by_test_id("checklist-page")
        expect(pages).to_have_count(len(server_layout["pages"]))

        # The same layout as the server's: titles, and every step under its number.
        for i, expected in enumerate(server_layout["pages"]):
            expect(pages.nth(i).get_by_role("heading", level=2)).to_have_text(expected["title"])
            steps = pages.nth(i).get_by_test_id("checklist-step")
            expect(steps).to_have_count(len(expected["steps"]))
            first = expected["steps"][0]
            expect(steps.first).to_have_attribute("data-node-id", first["node_id"])
            expect(steps.first).to_contain_text(f"{first['number']}. {first['title']}")
        decision = server_layout["pages"][0]["steps"][-1]
        first_answer = decision["answers"][0]
        expect(pages.first).to_contain_text(
            f"{first_answer['label']} → go to step {first_answer['to']['step']}, page 2"
        )
        shot(page, "checklist-01-screen")
        assert_accessible(page, "the checklist")

        # Printed: no app around it, each branch on a page of its own, no step split.
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="Main").first).to_be_hidden()
        expect(page.get_by_role("button", name="Print")).to_be_hidden()
        breaks = pages.evaluate_all("els => els.map(el => getComputedStyle(el).breakBefore)")
        assert breaks[0] != "page" and set(breaks[1:]) == {"page"}, breaks
        assert (
            page.get_by_test_id("checklist-step").first.evaluate("el => getComputedStyle(el).breakInside")
            == "avoid"
        )
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
        shot(page, "checklist-02-print")
        page.emulate_media(media="screen")

        # No signal: the checklist opens from the device alone.
        ctx.set_offline(True)
        page.reload()
        expect(page.get_by_test_id("checklist-page")).to_have_count(len(server_layout["pages"]))
    finally:
        ctx.close()


def test_a_viewer_who_cannot_run_the_tree_can_still_print_its_checklist(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    viewer = tenant.add_user("viewer")
    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, viewer.email, viewer.password)
        wait_synced(page)
        page.goto(f"{server.url}/start/{TREE_ID}")
        expect(page.get_by_text("Viewers read trees but do not run sessions")).to_be_visible()
        page.get_by_role("link", name="print its checklist").click()
        expect(page.get_by_test_id("checklist-page").first).to_contain_text("Start")
    finally:
        ctx.close()
