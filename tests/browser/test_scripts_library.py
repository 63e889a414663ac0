"""The script library in the PWA (issue 18): an engineer picks a starter script, fills in its
values, is told in words when a value cannot be used, and copies the rendered PowerShell; an
author publishes a draft, which engineers then see."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import MOBILE, app_context, assert_accessible, shot, sign_in
from tests.conftest import Tenant
from tests.scripts.factories import small_script


def test_an_engineer_fills_in_a_script_and_copies_it(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        page.get_by_role("link", name="Scripts", exact=True).click()
        scripts = page.get_by_test_id("script-list").get_by_role("listitem")
        expect(scripts).to_have_count(8)
        expect(scripts.filter(has_text="Clear FSLogix local profile cache")).to_contain_text("High risk")
        scripts.filter(has_text="Network connectivity test").get_by_role("link").click()

        page.get_by_label("Host name to reach (required)").fill("dc01; Remove-Item C:\\ -Recurse")
        page.get_by_role("button", name="Show the script").click()
        problem = page.get_by_role("alert")
        expect(problem).to_contain_text("These values cannot be used")
        expect(problem).to_contain_text("is not a host name")
        expect(page.get_by_test_id("rendered-script")).to_have_count(0)

        page.get_by_label("Host name to reach (required)").fill("dc01.contoso.local")
        page.get_by_label("TCP port").fill("389")
        page.get_by_role("button", name="Show the script").click()
        rendered = page.get_by_test_id("rendered-script")
        expect(rendered).to_contain_text("[string]$Target = 'dc01.contoso.local'")
        expect(rendered).to_contain_text("[int]$Port = 389")
        expect(page.get_by_role("alert")).to_have_count(0)
        shot(page, "scripts-01-rendered")
        assert_accessible(page, "a rendered script")

        page.get_by_role("button", name="Copy script").click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == rendered.inner_text()
        assert copied.startswith("# Network connectivity test (version 1)\nparam(")
    finally:
        ctx.close()


def test_an_author_publishes_a_draft_and_engineers_then_see_it(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    author = tenant.add_user("author")
    engineer = tenant.add_user("engineer")
    r = http.post("/api/v1/scripts", headers=author.headers, json=small_script(name="Check the print server"))
    assert r.status_code == 201, r.text

    def names() -> list[str]:
        return [i["name"] for i in http.get("/api/v1/scripts", headers=engineer.headers).json()["items"]]

    assert "Check the print server" not in names()

    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, author.email, author.password)
        page.goto(server.url + "/scripts")
        row = (
            page.get_by_test_id("script-list")
            .get_by_role("listitem")
            .filter(has_text="Check the print server")
        )
        expect(row).to_contain_text("Draft")
        row.get_by_role("link").click()
        expect(page.get_by_text("Draft; not published yet, engineers do not see it.")).to_be_visible()
        page.get_by_role("button", name="Publish this draft").click()
        expect(page.get_by_role("status").filter(has_text="Published as version 1")).to_be_visible()
        expect(page.get_by_text("Draft; version 1 is published.")).to_be_visible()
    finally:
        ctx.close()
    assert "Check the print server" in names()
