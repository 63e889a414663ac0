"""Signing out on a shared device: the user's local databases are removed once their changes
are on the server; with changes still pending (offline), only after the user confirms."""
from __future__ import annotations

from tests.browser.conftest import MOBILE, app_context, sign_in, start_session, wait_synced, write_note
from tests.conftest import Tenant

LOCAL_DBS = "indexedDB.databases().then(dbs => dbs.map(d => d.name).filter(n => n.includes('bl_')))"


def test_sign_out_removes_local_data_after_sync_or_confirmation(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        sid = start_session(page, "DNS Resolution Failures", "SIGN-OUT")
        wait_synced(page)
        ctx.set_offline(True)
        write_note(page, "Not on the server yet.")
        page.goto(server.url + "/profile")
        page.click("[data-testid=sign-out]")
        page.wait_for_selector("[role=dialog] >> text=Changes not synced yet")
        # Staying signed in keeps everything.
        page.click("[role=dialog] button:has-text('Stay signed in')")
        assert page.evaluate(LOCAL_DBS)

        # Back online, signing out syncs first and then removes the local data.
        ctx.set_offline(False)
        wait_synced(page)
        page.click("[data-testid=sign-out]")
        page.wait_for_selector("#email")
        assert page.evaluate(LOCAL_DBS) == []
        assert page.evaluate("localStorage.getItem('bl.signin')") is None
        state = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()
        assert [n["text"] for ns in state["notes"].values() for n in ns] == ["Not on the server yet."]

        # Offline with pending changes, discarding is the user's explicit choice.
        sign_in(page, server.url, engineer.email, engineer.password)
        page.goto(server.url + f"/s/{sid}")
        page.wait_for_selector("[data-testid=step-card]")
        ctx.set_offline(True)
        write_note(page, "Discarded on purpose.")
        page.goto(server.url + "/profile")
        page.click("[data-testid=sign-out]")
        page.click("[role=dialog] button:has-text('Discard and sign out')")
        page.wait_for_selector("#email")
        assert page.evaluate(LOCAL_DBS) == []
    finally:
        ctx.close()
