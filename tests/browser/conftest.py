"""Headless Chromium (Debian's) driven by Playwright. Never `playwright install`: it downloads
a browser, which this network refuses; the test command installs Debian's `chromium`."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert shutil.which(path), (
        "Debian's chromium is missing: run `make test` as root, or apt-get install chromium"
    )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context()
    yield ctx
    ctx.close()


# --- the PWA, driven like a user would -------------------------------------------------------
# Helpers for tests/browser/test_pwa_*.py: the server under test serves the freshly built
# pwa/dist (the test command builds it first), and each test signs in as a user of its own
# freshly registered tenant.
import collections  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 860}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def app_context(browser, viewport=MOBILE, **kw):
    """A fresh browser profile (its own IndexedDB and service worker) at a viewport."""
    mobile = viewport["width"] < 600
    return browser.new_context(
        viewport=viewport,
        permissions=["clipboard-read", "clipboard-write"],
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
        **kw,
    )


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=tree-list]", timeout=30000)


@contextlib.contextmanager
def signed_in_page(browser, base_url: str, who, viewport=MOBILE, *, offline_ready: bool = False):
    """A page of a fresh context, signed in as `who` with nothing left to sync (and, with
    `offline_ready`, the app shell cached); the context is closed afterwards."""
    ctx = app_context(browser, viewport)
    try:
        page = ctx.new_page()
        sign_in(page, base_url, who.email, who.password)
        if offline_ready:
            wait_for_service_worker(page)
        wait_synced(page)
        yield ctx, page
    finally:
        ctx.close()


_CONTROLLED = "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"


def wait_for_service_worker(page) -> None:
    """The app shell is cached and this page is controlled: a reload now works offline.

    A page whose navigation began while the worker was still installing (the return from an
    identity provider after an SSO sign-in) is never claimed by it; one reload, online, brings
    it under the worker. Waiting for the worker to be activated was not enough: in a loaded
    full run, reloads of pages not yet controlled failed offline (ERR_INTERNET_DISCONNECTED)."""
    try:
        page.wait_for_function(_CONTROLLED, timeout=15000)
    except PlaywrightTimeoutError:
        page.reload()
        page.wait_for_function(_CONTROLLED, timeout=30000)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def wait_synced(page, timeout: float = 30000) -> None:
    """The sync status shows nothing pending."""
    page.wait_for_selector("[data-testid=sync-status][data-pending='0'][data-online='yes']", timeout=timeout)


def signin_state(page) -> dict:
    return json.loads(page.evaluate("localStorage.getItem('bl.signin')") or "null")


def edges(node: dict) -> list[tuple[str, str]]:
    """(answer, next node) pairs a node offers, as the fold reads them."""
    kind, nxt = node.get("type"), node.get("next")
    if kind == "choice":
        return [(o["id"], o["next"]) for o in node.get("options", [])]
    if kind == "input":
        return [("submitted", nxt)]
    if isinstance(nxt, dict):
        return list(nxt.items())
    if isinstance(nxt, str):
        answers = ["yes", "no"] if kind == "question" else ["done", "failed", "skipped"]
        return [(a, nxt) for a in answers]
    return []


def shortest_run(tree: dict) -> list[tuple[str, str, str]]:
    """The fewest answers from the start to a resolution: [(node_id, answer, next_node)]."""
    nodes, start = tree["nodes"], tree["start"]
    prev: dict[str, tuple[str, str] | None] = {start: None}
    queue = collections.deque([start])
    while queue:
        nid = queue.popleft()
        if nodes[nid]["type"] == "resolution":
            run = []
            while prev[nid] is not None:
                before, ans = prev[nid]
                run.append((before, ans, nid))
                nid = before
            return run[::-1]
        for ans, nxt in edges(nodes[nid]):
            if nxt in nodes and nxt not in prev:
                prev[nxt] = (nid, ans)
                queue.append(nxt)
    raise AssertionError("the tree has no reachable resolution")


def current_node(page) -> str:
    return page.get_attribute("[data-testid=step-card]", "data-node-id")


def answer_step(
    page, tree: dict, node_id: str, answer: str, next_node: str, value: str = "CTX-W11-07"
) -> None:
    """Answer the current step through the UI and wait for the next one."""
    assert current_node(page) == node_id
    if tree["nodes"][node_id]["type"] == "input":
        page.fill("#step-input", value)
        page.click("[data-testid=step-card] button[type=submit]")
    else:
        page.click(f"[data-testid=step-card] [data-answer='{answer}']")
    page.wait_for_selector(f"[data-testid=step-card][data-node-id='{next_node}']")


def write_note(page, text: str) -> None:
    page.fill("#step-notes", text)
    page.locator("#step-notes").blur()
    page.wait_for_selector("[data-testid=note-status]:has-text('Saved')")


def start_session(
    page, tree_title: str, ticket: str, client: str | None = None, screenshot: str | None = None
) -> str:
    page.click(f"[data-testid=tree-list] >> text={tree_title}")
    page.wait_for_selector("#ticket")
    page.fill("#ticket", ticket)
    if client:
        page.select_option("#client", client)
    if screenshot:
        shot(page, screenshot)
    page.click("button:has-text('Start session')")
    page.wait_for_selector("[data-testid=step-card]")
    return page.url.rstrip("/").split("/s/")[1]


def finish_session(page, summary: str) -> None:
    page.click("button:has-text('Finish with a summary')")
    page.fill("#summary", summary)
    page.click("[data-testid=finish-confirm]")
    page.wait_for_selector("[data-testid=export-preview]")


def copy_export(page) -> str:
    page.click("[data-testid=copy-export]")
    page.wait_for_selector("text=Copied to the clipboard")
    return page.evaluate("navigator.clipboard.readText()")


# --- accessibility ---------------------------------------------------------------------------
# axe-core (tests/node's npm install) checks the page as rendered. Only serious and critical
# findings fail a test: those block people who use a screen reader, a keyboard or low vision.
AXE_SCRIPT = Path(__file__).resolve().parents[1] / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_BLOCKING = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """axe's violations on the page as it stands, every impact."""
    assert AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: run `npm ci` in tests/node"
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, not added as a <script>: the app's
        # Content-Security-Policy (script-src 'self') refuses inline scripts, as it should.
        page.evaluate("source => { (0, eval)(source); return typeof window.axe; }", AXE_SCRIPT.read_text())
    return page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for n in v["nodes"][:8]:
            # The first way to fix it, e.g. "Element has insufficient color contrast of 3.65 (...)".
            summary = (n.get("failureSummary", "").splitlines()[1:2] or [""])[0].strip()
            lines.append(f"    {' '.join(map(str, n['target']))}: {summary}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more elements")
    return "\n".join(lines)


