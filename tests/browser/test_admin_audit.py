"""The Audit log page: an owner reads what happened in sentences, filters by group and by
person (in the URL, so Back works), pages with Load more, downloads the filtered CSV, checks
the chain and sets the retention; an engineer is refused; a phone shows the entries as cards
without a sideways scroll."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, app_context, assert_accessible, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant

LONG_NAME = "connector-" + "x" * 100  # one word longer than a phone is wide


def _audited_things(http, tenant: Tenant):
    """A role change, an API key, a team whose name is markup, and a failed sign-in."""
    eng = tenant.add_user("engineer")
    r = http.patch(f"/api/v1/users/{eng.id}", headers=tenant.headers, json={"role": "author"})
    assert r.status_code == 200, r.text
    r = http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": "PSA sync", "role": "viewer"})
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/teams", headers=tenant.headers, json={"name": "<b>Night shift</b>", "members": []})
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/auth/login", json={"email": eng.email, "password": "not the password 1"})
    assert r.status_code == 401
    return eng


def _api_actions(http, tenant, **params) -> list[str]:
    r = http.get("/api/v1/audit", headers=tenant.headers, params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    return [e["action"] for e in r.json()["items"]]


def test_an_owner_reads_filters_pages_downloads_checks_and_sets_retention(browser, http, server):
    tenant = Tenant(http)
    eng = _audited_things(http, tenant)
    ctx = app_context(browser, DESKTOP, accept_downloads=True)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin")
        page.click("nav[aria-label='Team admin'] >> text=Audit log")
        page.wait_for_url(re.compile(r"/admin/audit$"))
        entries = page.locator("[data-testid=audit-entry]")
        expect(entries.first).to_be_visible()
        owner = tenant.owner_email
        for said in (
            f"{owner} changed Engineer’s role from engineer to author",
            f"{owner} created the API key “PSA sync” acting as viewer",
            f"{eng.email} failed to sign in: wrong password",
            f"{owner} created the team “<b>Night shift</b>”",  # markup in a name shows as text
        ):
            expect(page.locator("[data-testid=audit-list]")).to_contain_text(said)
        assert page.locator("[data-testid=audit-list] b").count() == 0
        # Newest first: the owner's own sign-in in this browser heads the list.
        assert entries.first.get_attribute("data-action") == "auth.signed_in"
        seqs = [int(s) for s in entries.evaluate_all("els => els.map(e => e.dataset.seq)")]
        assert seqs == sorted(seqs, reverse=True)
        role_row = page.locator("[data-testid=audit-entry][data-action='user.role_changed']")
        expect(role_row.locator("[data-testid=audit-ip]")).to_have_text("127.0.0.1")
        role_row.locator("summary:has-text('Details')").click()
        expect(role_row.locator("[data-testid=audit-details]")).to_contain_text('"to": "author"')
        shot(page, "admin-audit-01-list")
        assert_accessible(page, "the audit log")

        # A group: only sign-ins, and the filter is in the URL.
        page.select_option("#audit-action", "auth.")
        page.click("button:has-text('Apply filters')")
        page.wait_for_url(re.compile(r"/admin/audit\?action=auth\.$"))
        expect(entries.first).to_have_attribute("data-action", re.compile(r"^auth\."))
        actions = entries.evaluate_all("els => els.map(e => e.dataset.action)")
        assert actions == _api_actions(http, tenant, action="auth.") and len(actions) >= 3

        # One person on top: the engineer's sign-ins only.
        page.fill("#audit-actor", eng.email.upper())
        page.click("button:has-text('Apply filters')")
        page.wait_for_url(re.compile(r"actor="))
        expect(entries).to_have_count(2)
        assert {a.strip() for a in page.locator("[data-testid=audit-actor]").all_inner_texts()} == {eng.email}

        # The CSV of that same filter.
        with page.expect_download() as dl:
            page.click("button:has-text('Download CSV')")
        rows = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8").read())))
        assert [r["action"] for r in rows] == _api_actions(http, tenant, action="auth.", actor=eng.email)
        assert {r["actor_email"] for r in rows} == {eng.email}
        assert dl.value.suggested_filename.startswith("audit-log-")

        # Back: the group filter alone again, the form following the URL.
        page.go_back()
        page.wait_for_url(re.compile(r"/admin/audit\?action=auth\.$"))
        expect(page.locator("#audit-actor")).to_have_value("")
        expect(entries).to_have_count(len(_api_actions(http, tenant, action="auth.")))

        # Nothing matches: the page says so and how to widen the search.
        page.goto(server.url + "/admin/audit?action=api_key.&to=2020-01-01")
        expect(page.get_by_text("No entries match these filters.")).to_be_visible()
        expect(page.get_by_text("widen or clear the dates")).to_be_visible()
        page.click("button:has-text('Clear filters')")
        page.wait_for_url(re.compile(r"/admin/audit$"))
        expect(entries.first).to_be_visible()

        # Load more with a page of 3, until every entry is shown once.
        page.goto(server.url + "/admin/audit?limit=3")
        expect(entries).to_have_count(3)
        total = len(_api_actions(http, tenant))
        assert total > 6
        page.click("button:has-text('Load more')")
        expect(entries).to_have_count(6)
        while page.locator("button:has-text('Load more')").count():
            shown = entries.count()
            page.click("button:has-text('Load more')")
            expect(entries).not_to_have_count(shown)
        expect(entries).to_have_count(total)
        seqs = [int(s) for s in entries.evaluate_all("els => els.map(e => e.dataset.seq)")]
        assert seqs == list(range(seqs[0], 0, -1)), "every entry once, newest first, no gaps"

        # The chain checks out.
        page.click("button:has-text('Check integrity')")
        verdict = page.locator("[data-testid=audit-integrity][data-ok=yes]")
        expect(verdict).to_contain_text(f"The log is intact: {total} entries checked")

        # Retention: a refused value says why; a good one is saved and recorded.
        expect(page.locator("[data-testid=audit-retention-now]")).to_contain_text("kept forever")
        page.check("text=Remove entries older than")
        page.fill("#audit-retention-days", "0")
        page.click("button:has-text('Save retention')")
        refusal = page.locator("[role=alert]:has-text('The retention was not saved')")
        expect(refusal).to_contain_text("retention_days: Input should be greater than or equal to 1")
        assert http.get("/api/v1/audit/settings", headers=tenant.headers).json() == {"retention_days": None}
        page.fill("#audit-retention-days", "90")
        page.click("button:has-text('Save retention')")
        expect(page.locator("[data-testid=audit-retention-now]")).to_contain_text("older than 90 days")
        expect(refusal).to_have_count(0)
        assert http.get("/api/v1/audit/settings", headers=tenant.headers).json() == {"retention_days": 90}
        expect(entries.first).to_have_attribute("data-action", "audit.settings_changed")
        expect(entries.first).to_contain_text(
            "changed how long the audit log is kept from forever to 90 days"
        )
        shot(page, "admin-audit-02-retention")
    finally:
        ctx.close()


def test_an_engineer_is_refused(browser, http, server):
    tenant = Tenant(http)
    eng = tenant.add_user("engineer")
    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, eng.email, eng.password)
        page.goto(server.url + "/admin/audit")
        expect(page.locator("[role=alert]:has-text('Admins only')")).to_be_visible()
        assert page.locator("[data-testid=audit-entry]").count() == 0
        assert http.get("/api/v1/audit", headers=eng.headers).status_code == 403
    finally:
        ctx.close()


def test_on_a_phone_entries_are_cards_without_a_sideways_scroll(browser, http, server):
    tenant = Tenant(http)
    _audited_things(http, tenant)
    assert http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": LONG_NAME}).status_code == 201
    ctx = app_context(browser, {"width": 375, "height": 740})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin/audit")
        entries = page.locator("[data-testid=audit-entry]")
        expect(entries.first).to_be_visible()
        # The filters are folded behind one button, and open from it.
        expect(page.locator("#audit-action")).to_be_hidden()
        toggle = page.locator("button[aria-controls=audit-filters]")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        key_row = page.locator("[data-testid=audit-entry][data-action='api_key.created']").first
        key_row.locator("summary:has-text('Details')").click()
        expect(key_row.locator("[data-testid=audit-details]")).to_contain_text(LONG_NAME)

        def no_sideways_scroll() -> None:
            wide = page.evaluate("(d => d.scrollWidth - d.clientWidth)(document.documentElement)")
            assert wide <= 0, f"the page scrolls sideways by {wide}px"
            box = key_row.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375

        no_sideways_scroll()
        shot(page, "admin-audit-03-phone")
        assert_accessible(page, "the audit log on a phone")
        toggle.click()
        expect(page.locator("#audit-action")).to_be_visible()
        no_sideways_scroll()
        page.select_option("#audit-action", "api_key.")
        page.click("button:has-text('Apply filters')")
        page.wait_for_url(re.compile(r"action=api_key\.$"))
        expect(page.locator("#audit-action")).to_be_hidden()
        expect(toggle).to_contain_text("Filters (1 on)")
        expect(entries).to_have_count(2)
    finally:
        ctx.close()


def test_the_date_range_is_in_the_users_own_days(browser, http, server):
    """Auckland is a day ahead of UTC for half of each day: "from today" there must still hold
    what was just done, which a UTC reading of the date would leave out half of the time."""
    tenant = Tenant(http)
    _audited_things(http, tenant)
    zone = "Pacific/Auckland"
    today = datetime.now(ZoneInfo(zone)).date()
    ctx = app_context(browser, DESKTOP, timezone_id=zone)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        entries = page.locator("[data-testid=audit-entry]")
        page.goto(f"{server.url}/admin/audit?action=user.&from={today}&to={today}")
        expect(entries).to_have_count(2)  # the engineer's account and role change
        page.goto(f"{server.url}/admin/audit?action=user.&to={today - timedelta(days=1)}")
        expect(page.get_by_text("No entries match these filters.")).to_be_visible()
        page.fill("#audit-to", "")
        page.fill("#audit-from", str(today - timedelta(days=1)))
        page.click("button:has-text('Apply filters')")
        page.wait_for_url(re.compile(rf"action=user\.&from={today - timedelta(days=1)}$"))
        expect(entries).to_have_count(2)
    finally:
        ctx.close()
