"""The tree editor end to end in headless Chromium against a real server: an author builds a
tree from scratch (6 steps of 5 types) without touching JSON, fixes the problem the editor
shows, publishes, an engineer runs it, the author edits and publishes version 2 and reads the
diff between the two versions."""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, answer_step, app_context, shortest_run, shot, start_session
from tests.conftest import Tenant

TITLE = "Printer shows offline"


def sign_in(page, base_url: str, email: str, password: str) -> None:
    """Sign in and land anywhere but the sign-in page (an empty library has no tree list)."""
    page.goto(base_url + "/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/signin" not in url, timeout=30000)


def saved(page) -> None:
    page.wait_for_selector("[data-testid=save-state][data-state=saved]", timeout=20000)


def node(page, node_id: str):
    return page.locator(f"[data-testid=graph-node][data-node-id='{node_id}']")


def select_node(page, node_id: str) -> None:
    node(page, node_id).click()
    page.wait_for_selector("[data-testid=inspector]")


def problem_count(page) -> int:
    return int(page.text_content("[data-testid=problem-count]"))


def test_build_fix_publish_run_edit_and_diff(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    engineer = tenant.add_user("engineer")

    ctx = app_context(browser, {"width": 1440, "height": 900})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(server.url + "/editor")
        page.click("button:has-text('+ New tree')")
        page.fill("#new-title", TITLE)
        page.click("[role=dialog] button:has-text('Create and edit')")
        page.wait_for_selector("[data-testid=tree-editor]")
        shot(page, "editor-01-empty")
        tree_id = page.url.split("/editor/")[1].replace("%3A", ":")

        # 1. The first question, its answers' sentences, and a new action behind "yes".
        page.click("button:has-text('Add the first question')")
        page.fill("#f-title", "Is only one user affected?")
        page.fill("#f-body", "Ask the user whether **colleagues** can print.")
        page.fill("#f-log-yes", "Confirmed only one user is affected.")
        page.fill("#f-log-no", "Found that several users are affected.")
        page.select_option("#f-next-yes", "__new__:action")
        node(page, "action").wait_for()

        # 2. The action: restart the spooler, with a command; done -> resolved.
        page.fill("#f-title", "Restart the print spooler")
        page.click("button:has-text('+ Command')")
        page.fill("[aria-label='Command 1']", "Restart-Service Spooler -ComputerName {{input.printer}}")
        page.fill("#f-log-done", "Restarted the print spooler.")
        page.fill("#f-log-failed", "The spooler would not restart.")
        page.select_option("#f-next-done", "__new__:resolution")
        node(page, "resolution").wait_for()
        page.fill("#f-title", "Printing works again")
        page.fill("#f-summary", "Restarting the print spooler fixed printing; a test page printed.")

        # 3. Back on the action: failed -> an escalation (its handover left out on purpose).
        select_node(page, "action")
        page.select_option("#f-next-failed", "__new__:resolution")
        node(page, "resolution-2").wait_for()
        page.fill("#f-title", "Escalate to the print team")
        page.select_option("#f-outcome", "escalated")
        page.fill("#f-summary", "Escalated: the spooler keeps failing.")

        # 4. The question's "no": an input for the printer, then a choice.
        select_node(page, "question")
        page.select_option("#f-next-no", "__new__:input")
        node(page, "input").wait_for()
        page.fill("#f-title", "Which printer?")
        page.fill("#f-variable", "printer")
        page.fill("#f-log-next", "Checked printer {{input.printer}}.")
        page.select_option("#f-next-next", "__new__:choice")
        node(page, "choice").wait_for()
        page.fill("#f-title", "What does the print queue show?")
        page.fill("#f-opt-0-label", "Jobs stuck")
        page.fill("#f-opt-0-id", "stuck")
        page.fill("#f-log-opt-0", "Found jobs stuck in the queue of {{input.printer}}.")
        page.select_option("#f-next-opt-0", "action")
        page.fill("#f-opt-1-label", "Printer offline")
        page.fill("#f-opt-1-id", "offline")
        page.fill("#f-log-opt-1", "Found {{input.printer}} offline.")
        page.select_option("#f-next-opt-1", "resolution-2")

        # The editor shows the one problem left, on the graph and in the list.
        page.click("[data-testid=problems-tab]")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=problem-count]').textContent === '1'"
        )
        assert "missing_handover" in page.text_content("[data-testid=problem-list]")
        assert node(page, "resolution-2").get_attribute("data-problems") == "1"
        assert len(page.locator("[data-testid=graph-node]").all()) == 6
        shot(page, "editor-02-problem-shown")
        # The server finds the same problem in the saved draft.
        saved(page)
        draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
        server_problems = http.post("/api/v1/trees/validate", headers=author.headers, json=draft).json()[
            "problems"
        ]
        assert [(p["node_id"], p["code"]) for p in server_problems] == [("resolution-2", "missing_handover")]

        # Fix it from the problem list.
        page.click("[data-testid=problem-list] button")
        page.fill("#f-handover", "Spooler restart failed; event log 372 attached.")
        page.click("[data-testid=problems-tab]")
        page.wait_for_selector("[data-testid=problems-empty]")
        assert problem_count(page) == 0 and node(page, "resolution-2").get_attribute("data-problems") == "0"

        # Preview run: walk the draft like an engineer.
        page.click("button:has-text('Preview run')")
        page.wait_for_selector("[data-testid=preview-run] [data-testid=step-card][data-node-id=question]")
        page.click("[data-testid=preview-run] button:has-text('No')")
        page.fill("[data-testid=preview-run] [aria-label=Value]", "HP-4F")
        page.click("[data-testid=preview-run] button:has-text('Continue')")
        page.click("[data-testid=preview-run] button:has-text('Jobs stuck')")
        page.wait_for_selector("[data-testid=preview-run] [data-testid=step-card][data-node-id=action]")
        notes = page.text_content("[data-testid=preview-notes]")
        assert "Checked printer HP-4F." in notes and "Found jobs stuck in the queue of HP-4F." in notes
        shot(page, "editor-03-preview-run")
        page.click("[data-testid=preview-run] button:has-text('Close')")

        # Publish version 1.
        page.click("button:has-text('Publish')")
        page.fill("#change-note", "First version")
        shot(page, "editor-04-publish")
        page.click("[data-testid=publish-confirm]")
        page.wait_for_selector("[data-testid=notice]:has-text('Published version 1')")
        shot(page, "editor-05-published")

        v1 = http.get(f"/api/v1/trees/{tree_id}/versions/1", headers=engineer.headers).json()
        assert v1["change_note"] == "First version"
        tree = v1["tree"]
        assert len(tree["nodes"]) == 6 and tree["start"] == "question"
        assert {n["type"] for n in tree["nodes"].values()} == {
            "question",
            "action",
            "resolution",
            "input",
            "choice",
        }

        # 5. An engineer runs it on another device.
        eng = app_context(browser, DESKTOP)
        epage = eng.new_page()
        sign_in(epage, server.url, engineer.email, engineer.password)
        epage.wait_for_selector(f"[data-testid=tree-list] >> text={TITLE}", timeout=30000)
        sid = start_session(epage, TITLE, "T-1001")
        for node_id, ans, nxt in shortest_run(tree):
            answer_step(epage, tree, node_id, ans, nxt)
        assert (
            tree["nodes"][epage.get_attribute("[data-testid=step-card]", "data-node-id")]["type"]
            == "resolution"
        )
        shot(epage, "editor-06-engineer-run")
        eng.close()
        assert sid

        # 6. Version 2: rename the action (undo and redo on the way) and add a link.
        select_node(page, "action")
        page.fill("#f-title", "Restart the Print Spooler service")
        page.click("[aria-label=Undo]")
        page.wait_for_function(
            "() => document.querySelector('#f-title').value === 'Restart the print spooler'"
        )
        page.click("[aria-label=Redo]")
        page.wait_for_function(
            "() => document.querySelector('#f-title').value === 'Restart the Print Spooler service'"
        )
        page.click("button:has-text('+ Link')")
        page.fill("#f-link-0-title", "Microsoft: Print spooler")
        page.fill("#f-link-0-url", "https://learn.microsoft.com/troubleshoot/windows-server/printing/")
        saved(page)
        page.click("button:has-text('Publish')")
        page.fill("#change-note", "Clearer title and a link")
        page.click("[data-testid=publish-confirm]")
        page.wait_for_selector("[data-testid=notice]:has-text('Published version 2')")

        # 7. The diff between version 1 and version 2.
        page.click("a:has-text('History')")
        page.wait_for_selector("[data-testid=diff]")
        diff = page.text_content("[data-testid=diff]")
        assert "Changed: Restart the Print Spooler service" in diff
        assert "Restart the print spooler" in diff and "Microsoft: Print spooler" in diff
        assert "Clearer title and a link" in page.text_content("[data-testid=version-2]")
        shot(page, "editor-07-diff")

        # 8. Roll the draft back to version 1: the old title is back in the draft.
        page.click("[data-testid=version-1] button:has-text('Roll back to this')")
        page.click("[data-testid=rollback-confirm]")
        page.wait_for_selector("text=The draft is now a copy of version 1")
        draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
        assert draft["nodes"]["action"]["title"] == "Restart the print spooler"
        assert not errors, errors
    finally:
        ctx.close()
