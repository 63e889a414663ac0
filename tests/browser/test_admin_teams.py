"""Teams on the admin Team page: an owner creates a team and adds an engineer; the engineer's
device then receives the tree scoped to that team, which it did not before."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant
from tests.teams.test_team_trees import _scope, _tree


def _synced(http, tenant, who) -> set[str]:
    return {
        r["id"] for r in http.get(f"/sync/{tenant.id}/trees/_changes", headers=who.headers).json()["results"]
    }


def test_an_owner_creates_a_team_and_adds_a_member(browser, http, server):
    tenant = Tenant(http)
    eng = tenant.add_user("engineer")
    secret = _tree(http, tenant, "wan-secret", "WAN runbook")
    ctx = app_context(browser, {"width": 1280, "height": 860})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin")
        page.fill("[aria-label='New team name']", "Network")
        page.click("button:has-text('Create team')")
        row = page.locator("[data-testid=team-row][data-name='Network']")
        row.locator("text=No members yet").wait_for()
        team_id = http.get("/api/v1/teams", headers=tenant.headers).json()["items"][0]["id"]
        _scope(http, tenant, secret, {team_id: ["run"]})
        assert "tree:wan-secret" not in _synced(http, tenant, eng)

        row.locator("select[aria-label='Add a member to Network']").select_option(eng.id)
        row.locator("button:has-text('Add to team')").click()
        row.locator("[data-testid=team-member]:has-text('Engineer')").wait_for()
        shot(page, "admin-teams-01-member-added")
        assert http.get(f"/api/v1/teams/{team_id}", headers=tenant.headers).json()["members"] == [eng.id]
        assert "tree:wan-secret" in _synced(http, tenant, eng)
    finally:
        ctx.close()


def test_an_owner_scopes_a_tree_to_a_team_in_the_editor(browser, http, server):
    tenant = Tenant(http)
    eng = tenant.add_user("engineer")
    tree_id = _tree(http, tenant, "lan-secret", "LAN runbook")
    r = http.post("/api/v1/teams", headers=tenant.headers, json={"name": "Network", "members": []})
    team_id = r.json()["id"]
    assert tree_id in _synced(http, tenant, eng)
    ctx = app_context(browser, {"width": 1280, "height": 860})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        page.wait_for_selector("[data-testid=tree-settings]")
        page.locator("[data-testid=tree-teams-summary]:has-text('Open to everyone')").wait_for()
        # Two ticks in quick succession: the second is sent after the first is saved, so the
        # server keeps both, and "Saved" shows only once it does.
        page.check("[aria-label='Network may run']")
        page.check("[aria-label='Network may edit']")
        page.locator("[data-testid=tree-teams-summary]:has-text('Only these teams')").wait_for()
        expect(page.get_by_test_id("save-status")).to_have_text("Saved", timeout=20000)
        shot(page, "admin-teams-02-tree-scoped")
        teams = http.get(f"/api/v1/trees/{tree_id}/teams", headers=tenant.headers).json()["teams"]
        assert teams == {team_id: ["run", "edit"]}
        # Untick one: the server keeps the other.
        page.uncheck("[aria-label='Network may edit']")
        expect(page.get_by_test_id("save-status")).to_have_text("Saved", timeout=20000)
        teams = http.get(f"/api/v1/trees/{tree_id}/teams", headers=tenant.headers).json()["teams"]
        assert teams == {team_id: ["run"]}
        assert tree_id not in _synced(http, tenant, eng)
    finally:
        ctx.close()
