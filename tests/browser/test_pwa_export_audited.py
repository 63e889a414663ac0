"""Exports made on the phone, offline, reach the team's audit log once the phone syncs.

The server files its own exports (HTML, PDF, the API's) as it makes them; Markdown and text
are made on the device, so the device writes an `exported` event and the server files that,
once per event however often it arrives.
"""

from __future__ import annotations

from tests.browser.conftest import (
    MOBILE,
    app_context,
    copy_export,
    sign_in,
    start_session,
    wait_for_service_worker,
    wait_synced,
    write_note,
)
from tests.conftest import Tenant, wait_until

TREE_ID = "tree:sonicwall-vpn-tunnel-down"


def device_exports(http, admin, sid: str) -> list[dict]:
    items = http.get(
        "/api/v1/audit", headers=admin.headers, params={"action": "session.exported", "target": sid}
    ).json()["items"]
    return [e for e in items if e["details"].get("via") == "device"]


def test_an_export_copied_and_downloaded_offline_is_in_the_audit_log_once_after_sync(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    admin = tenant.add_user("admin")
    tree = http.get(f"/api/v1/trees/{TREE_ID}/versions/1", headers=engineer.headers).json()["tree"]

    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_for_service_worker(page)
        wait_synced(page)

        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=sync-status][data-online='no']")
        sid = start_session(page, tree["title"], "AUDIT-1")
        write_note(page, "Tunnel down since the ISP's maintenance window.")
        page.goto(server.url + f"/s/{sid}/export")
        page.wait_for_selector("[data-testid=export-preview] >> text=AUDIT-1")
        assert "AUDIT-1" in copy_export(page)
        page.click("[role=tab] >> text=Plain text")
        with page.expect_download() as download:
            page.click("button:has-text('Download .txt')")
        assert download.value.suggested_filename.endswith(".txt")
        assert device_exports(http, admin, sid) == []  # nothing has left the phone yet

        ctx.set_offline(False)
        wait_synced(page)
        found = wait_until(
            lambda: (got := device_exports(http, admin, sid)) and len(got) == 2 and got,
            timeout=30,
            message="the phone's two exports in the audit log",
        )
        by_how = {e["details"]["how"]: e for e in found}
        assert set(by_how) == {"copy", "download"}
        assert by_how["copy"]["details"]["format"] == "markdown"
        assert by_how["download"]["details"]["format"] == "text"
        for entry in found:
            assert entry["actor"]["id"] == engineer.id and entry["actor"]["email"] == engineer.email
            assert entry["target"] == {"type": "session", "id": sid}
            # The phone's clock says when it was exported, the server's when it heard of it.
            assert entry["details"]["device_ts"] <= entry["ts"]
            assert entry["details"]["event_id"].startswith(f"session:{sid}:ev:")

        # A replicator pushing the same events again (a lost checkpoint, a second instance)
        # adds nothing: each event is filed once.
        events = [
            http.get(
                f"/sync/{tenant.id}/sessions/{e['details']['event_id']}",
                headers=engineer.headers,
                params={"revs": "true"},
            ).json()
            for e in found
        ]
        r = http.post(
            f"/sync/{tenant.id}/sessions/_bulk_docs",
            headers=engineer.headers,
            json={"docs": events, "new_edits": False},
        )
        assert r.status_code == 201, r.text
        again = http.post(
            f"/api/v1/sessions/{sid}/events",
            headers=engineer.headers,
            json={k: v for k, v in events[0].items() if not k.startswith("_") or k == "_id"},
        )
        assert again.status_code in (200, 201), again.text
        assert len(device_exports(http, admin, sid)) == 2
        assert http.get("/api/v1/audit/verify", headers=admin.headers).json()["ok"] is True
        assert not errors, errors
    finally:
        ctx.close()
