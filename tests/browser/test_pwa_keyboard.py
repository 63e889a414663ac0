"""The app from the keyboard alone: an open dialog keeps Tab and Shift+Tab inside it, closes on
Escape and gives focus back to the button that opened it; in the tree editor, Enter on a
focused step opens it in the inspector and Delete asks before it deletes anything."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, app_context, sign_in, start_session, wait_synced
from tests.browser.test_editor_build_publish import saved, sign_in as sign_in_anywhere
from tests.conftest import Tenant, wait_until
from tests.trees_api.test_trees_api import small_tree

# Which element has focus, and whether it is inside the open dialog.
FOCUS = """() => {
  const el = document.activeElement;
  const dialog = document.querySelector('[role=dialog]');
  return {inside: !!dialog && dialog.contains(el) && el !== dialog,
          name: el ? (el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40)) : null};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUS)


def hold_focus(locator) -> None:
    """Focus `locator` and wait until it holds the focus: a graph still laying itself out
    (React Flow shows a step only once it is measured) can ignore a focus() call."""

    def held() -> bool:
        locator.focus()
        return locator.evaluate("el => el === document.activeElement && document.hasFocus()")

    wait_until(held, timeout=10, message="the step to take the keyboard focus")


def tab_cycle(page, key: str) -> list[str]:
    """Press `key` until focus comes back where it started; every stop must be in the dialog."""
    start = focused(page)
    assert start["inside"], f"focus is not in the dialog: {start}"
    seen = []
    for _ in range(30):
        page.keyboard.press(key)
        now = focused(page)
        assert now["inside"], f"{key} left the dialog after {seen}: focus is on {now['name']!r}"
        if now["name"] == start["name"]:
            return seen
        seen.append(now["name"])
    raise AssertionError(f"{key} never came back to {start['name']!r}: {seen}")


def test_dialogs_keep_focus_inside_close_on_escape_and_return_focus(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        start_session(page, "Print Spooler Failures", "T20261203.0011")
        wait_synced(page)

        # Opened from the keyboard: focus moves to the dialog's first field.
        opener = page.get_by_role("button", name="+ Custom step")
        expect(opener).to_be_enabled()  # after the short pause a new step starts with
        opener.focus()
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="Add a custom step")
        expect(dialog.get_by_label("What did you do?")).to_be_focused()

        # Tab visits every control of the dialog and wraps around; Shift+Tab the same, reversed.
        forwards = tab_cycle(page, "Tab")
        assert {"Close", "Cancel", "Add step", "custom-note"} <= set(forwards), forwards
        backwards = tab_cycle(page, "Shift+Tab")
        assert backwards == forwards[::-1], (forwards, backwards)
        # From the first control (Close, at the top) Shift+Tab goes round to the last one.
        dialog.get_by_role("button", name="Close").focus()
        page.keyboard.press("Shift+Tab")
        expect(dialog.get_by_role("button", name="Add step")).to_be_focused()
        page.keyboard.press("Tab")
        expect(dialog.get_by_role("button", name="Close")).to_be_focused()

        # Escape closes it and the engineer is back on the button that opened it.
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
        expect(opener).to_be_focused()

        # A dialog of buttons only (the session menu) traps focus too, and one opened from it
        # (edit the details) hands focus back to the button the engineer started from.
        session = page.get_by_role("button", name="Session", exact=True)
        session.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("dialog", name="Session")).to_be_visible()
        assert len(tab_cycle(page, "Tab")) >= 2
        page.get_by_role("button", name="Edit ticket and title").focus()
        page.keyboard.press("Enter")
        details = page.get_by_role("dialog")
        expect(details.locator("input").first).to_be_focused()
        tab_cycle(page, "Shift+Tab")
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
        expect(session).to_be_focused()
    finally:
        ctx.close()


def test_editor_enter_opens_a_focused_step_and_delete_asks_first(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    r = http.post("/api/v1/trees", headers=author.headers, json=small_tree())
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]

    ctx = app_context(browser, DESKTOP)
    try:
        page = ctx.new_page()
        sign_in_anywhere(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        step = page.locator(".react-flow__node[data-id=restart]")
        step.wait_for()
        saved(page)  # the draft is loaded and shown as the server has it

        # Tab reaches the steps, and the focused one is plainly marked.
        hold_focus(page.locator(".react-flow__node[data-id=scope]"))
        page.keyboard.press("Tab")
        expect(step).to_be_focused()
        outline = step.locator("[data-testid=graph-node]").evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline == "solid", f"the focused step shows no outline ({outline})"

        # Enter on a focused step opens it in the inspector, ready to edit its title.
        page.keyboard.press("Enter")
        title = page.locator("[data-testid=inspector] #f-title")
        expect(title).to_have_value("Restart the spooler")
        expect(title).to_be_focused()

        # Delete on a focused step only asks; keeping it leaves the tree as it was.
        escalate = page.locator(".react-flow__node[data-id=escalate]")
        escalate.focus()
        page.keyboard.press("Delete")
        confirm = page.get_by_role("dialog", name="Delete “Escalated”?")
        expect(confirm).to_be_visible()
        expect(confirm.get_by_role("button", name="Keep it")).to_be_focused()
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
        expect(escalate).to_be_focused()
        expect(escalate).to_have_count(1)
        escalate.focus()
        page.keyboard.press("Backspace")
        confirm.get_by_role("button", name="Keep it").click()
        expect(page.get_by_role("dialog")).to_have_count(0)
        expect(escalate).to_have_count(1)

        # Confirmed, the step goes, and the saved draft no longer has it.
        escalate.focus()
        page.keyboard.press("Delete")
        confirm.get_by_role("button", name="Delete", exact=True).click()
        expect(escalate).to_have_count(0)
        # The keyboard stays in the graph, on a step that is left.
        expect(page.locator(".react-flow__node:focus")).to_have_count(1)
        saved(page)
        wait_until(
            lambda: (
                "escalate" not in http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()["nodes"]
            ),
            message="the deleted step gone from the saved draft",
        )

        # As the dialog says, Ctrl+Z brings it back.
        page.keyboard.press("Control+z")
        expect(escalate).to_have_count(1)
    finally:
        ctx.close()
