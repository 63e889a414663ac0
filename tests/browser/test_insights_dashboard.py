"""The insights dashboard: a lead opens /insights and reads figures that match sessions whose
outcomes and durations were set through the API, filters them, compares two versions, follows a
hot spot to the editor's suggestions, and still sees the last figures offline. Authors see no
per-engineer table; engineers are told the dashboard is not for their role."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, app_context, assert_accessible, shot, wait_for_service_worker
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant
from tests.insights.test_analytics_api import run, three_sessions
from tests.sessions.test_sessions_api import event, start

DASHBOARD = {"width": 1366, "height": 768}
KEPT_FIGURES = "Object.keys(localStorage).filter(k => k.startsWith('bl.insights.'))"


def known_sessions(http, tenant: Tenant):
    """Five sessions with hand-computed figures.

    Version 1: A (e1) resolved, B (e2) escalated, C (e1) custom step at vda then abandoned there,
    D (e2, client Contoso) resolved through vda. Version 2 (vda retitled): E (e1) escalated.
    All versions: 5 sessions, 4 completed, 2 resolved (50%); vda reached 3 times (A, C, D), left
    once (C): 33%. Paths: scope>vda>service>fixed 2 (A, D), scope>event>escalate 2 (B, E), of 4.
    """
    tree_id, e1, e2 = three_sessions(http, tenant)
    r = http.post("/api/v1/clients", headers=tenant.headers, json={"name": "Contoso Ltd"})
    assert r.status_code == 201, r.text
    client_id = r.json()["_id"]
    d = start(http, e2, tree_id, client_id=client_id)
    created = d["header"]["created_at"]
    for offset, body in [
        (1000, {"type": "answered", "node_id": "scope", "answer": "yes"}),
        (2000, {"type": "answered", "node_id": "vda", "answer": "submitted", "value": "v9"}),
        (4000, {"type": "answered", "node_id": "service", "answer": "done"}),
        (5000, {"type": "completed"}),
    ]:
        event(http, e2, d["session_id"], {**body, "ts": created + offset})
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()
    draft["nodes"]["vda"]["title"] = "Which VDA is unregistered?"
    r = http.put(f"/api/v1/trees/{tree_id}", headers=tenant.headers, json=draft)
    assert r.status_code == 200, r.text
    r = http.post(
        f"/api/v1/trees/{tree_id}/publish",
        headers=tenant.headers,
        json={"change_note": "v2", "_rev": r.json()["rev"]},
    )
    assert r.status_code in (200, 201), r.text
    run(
        http,
        e1,
        tree_id,
        [
            (1000, {"type": "answered", "node_id": "scope", "answer": "no"}),
            (3000, {"type": "answered", "node_id": "event", "answer": "1010"}),
            (4000, {"type": "completed"}),
        ],
    )
    return tree_id, e1, e2, client_id


def full_shot(page, name: str) -> None:
    """The whole page, below the fold too: what a reviewer scrolls through."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def text(page, selector: str) -> str:
    return (page.text_content(selector) or "").strip()


