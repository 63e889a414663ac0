"""Airplane mode: a whole session started, run, completed and exported with the network off,
the app reloaded while still offline, and every event on the server once the network is back,
with no action from the user."""

from __future__ import annotations

from tests.browser.conftest import (
    MOBILE,
    answer_step,
    app_context,
    copy_export,
    finish_session,
    shortest_run,
    shot,
    sign_in,
    start_session,
    wait_for_service_worker,
    wait_synced,
    write_note,
)
from tests.conftest import Tenant, wait_until

# A 1x1 PNG: a screenshot taken in the comms room.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154"
    "789c6360f8cfc0f01f0005000201e2219bc10000000049454e44ae426082"
)

TREE_ID = "tree:sonicwall-vpn-tunnel-down"


def test_a_whole_session_offline_then_synced(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = http.get(f"/api/v1/trees/{TREE_ID}/versions/1", headers=engineer.headers).json()["tree"]
    run = shortest_run(tree)
    r = http.post(
        "/api/v1/clients",
        headers=engineer.headers,
        json={"name": "Contoso Ltd", "values": {"vpn_peer": "203.0.113.10"}},
    )
    assert r.status_code == 201, r.text
    client_id = r.json()["_id"]

    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server.url + "/signin")
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_for_service_worker(page)
        wait_synced(page)
        # The client list has reached the device too (it syncs beside the trees).
        page.goto(server.url + f"/start/{TREE_ID}")
        page.wait_for_selector(f"#client option[value='{client_id}']", state="attached")
        page.goto(server.url + "/")
        page.wait_for_selector(f"[data-testid=tree-list] >> text={tree['title']}")

        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=sync-status][data-online='no']")
        sid = start_session(page, tree["title"], "OFFLINE-1", client=client_id)
        for i, (node_id, ans, nxt) in enumerate(run):
            write_note(page, f"Offline note {i}: checked {node_id}.")
            if i == 0:
                page.set_input_files(
                    "[data-testid=attach-file]",
                    files=[{"name": "vpn-status.png", "mimeType": "image/png", "buffer": PNG}],
                )
                page.wait_for_selector("[data-testid=queued-attachment] >> text=Waiting for network")
                shot(page, "mobile-08-offline-attachment")
            answer_step(page, tree, node_id, ans, nxt)
        shot(page, "mobile-09-offline-resolution")
        finish_session(page, "Fixed with no signal in the comms room.")
        counted = "Number(document.querySelector('[data-testid=sync-status]').dataset.pending)"
        page.wait_for_function(f"{counted} >= {2 * len(run) + 2}")  # header, answers, notes, completed
        finished = int(page.get_attribute("[data-testid=sync-status]", "data-pending"))
        offline_md = copy_export(page)
        assert "Offline note 0" in offline_md and "OFFLINE-1" in offline_md
        # The copy is recorded too (an `exported` event, written just after the notice shows).
        pending = finished + 1
        page.wait_for_selector(f"[data-testid=sync-status][data-pending='{pending}']", state="attached")

        # Reload with the network still off: the service worker serves the app, IndexedDB the data.
        page.reload()
        page.wait_for_selector("[data-testid=export-preview]")
        assert page.get_attribute("[data-testid=sync-status]", "data-online") == "no"
        assert int(page.get_attribute("[data-testid=sync-status]", "data-pending")) == pending
        assert "Offline note 0" in page.inner_text("[data-testid=export-preview]")
        page.goto(server.url + f"/s/{sid}")  # a deep link, offline
        page.wait_for_selector("[data-testid=session-summary]")
        shot(page, "mobile-10-offline-summary")
        assert http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).status_code == 404

        # Back online: everything arrives without the user doing anything.
        ctx.set_offline(False)
        wait_synced(page)

        def completed():
            body = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()
            return body if body.get("status") == "completed" else None

        state = wait_until(completed, message="the offline session on the server")
        assert [s["node_id"] for s in state["path"]] == [n for n, _, _ in run]
        assert sorted(n["text"] for ns in state["notes"].values() for n in ns) == sorted(
            f"Offline note {i}: checked {n}." for i, (n, _, _) in enumerate(run)
        )
        assert state["summary"] == "Fixed with no signal in the comms room."
        # The screenshot follows once the session is on the server, with no action either.
        first = run[0][0]

        def attached():
            body = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()
            return body["attachments"].get(first)

        files = wait_until(attached, timeout=30, message="the offline screenshot on the server")
        assert [(f["name"], f["size"]) for f in files] == [("vpn-status.png", len(PNG))]
        wait_synced(page)
        server_md = http.get(
            f"/api/v1/sessions/{sid}/export", params={"format": "markdown"}, headers=engineer.headers
        ).text
        assert "Offline note 0" in server_md and "vpn-status.png" in server_md
        # The app's own export, now with the screenshot, is still byte for byte the server's.
        page.goto(server.url + f"/s/{sid}/export")
        page.wait_for_selector("[data-testid=export-preview] >> text=vpn-status.png")
        assert copy_export(page) == server_md
        assert not errors, errors
    finally:
        ctx.close()
