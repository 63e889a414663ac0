"""Team admin > Usage in a real browser: the owner reads the figures of what the team did,
sees them follow new work on Refresh, sees the 80% warning once the operator sets a low
quota with `branchline tenant quota` (on the Usage page, and as a notice on the other admin
tabs), and the page fits a phone without scrolling sideways."""

from __future__ import annotations

import re

from tests.attachments.helpers import png, publish_tree, start_session, upload
from tests.browser.conftest import DESKTOP, app_context, assert_accessible, shot, sign_in
from tests.conftest import Tenant, branchline_cli

# Measured afresh on every request, so the operator's change shows at the next Refresh.
SERVER_ENV = {"BRANCHLINE_TENANT_QUOTA_CACHE_SECONDS": "0"}
PHONE = {"width": 375, "height": 740}


def _set_quota(server, tenant_id: str, size: str) -> None:
    done = branchline_cli(server.env, "tenant", "quota", tenant_id, "--storage", size)
    assert done.returncode == 0, done.stderr


def _figure(page, testid: str) -> str:
    return page.inner_text(f"[data-testid={testid}]").strip()


def _open_usage(page, server) -> None:
    page.goto(server.url + "/admin/usage")
    page.wait_for_selector("[data-testid=storage-summary]")


def test_owner_reads_usage_and_the_operators_low_quota_warning(browser, http, server):
    team = Tenant(http)
    engineer = team.add_user("engineer")
    tree_id = publish_tree(http, team)
    first = start_session(http, engineer, tree_id)
    start_session(http, engineer, tree_id)
    r = http.post(
        f"/api/v1/sessions/{first}/events",
        headers=engineer.headers,
        json={"type": "completed", "outcome": "resolved"},
    )
    assert r.status_code in (200, 201), r.text
    stored = upload(http, engineer, first, png(800, 600))
    assert stored.status_code == 201, stored.text
    api = http.get("/api/v1/tenant/usage", headers=team.headers).json()

    ctx = app_context(browser, DESKTOP)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, team.owner_email, team.password)
        _open_usage(page, server)
        assert page.get_attribute("nav[aria-label='Team admin'] >> text=Usage", "aria-current") == "page"
        assert _figure(page, "trees-published") == "1"
        assert _figure(page, "sessions-total") == "2"
        assert _figure(page, "sessions-month") == "2"
        assert _figure(page, "sessions-completed") == "1"
        assert _figure(page, "members-engineer") == "1"
        assert _figure(page, "members-owner") == "1"
        size_kb = f"{stored.json()['size'] / 1024:.1f} KB"
        assert f"1 file, {size_kb}" in _figure(page, "attachments-usage")
        summary = _figure(page, "storage-summary")
        assert re.fullmatch(r"\d+\.\d (KB|MB) of 5\.0 GB \(\d+(\.\d)?%\)", summary), summary
        assert "default quota" in _figure(page, "quota-source")
        assert "branchline tenant quota" in _figure(page, "quota-source")
        assert re.fullmatch(r"Storage measured \d+ s ago", _figure(page, "measured"))
        meter = page.locator("[data-testid=storage-meter]")
        assert meter.get_attribute("role") == "meter" and meter.get_attribute("aria-valuetext") == summary
        attachment_limit = _figure(page, "limit-attachment_max_size")
        assert "Largest attachment" in attachment_limit and "25.0 MB" in attachment_limit
        assert "a minute" in _figure(page, "limit-rate_user")
        assert page.locator("[data-testid=usage-warning]").count() == 0
        db_sessions = api["storage"]["databases"][0]
        assert db_sessions["name"] == "sessions"
        assert f"{db_sessions['documents']} documents" in _figure(page, "db-sessions")
        assert_accessible(page, "usage")
        shot(page, "admin-usage-desk")

        # New work shows after Refresh, without reloading the page.
        start_session(http, engineer, tree_id)
        page.click("button:has-text('Refresh')")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=sessions-total]').textContent.trim() === '3'"
        )

        # The operator sets a quota the team has used 85% of: the page warns in words.
        used = http.get("/api/v1/tenant/usage", headers=team.headers).json()["storage"]["used_bytes"]
        _set_quota(server, team.id, str(int(used / 0.85)))
        page.click("button:has-text('Refresh')")
        warning = page.locator("[data-testid=usage-warning]")
        warning.wait_for()
        text = warning.inner_text()
        assert text.startswith("Storage warning:") and "% full" in text and "raise the quota" in text
        assert warning.get_attribute("role") == "status"
        assert "own quota, set by the operator" in _figure(page, "quota-source")
        assert "(set by the operator for your team)" in _figure(page, "limit-storage_quota")
        pct = float(meter.get_attribute("aria-valuenow"))
        assert 80 <= pct < 100
        assert_accessible(page, "usage with a warning")
        shot(page, "admin-usage-warning-desk")

        # The other admin tabs carry a short notice leading to Usage.
        page.click("nav[aria-label='Team admin'] >> text=Members")
        notice = page.locator("[data-testid=usage-notice]")
        notice.wait_for()
        assert "Storage almost full." in notice.inner_text()
        shot(page, "admin-usage-notice-members")
        notice.locator("text=See Usage").click()
        page.wait_for_selector("[data-testid=usage-warning]")
        assert page.url.endswith("/admin/usage")
    finally:
        ctx.close()


def test_usage_fits_a_phone(browser, http, server):
    team = Tenant(http)
    publish_tree(http, team)  # the library the sign-in lands on is not empty
    used = http.get("/api/v1/tenant/usage", headers=team.headers).json()["storage"]["used_bytes"]
    _set_quota(server, team.id, str(int(used / 0.9)))
    ctx = app_context(browser, PHONE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, team.owner_email, team.password)
        _open_usage(page, server)
        page.wait_for_selector("[data-testid=usage-warning]")
        page.wait_for_selector("[data-testid=limit-login_failures]")
        overflow = page.evaluate(
            "(() => { const s = document.scrollingElement; return s.scrollWidth - s.clientWidth; })()"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at 375 px"
        # Every limit's value stays on screen, beside its label.
        for box in page.locator("[data-testid=limits] td").all():
            rect = box.bounding_box()
            assert rect is not None and rect["x"] + rect["width"] <= PHONE["width"] + 0.5
        assert page.locator("button:has-text('Refresh')").is_visible()
        shot(page, "admin-usage-phone")
        page.screenshot(path=str(shot(page, "admin-usage-phone-full")), full_page=True)
    finally:
        ctx.close()


def test_an_engineer_is_told_usage_is_for_owners_and_admins(browser, http, server):
    team = Tenant(http)
    publish_tree(http, team)
    engineer = team.add_user("engineer")
    ctx = app_context(browser, PHONE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        page.goto(server.url + "/admin/usage")
        page.wait_for_selector("text=Admins only")
        assert page.locator("[data-testid=storage-summary]").count() == 0
    finally:
        ctx.close()
