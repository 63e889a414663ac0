"""The PWA end to end in headless Chromium against a real server: sign in, run a starter tree
to its resolution with notes, a step back and a custom step, finish, copy the Markdown export
and check it is byte for byte the server's own export of the same session."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    answer_step,
    app_context,
    copy_export,
    current_node,
    finish_session,
    shortest_run,
    shot,
    sign_in,
    start_session,
    wait_synced,
    write_note,
)
from tests.conftest import Tenant, wait_until

TREE_ID = "tree:citrix-vda-registration"


def pinned_tree(http, member) -> dict:
    r = http.get(f"/api/v1/trees/{TREE_ID}/versions/1", headers=member.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return body.get("tree", body)


def test_run_a_starter_tree_to_the_end_and_copy_the_markdown(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = pinned_tree(http, engineer)
    run = shortest_run(tree)
    assert len(run) >= 2

    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server.url + "/")
        page.wait_for_selector("#email")
        shot(page, "mobile-01-sign-in")
        sign_in(page, server.url, engineer.email, engineer.password)
        shot(page, "mobile-02-library")

        sid = start_session(page, tree["title"], "T20261126.0042", screenshot="mobile-02b-start-session")
        shot(page, "mobile-03-runner")

        # First step: a note, an answer, then step back and answer again.
        first_node, first_answer, second_node = run[0]
        write_note(page, "Checked Studio: *one* VDA `CTX-W11-07` unregistered.")
        answer_step(page, tree, first_node, first_answer, second_node)
        page.click("button:has-text('← Back')")
        page.wait_for_selector(f"[data-testid=step-card][data-node-id='{first_node}']")
        # The note typed before is still in its box after coming back.
        assert "CTX-W11-07" in page.input_value("#step-notes")
        answer_step(page, tree, first_node, first_answer, second_node)

        # A custom step on the second node.
        page.click("button:has-text('+ Custom step')")
        page.fill("#custom-text", "Pinged the Delivery Controller from the VDA")
        page.click("[role=dialog] button:has-text('Add step')")
        page.wait_for_selector("[data-testid=timeline] >> text=Pinged the Delivery Controller")

        for i, (node_id, ans, nxt) in enumerate(run[1:], start=1):
            if i == 1:
                write_note(page, "Second step: looked at the event log.")
            answer_step(page, tree, node_id, ans, nxt)
        assert tree["nodes"][current_node(page)]["type"] == "resolution"
        shot(page, "mobile-04-resolution")

        finish_session(page, "VDA registered again after the fix.")
        shot(page, "mobile-05-export")
        markdown = copy_export(page)
        assert "Checked Studio" in markdown and "Pinged the Delivery Controller" in markdown
        assert "T20261126.0042" in markdown

        # Every event reaches the server with no action from the user...
        wait_synced(page)

        def completed():
            body = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()
            return body if body.get("status") == "completed" else None

        state = wait_until(completed, message="the completed session on the server")
        assert [s["node_id"] for s in state["path"]] == [n for n, _, _ in run]
        assert len(state["tried"]) == 1 and state["tried"][0]["node_id"] == first_node
        assert [c["text"] for c in state["custom_steps"]] == ["Pinged the Delivery Controller from the VDA"]
        notes = {n["text"] for ns in state["notes"].values() for n in ns}
        assert notes == {
            "Checked Studio: *one* VDA `CTX-W11-07` unregistered.",
            "Second step: looked at the event log.",
        }
        # ...and the Markdown made on the phone is exactly the server's.
        server_md = http.get(
            f"/api/v1/sessions/{sid}/export", params={"format": "markdown"}, headers=engineer.headers
        )
        assert server_md.status_code == 200, server_md.text
        assert markdown == server_md.text

        page.goto(server.url + "/history")
        page.wait_for_selector("[data-testid=session-list]")
        shot(page, "mobile-06-history")
        page.goto(server.url + "/profile")
        page.wait_for_selector("[data-testid=sign-out]")
        shot(page, "mobile-07-profile")
        assert not errors, errors
    finally:
        ctx.close()

    # The same screens at a desk.
    desk = app_context(browser, DESKTOP)
    page = desk.new_page()
    try:
        page.goto(server.url + "/signin")
        page.wait_for_selector("#email")
        shot(page, "desktop-01-sign-in")
        sign_in(page, server.url, engineer.email, engineer.password)
        shot(page, "desktop-02-library")
        sid2 = start_session(page, tree["title"], "T20261126.0099", screenshot="desktop-02b-start-session")
        write_note(page, "Desk run.")
        node_id, ans, nxt = run[0]
        answer_step(page, tree, node_id, ans, nxt)
        shot(page, "desktop-03-runner")
        page.keyboard.press("?")
        page.wait_for_selector("[role=dialog] >> text=Keyboard shortcuts")
        shot(page, "desktop-04-shortcuts")
        page.keyboard.press("Escape")
        page.keyboard.press("Backspace")  # back, from the keyboard
        page.wait_for_selector(f"[data-testid=step-card][data-node-id='{node_id}']")
        page.keyboard.press("e")
        page.wait_for_selector("[data-testid=export-preview]")
        shot(page, "desktop-05-export")
        page.goto(server.url + "/history")
        page.wait_for_selector("[data-testid=session-list]")
        shot(page, "desktop-06-history")
        page.goto(server.url + f"/s/{sid}")
        page.wait_for_selector("[data-testid=session-summary]")
        shot(page, "desktop-07-session-details")
        # `?` lists the shortcuts of a finished session too: only those that work here.
        page.keyboard.press("?")
        shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(shortcuts).to_contain_text("Export")
        expect(shortcuts).not_to_contain_text("Step back")
        page.keyboard.press("Escape")
        expect(shortcuts).to_be_hidden()
        # Reopen: back to the runner at the resolution, and the server hears of it.
        page.click("button:has-text('Reopen')")
        page.wait_for_selector("[data-testid=step-card][data-node-type=resolution]")
        page.goto(server.url + "/profile")
        page.wait_for_selector("[data-testid=sign-out]")
        shot(page, "desktop-08-profile")
        assert sid2 != sid
    finally:
        desk.close()
