"""The PWA works under its content security policy: a whole session, with a screenshot
attached, runs without a single `securitypolicyviolation` (a blocked script, style, image,
worker or request would show up here first)."""

from __future__ import annotations

import struct
import zlib

from tests.browser.conftest import (
    MOBILE,
    answer_step,
    app_context,
    finish_session,
    shortest_run,
    sign_in,
    start_session,
    wait_for_service_worker,
    wait_synced,
    write_note,
)
from tests.conftest import Tenant

TREE_ID = "tree:citrix-vda-registration"

# Collects violations from the first script of every page, before the app's own code runs.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def _png(width: int = 8, height: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xc0\x10\x10" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_a_session_with_a_screenshot_runs_without_csp_violations(browser, http, server):
    r = http.get("/")
    assert "script-src 'self';" in r.headers["content-security-policy"]  # the policy is on
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = http.get(f"/api/v1/trees/{TREE_ID}/versions/1", headers=engineer.headers).json()
    tree = tree.get("tree", tree)
    run = shortest_run(tree)

    ctx = app_context(browser, MOBILE)
    ctx.add_init_script(RECORD_VIOLATIONS)
    page = ctx.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_for_service_worker(page)
        start_session(page, tree["title"], "T-CSP-1")
        write_note(page, "Checked under the content security policy.")
        page.set_input_files(
            "[data-testid=attach-file]",
            files=[{"name": "screen.png", "mimeType": "image/png", "buffer": _png()}],
        )
        # The thumbnail is drawn from a blob: URL of the file kept on the device.
        page.wait_for_function(
            "() => [...document.querySelectorAll('img')]"
            ".some(i => i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0)",
            timeout=30000,
        )
        for node_id, answer, nxt in run:
            answer_step(page, tree, node_id, answer, nxt)
        finish_session(page, "Done under CSP.")
        wait_synced(page)
        page.reload()  # served by the service worker this time
        page.wait_for_selector("[data-testid=sync-status]")
        violations = page.evaluate("window.__cspViolations")
        assert violations == [] and console == [], (violations, console)
        assert errors == []
    finally:
        ctx.close()


def test_the_violation_recorder_sees_a_blocked_inline_script(browser, server):
    # The test above is only as good as its recorder: an inline script must be caught.
    ctx = browser.new_context()
    ctx.add_init_script(RECORD_VIOLATIONS)
    page = ctx.new_page()
    try:
        page.goto(server.url + "/signin")
        page.wait_for_selector("#email")
        page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.__ran = true'; document.body.appendChild(s); }""")
        page.wait_for_function("() => window.__cspViolations.length > 0", timeout=10000)
        assert page.evaluate("window.__ran === undefined")
        assert "script-src" in page.evaluate("window.__cspViolations[0]")
    finally:
        ctx.close()


def test_the_tree_editor_graph_renders_without_csp_violations(browser, http, server):
    from tests.browser.test_editor_build_publish import node, sign_in as sign_in_author
    from tests.trees_api.test_trees_api import small_tree

    tenant = Tenant(http)
    author = tenant.add_user("author")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]
    ctx = app_context(browser, {"width": 1360, "height": 900})
    ctx.add_init_script(RECORD_VIOLATIONS)
    page = ctx.new_page()
    try:
        sign_in_author(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "escalate").wait_for()
        page.locator(".react-flow__edge").first.wait_for()
        assert page.evaluate("window.__cspViolations") == []
    finally:
        ctx.close()
