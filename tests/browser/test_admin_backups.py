"""Team admin > Backups in a real browser: an owner backs the workspace up and sees the new
snapshot listed with its size, downloads the workspace's archive (a zip with its manifest),
on a desk and on a phone; an admin sees the status without the buttons; an engineer is
refused."""

from __future__ import annotations

import json
import re
import zipfile

from tests.browser.conftest import DESKTOP, MOBILE, app_context, assert_accessible, shot, sign_in
from tests.conftest import Tenant


def format_bytes(n: int) -> str:
    """The page's formatBytes, for comparing what it shows with what the API answers."""
    if n < 1024:
        return f"{n} B"
    v, units, i = n / 1024, ["KB", "MB", "GB", "TB"], 0
    while v >= 1024 and i < len(units) - 1:
        v, i = v / 1024, i + 1
    return f"{v:.1f} {units[i]}" if v < 10 else f"{round(v)} {units[i]}"


def open_backups(browser, server, email: str, password: str, viewport):
    ctx = app_context(browser, viewport, accept_downloads=True)
    page = ctx.new_page()
    sign_in(page, server.url, email, password)
    page.goto(server.url + "/admin/backups")
    return ctx, page


def test_an_owner_backs_up_now_sees_the_snapshot_and_downloads_the_archive(browser, http, server, tmp_path):
    tenant = Tenant(http, starter_library=True)
    for viewport, name in ((DESKTOP, "desk"), (MOBILE, "phone")):
        ctx, page = open_backups(browser, server, tenant.owner_email, tenant.password, viewport)
        try:
            page.get_by_role("heading", name="Backups").wait_for()
            assert (
                page.get_attribute("nav[aria-label='Team admin'] >> text=Backups", "aria-current") == "page"
            )
            page.get_by_text("Every day at 02:30 UTC", exact=True).wait_for()
            before = page.locator("[data-testid=snapshot]").count()

            page.get_by_role("button", name="Back up now").click()
            page.get_by_role("status").filter(has_text="Backed up:").wait_for()
            rows = page.locator("[data-testid=snapshot]")
            rows.nth(before).wait_for()  # one more row than before
            assert rows.count() == before + 1
            newest = http.get("/api/v1/backups", headers=tenant.headers).json()["snapshots"][0]
            assert newest["kind"] == "workspace"
            first = rows.first
            assert "Back up now" in first.inner_text() and "OK" in first.inner_text()
            size = first.locator("[data-testid=snapshot-size]").inner_text()
            assert size == f"{format_bytes(newest['bytes'])} · {newest['doc_count']} documents"
            assert re.match(r"^\d+(\.\d)? (KB|MB) · \d+ documents$", size)
            # The page fits the screen: nothing scrolls sideways on a phone.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            shot(page, f"admin-backups-{name}")

            with page.expect_download() as info:
                page.get_by_role("button", name="Download this workspace's data").click()
            download = info.value
            assert download.suggested_filename.endswith(".zip")
            saved = tmp_path / f"{name}.zip"
            download.save_as(saved)
            with zipfile.ZipFile(saved) as zf:
                manifest = json.loads(zf.read("manifest.json"))
                assert manifest["format"] == "branchline-workspace-archive"
                assert manifest["source"]["tenant_id"] == tenant.id
                assert manifest["databases"]["trees"]["revisions"] > 0  # the starter library
            page.get_by_role("status").filter(has_text="Downloaded").wait_for()
            if viewport is DESKTOP:
                assert_accessible(page, "admin backups")
        finally:
            ctx.close()
    actions = http.get("/api/v1/audit", headers=tenant.headers, params={"action": "backup."}).json()["items"]
    assert sorted(e["action"] for e in actions) == ["backup.created"] * 2 + ["backup.downloaded"] * 2


def test_an_admin_sees_the_status_only_and_an_engineer_is_refused(browser, http, server):
    tenant = Tenant(http, starter_library=True)  # sign_in waits for the library's list
    admin, engineer = tenant.add_user("admin"), tenant.add_user("engineer")
    ctx, page = open_backups(browser, server, admin.email, admin.password, MOBILE)
    try:
        page.get_by_text("Only owners can back up this workspace now or download its data.").wait_for()
        assert page.get_by_role("button", name="Back up now").count() == 0
        assert page.get_by_role("button", name="Download this workspace's data").count() == 0
    finally:
        ctx.close()
    ctx, page = open_backups(browser, server, engineer.email, engineer.password, MOBILE)
    try:
        page.get_by_role("alert").filter(has_text="Owners and admins only").wait_for()
        assert page.get_by_role("button", name="Back up now").count() == 0
        assert page.get_by_text("Recent snapshots").count() == 0
    finally:
        ctx.close()