# The app's dark theme is the `dark` class on <html> (pwa/src/theme.ts). Colour transitions are
# switched off while checking, so axe never measures a colour halfway between the two themes.
# Through each element's own style (CSSOM), which the app's Content-Security-Policy allows; a
# <style> element would be refused.
SET_THEME = """dark => {
  for (const el of document.querySelectorAll('*')) el.style.setProperty('transition', 'none', 'important');
  document.documentElement.classList.toggle('dark', dark);
}"""
CALM_OFF = "() => { for (const el of document.querySelectorAll('*')) el.style.removeProperty('transition'); }"


def assert_accessible(page, name: str) -> None:
    """No serious or critical axe violation on the page `name` as it stands now, in the light
    theme and in the dark one."""
    was_dark = page.evaluate("document.documentElement.classList.contains('dark')")
    found = []
    try:
        for theme in ("light", "dark"):
            page.evaluate(SET_THEME, theme == "dark")
            blocking = [v for v in axe_violations(page) if v["impact"] in AXE_BLOCKING]
            if blocking:
                found.append(f"{name}, {theme} theme:\n{describe_violations(blocking)}")
    finally:
        page.evaluate(SET_THEME, was_dark)
        page.evaluate(CALM_OFF)
    assert not found, "axe found serious or critical problems on " + "\n".join(found)
