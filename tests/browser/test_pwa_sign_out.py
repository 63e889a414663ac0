"""Signing out on a shared device: the user's local databases are removed once their changes
are on the server; with changes still pending (offline), only after the user confirms."""

from __future__ import annotations

from tests.browser.conftest import (
    MOBILE,
    app_context,
    shot,
    sign_in,
    start_session,
    wait_for_service_worker,
    wait_synced,
    write_note,
)
from tests.conftest import Tenant

LOCAL_DBS = "indexedDB.databases().then(dbs => dbs.map(d => d.name).filter(n => n.includes('bl_')))"


def test_sign_out_removes_local_data_after_sync_or_confirmation(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        # The profile is opened offline below: only a page the app's worker controls can be
        # (a full run at 553f2f2 went offline before the worker had taken over, and failed).
        wait_for_service_worker(page)
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


# A 1x1 PNG: the photo of a rack label taken with no signal.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154"
    "789c6360f8cfc0f01f0005000201e2219bc10000000049454e44ae426082"
)
QUEUES = (
    "indexedDB.databases().then(dbs => dbs.map(d => d.name).filter(n => n.startsWith('bl-attachments-')))"
)


def _queue_photo(page, name: str) -> None:
    page.set_input_files(
        "[data-testid=attach-file]", files=[{"name": name, "mimeType": "image/png", "buffer": PNG}]
    )
    page.wait_for_selector("[data-testid=queued-attachment] >> text=Waiting for network")


def test_sign_out_keeps_a_photo_queued_offline_until_uploaded_or_discarded(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_for_service_worker(page)
        sid = start_session(page, "DNS Resolution Failures", "PHOTO-KEPT")
        wait_synced(page)
        ctx.set_offline(True)
        _queue_photo(page, "rack-label.png")
        # The badge and the Sync sheet count the photo like any other change.
        page.wait_for_selector("[data-testid=pending-count]:text-is('1')")
        page.click("[data-testid=sync-status]")
        page.wait_for_selector("[role=dialog] >> text=1 photo waiting to upload")
        page.keyboard.press("Escape")

        page.goto(server.url + "/profile")
        page.click("[data-testid=sign-out]")
        page.wait_for_selector("[role=dialog] >> text=Changes not synced yet")
        assert "1 photo" in page.inner_text("[role=dialog]")
        shot(page, "mobile-sign-out-photo-waiting")
        page.click("[role=dialog] button:has-text('Stay signed in')")
        assert page.evaluate(QUEUES), "the queued photo was deleted"

        # Back online the photo uploads on its own, and only then signing out goes through.
        ctx.set_offline(False)
        wait_synced(page)
        page.click("[data-testid=sign-out]")
        page.wait_for_selector("#email")
        files = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()["attachments"]
        assert [f["name"] for fs in files.values() for f in fs] == ["rack-label.png"]
        assert page.evaluate(QUEUES) == []

        # Discarding a queued photo is the engineer's explicit choice, never a side effect.
        sign_in(page, server.url, engineer.email, engineer.password)
        page.goto(server.url + f"/s/{sid}")
        page.wait_for_selector("[data-testid=step-card]")
        wait_synced(page)
        ctx.set_offline(True)
        _queue_photo(page, "discarded.png")
        page.goto(server.url + "/profile")
        page.click("[data-testid=sign-out]")
        page.wait_for_selector("[role=dialog] >> text=Changes not synced yet")
        page.click("[role=dialog] button:has-text('Discard and sign out')")
        page.wait_for_selector("#email")
        assert page.evaluate(QUEUES) == []
        ctx.set_offline(False)
        files = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()["attachments"]
        assert [f["name"] for fs in files.values() for f in fs] == ["rack-label.png"]
    finally:
        ctx.close()
