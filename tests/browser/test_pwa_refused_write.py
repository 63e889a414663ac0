"""A write the server refuses (`forbidden`) is shown to the user and kept on the device, never
silently dropped: here a note typed offline in a session that was unshared meanwhile."""

from __future__ import annotations

from tests.browser.conftest import MOBILE, app_context, sign_in, wait_synced, write_note
from tests.conftest import Tenant


def test_a_refused_note_is_shown_and_kept(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    owner_engineer = tenant.add_user("engineer")
    helper = tenant.add_user("engineer")
    r = http.post(
        "/api/v1/sessions",
        headers=owner_engineer.headers,
        json={"tree_id": "tree:file-share-access", "ticket": "SHARED-1", "shared_with": [helper.id]},
    )
    assert r.status_code == 201, r.text
    sid = r.json()["header"]["_id"].split(":", 1)[1]

    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, helper.email, helper.password)
        page.goto(server.url + f"/s/{sid}")
        page.wait_for_selector("[data-testid=step-card]", timeout=30000)
        wait_synced(page)
        ctx.set_offline(True)

        header = http.get(f"/api/v1/sessions/{sid}", headers=owner_engineer.headers).json()["header"]
        r = http.patch(
            f"/api/v1/sessions/{sid}",
            headers=owner_engineer.headers,
            json={"_rev": header["_rev"], "shared_with": []},
        )
        assert r.status_code == 200, r.text

        write_note(page, "Typed while the session was being unshared.")
        ctx.set_offline(False)
        page.wait_for_selector("[data-testid=sync-status] >> text=!", timeout=30000)
        page.click("[data-testid=sync-status]")
        page.wait_for_selector("[role=dialog] >> text=The server refused 1 change")
        # Kept on the device: the note is still in its box after a reload.
        page.keyboard.press("Escape")
        page.reload()
        page.wait_for_selector("[data-testid=step-card]")
        assert page.input_value("#step-notes") == "Typed while the session was being unshared."
        state = http.get(f"/api/v1/sessions/{sid}", headers=owner_engineer.headers).json()
        assert state["notes"] == {}
    finally:
        ctx.close()
