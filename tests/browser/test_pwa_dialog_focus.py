"""A change synced in while a dialog is open must not move the engineer's cursor.

The runner re-renders whenever the session changes (a teammate's edit, the header merged on
the server). A dialog that re-ran its open-time focus on every re-render sent the cursor
back to its first field mid-sentence.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import MOBILE, app_context, sign_in, start_session, wait_synced
from tests.conftest import Tenant

TREE_TITLE = "Print Spooler Failures"
RENAMED = "Spooler crash on PRN-02 (renamed by a teammate)"


def test_a_synced_change_does_not_move_focus_inside_an_open_dialog(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        sid = start_session(page, TREE_TITLE, "T20261126.0101")
        wait_synced(page)

        page.get_by_role("button", name="+ Custom step").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("What did you do?").fill("Cleared the spool folder")
        note = dialog.get_by_label("Note (optional)")
        note.click()
        note.type("Queue was stuck on a 300-page job")

        # Meanwhile the session is renamed elsewhere; the change reaches this phone by sync.
        header = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()["header"]
        r = http.patch(
            f"/api/v1/sessions/{sid}",
            headers=engineer.headers,
            json={"title": RENAMED, "_rev": header["_rev"]},
        )
        assert r.status_code == 200, r.text
        expect(page.get_by_test_id("session-title")).to_have_text(RENAMED, timeout=30000)

        # The cursor is still where the engineer was typing, and nothing typed is lost.
        expect(note).to_be_focused()
        note.type(", killed it")
        expect(note).to_have_value("Queue was stuck on a 300-page job, killed it")
        expect(dialog.get_by_label("What did you do?")).to_have_value("Cleared the spool folder")
    finally:
        ctx.close()