def test_a_lead_reads_filters_and_keeps_the_figures_offline(browser, http, server):
    tenant = Tenant(http)
    tree_id, e1, _e2, client_id = known_sessions(http, tenant)
    ctx = app_context(browser, DASHBOARD)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").first.click()
        page.wait_for_selector("[data-testid=figures-fresh]")
        assert text(page, "[data-testid=total-sessions]") == "5"
        assert text(page, "[data-testid=total-success]") == "50%"
        row = f"[data-testid=tree-table] tr[data-row='{tree_id}']"
        assert text(page, f"{row} [data-col=sessions]") == "5"
        assert text(page, f"{row} [data-col=success]").startswith("50%")
        assert text(page, f"{row} [data-col=p50]") == "5 s"  # durations 12, 10, 5, 4 s: nearest rank
        assert "5 sessions (2 resolved)" in page.get_attribute("[data-testid=sessions-chart]", "aria-label")
        engineers = page.locator("[data-testid=engineer-table] tbody tr")
        expect(engineers).to_have_count(2)
        e1_row = f"[data-testid=engineer-table] tr[data-row='{e1.id}']"
        assert text(page, f"{e1_row} [data-col=sessions]") == "3"
        expect(page.locator(f"{e1_row} th")).to_contain_text(e1.email)
        assert_accessible(page, "the insights overview")
        shot(page, "insights-01-overview")
        full_shot(page, "insights-01-overview-full")

        # The CSV is fetched with the sign-in and saved as a file: the same figures.
        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV").click()
        sheet = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        assert [(r["sessions"], r["resolved"]) for r in sheet if r["kind"] == "tree"] == [("5", "2")]

        # Days before any session: nothing to count.
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86_400))
        page.fill("#insights-from", yesterday)
        page.fill("#insights-to", yesterday)
        expect(page.locator("[data-testid=total-sessions]")).to_have_text("0")
        expect(page.locator("[data-testid=insights-overview]")).to_contain_text("No sessions in these days.")

        # The tree's page, unfiltered: every version's sessions on the latest version's graph.
        page.goto(server.url + "/insights")
        page.click(f"{row} a")
        page.wait_for_selector("[data-testid=heat-graph] [data-node-id=vda]")
        assert text(page, "[data-testid=tree-sessions]") == "5"
        assert text(page, "[data-testid=tree-success]") == "50%"
        vda = "[data-testid=heat-graph] [data-node-id=vda]"
        assert text(page, f"{vda} [data-testid=node-drop]") == "Drop-off 33% (1 of 3)"
        fixed_path = "[data-testid=path-list] [data-path='scope>vda>service>fixed'] [data-testid=path-count]"
        assert text(page, fixed_path) == "2 sessions (50%)"
        hot = page.locator("[data-testid=hot-spots] [data-node-id=vda]")
        expect(hot).to_contain_text("1 custom step")
        assert_accessible(page, "a tree's insights")
        shot(page, "insights-02-tree")
        full_shot(page, "insights-02-tree-full")

        # The client filter: Contoso's one session went through vda without leaving.
        page.select_option("#insights-client", client_id)
        expect(page.locator("[data-testid=tree-sessions]")).to_have_text("1")
        assert text(page, "[data-testid=tree-success]") == "100%"
        expect(page.locator(f"{vda} [data-testid=node-drop]")).to_have_text("No drop-off")
        page.select_option("#insights-client", "")

        # Version 1 only, then compared with version 2, where vda was retitled.
        page.select_option("#insights-version", "1")
        expect(page.locator("[data-testid=tree-sessions]")).to_have_text("4")
        assert text(page, "[data-testid=tree-success]") == "67%"
        page.select_option("#insights-compare", "2")
        table = page.locator("[data-testid=compare-table]")
        expect(table).to_contain_text("Version 2")
        expect(table.locator("tr", has_text="Sessions")).to_have_text("Sessions41")
        expect(page.locator(vda)).to_contain_text("Changed")
        expect(page.locator("[data-testid=heat-graph] [data-node-id=scope]")).not_to_contain_text("Changed")
        # Step by step too: version 2's one session went scope > event, never reaching vda.
        vda_row = page.locator("[data-testid=node-table] tr[data-node-id=vda]")
        expect(vda_row.locator("[data-col=drop]")).to_have_text("1 (33%)")
        expect(vda_row.locator("[data-col=drop-other]")).to_have_text("–")
        expect(
            page.locator("[data-testid=node-table] tr[data-node-id=event] [data-col=median-other]")
        ).to_have_text("2 s")
        full_shot(page, "insights-03-compare")
        # The filters live in the address: a reload (or a shared link) shows the same comparison.
        assert "version=1" in page.url and "compare=2" in page.url
        page.reload()
        expect(page.locator("[data-testid=compare-table]")).to_contain_text("Version 2")
        expect(page.locator("#insights-version")).to_have_value("1")

        # A hot spot opens the editor on that step, its suggestion in view.
        page.click("[data-testid=hot-spots] [data-node-id=vda] a")
        page.wait_for_selector("[data-testid=suggestions]", timeout=30000)
        expect(page.locator("[data-testid=suggestions]")).to_contain_text("Pinged it")

        # Offline: the last figures, said to be as of when they were fetched.
        wait_for_service_worker(page)
        page.goto(server.url + "/insights")
        page.wait_for_selector("[data-testid=figures-fresh]")
        ctx.set_offline(True)
        page.reload()
        # "Refreshing" first, with the kept copy; "Offline" once the server proves out of reach.
        expect(page.locator("[data-testid=figures-as-of]")).to_contain_text("Offline: figures as of")
        assert text(page, "[data-testid=total-sessions]") == "5"
        assert text(page, f"{row} [data-col=sessions]") == "5"
        shot(page, "insights-04-offline")
        # The tree's page too, graph and all, as last seen online.
        page.click(f"{row} a")
        page.wait_for_selector(f"{vda} [data-testid=node-drop]")
        assert text(page, f"{vda} [data-testid=node-drop]") == "Drop-off 33% (1 of 3)"
        expect(page.locator("[data-testid=figures-as-of]")).to_contain_text("Offline: figures as of")
    finally:
        ctx.close()


def test_authors_see_no_engineer_table_and_engineers_are_refused(browser, http, server):
    tenant = Tenant(http)
    tree_id, e1, _ = three_sessions(http, tenant)
    author = tenant.add_user("author")
    ctx = app_context(browser, DASHBOARD)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, author.email, author.password)
        page.goto(server.url + "/insights")
        page.wait_for_selector(f"[data-testid=tree-table] tr[data-row='{tree_id}']")
        assert text(page, "[data-testid=total-sessions]") == "3"
        expect(page.locator("[data-testid=engineer-table]")).to_have_count(0)
        expect(page.get_by_role("heading", name="Per engineer")).to_have_count(0)
        # The kept figures belong to this user on this device: signing out removes them.
        page.wait_for_selector("[data-testid=figures-fresh]")
        assert page.evaluate(KEPT_FIGURES), "the figures were not kept for offline use"
        page.goto(server.url + "/profile")
        page.click("[data-testid=sign-out]")
        page.wait_for_selector("#email")
        assert page.evaluate(KEPT_FIGURES) == []
    finally:
        ctx.close()

    ctx = app_context(browser, DASHBOARD)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, e1.email, e1.password)
        expect(page.get_by_role("navigation", name="Main").first).to_be_visible()
        expect(page.get_by_role("link", name="Insights")).to_have_count(0)
        page.goto(server.url + "/insights")
        expect(page.locator("[data-testid=insights-refused]")).to_contain_text("not available for your role")
        page.goto(f"{server.url}/insights/trees/{tree_id}")
        expect(page.locator("[data-testid=insights-refused]")).to_contain_text("engineer")
    finally:
        ctx.close()
