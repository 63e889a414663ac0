"""Two devices (two browser profiles of the same engineer) add notes to the same session
while both are offline; once online, each shows the other's note and the server has both."""

from __future__ import annotations

from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    app_context,
    shot,
    sign_in,
    start_session,
    wait_synced,
    write_note,
)
from tests.conftest import Tenant, wait_until

TREE_TITLE = "Print Spooler Failures"


def test_notes_from_two_offline_devices_meet(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    phone_ctx = app_context(browser, MOBILE)
    desk_ctx = app_context(browser, DESKTOP)
    try:
        phone = phone_ctx.new_page()
        desk = desk_ctx.new_page()
        sign_in(phone, server.url, engineer.email, engineer.password)
        sid = start_session(phone, TREE_TITLE, "TWO-DEVICES")
        wait_synced(phone)
        node = phone.get_attribute("[data-testid=step-card]", "data-node-id")

        sign_in(desk, server.url, engineer.email, engineer.password)
        desk.goto(server.url + f"/s/{sid}")
        desk.wait_for_selector(f"[data-testid=step-card][data-node-id='{node}']")

        phone_ctx.set_offline(True)
        desk_ctx.set_offline(True)
        write_note(phone, "Phone: spooler service was stopped.")
        write_note(desk, "Desk: cleared C:\\Windows\\System32\\spool\\PRINTERS.")

        phone_ctx.set_offline(False)
        desk_ctx.set_offline(False)
        phone.wait_for_selector("[data-testid=other-note] >> text=Desk: cleared", timeout=30000)
        desk.wait_for_selector("[data-testid=other-note] >> text=Phone: spooler service", timeout=30000)
        # Each device still has its own note in its own box.
        assert phone.input_value("#step-notes") == "Phone: spooler service was stopped."
        assert desk.input_value("#step-notes") == "Desk: cleared C:\\Windows\\System32\\spool\\PRINTERS."
        shot(phone, "mobile-11-two-devices")
        shot(desk, "desktop-09-two-devices")

        def both_on_server():
            state = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()
            texts = sorted(n["text"] for n in state["notes"].get(node, []))
            return texts if len(texts) == 2 else None

        assert wait_until(both_on_server, message="both notes on the server") == [
            "Desk: cleared C:\\Windows\\System32\\spool\\PRINTERS.",
            "Phone: spooler service was stopped.",
        ]
    finally:
        phone_ctx.close()
        desk_ctx.close()
