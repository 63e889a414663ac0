"""Team admin in the PWA: add a member, change a role, deactivate; create an API key whose
secret is shown once and works, then revoke it."""

from __future__ import annotations

import httpx

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant, unique_email, wait_until


def test_members_and_api_keys(browser, http, server):
    tenant = Tenant(http)
    ctx = app_context(browser, {"width": 1280, "height": 860})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin")
        page.wait_for_selector("[data-testid=user-row]")

        # Create a member with a generated password (shown once).
        email = unique_email("new")
        page.click("button:has-text('+ Add member')")
        page.click("[role=radio]:has-text('Create with password')")
        page.fill("#m-email", email)
        page.fill("#m-name", "New Engineer")
        page.click("[role=dialog] button:has-text('Create account')")
        page.wait_for_selector("[data-testid=secret-box]")
        password = page.text_content("[data-testid=secret]")
        assert http.post("/api/v1/auth/login", json={"email": email, "password": password}).status_code == 200
        row = page.locator(f"[data-testid=user-row][data-email='{email}']")
        row.wait_for()

        # Role change and deactivation take effect on the server.
        row.locator("select").select_option("author")
        wait_until(
            lambda: (
                next(
                    u
                    for u in http.get("/api/v1/users", headers=tenant.headers).json()["items"]
                    if u["email"] == email
                )["role"]
                == "author"
            ),
            message="the new role on the server",
        )
        row.locator("button:has-text('Deactivate')").click()
        row.locator("button:has-text('Reactivate')").wait_for()
        assert http.post("/api/v1/auth/login", json={"email": email, "password": password}).status_code != 200

        # An invitation gives a link to send.
        page.click("button:has-text('+ Add member')")
        page.fill("#m-email", unique_email("invited"))
        page.click("[role=dialog] button:has-text('Create invitation')")
        page.wait_for_selector("[data-testid=secret] >> text=/accept-invite")
        shot(page, "admin-01-members")

        # API key: secret shown once, works, then revoked.
        page.goto(server.url + "/admin/keys")
        page.fill("#k-name", "ConnectWise connector")
        page.select_option("#k-role", "viewer")
        page.click("button:has-text('Create key')")
        page.wait_for_selector("[data-testid=secret-box]")
        key = page.text_content("[data-testid=secret]")
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/api/v1/trees", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        shot(page, "admin-02-key-created")
        page.click("[data-testid=secret-box] button:has-text('Done')")
        assert page.locator("[data-testid=secret]").count() == 0  # never shown again
        page.click("[data-testid=key-row] button:has-text('Revoke')")
        page.click("[role=dialog] button:has-text('Revoke now')")
        page.wait_for_selector("[data-testid=key-row] >> text=revoked")
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/api/v1/trees", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    finally:
        ctx.close()
