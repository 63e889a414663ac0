"""Phone layout: every screen fits a 320 px phone with no sideways scrolling; the runner keeps
its answers reachable in landscape without hiding the step; the answers take a strip, not a
third of the screen, right under the step's notes; the ticket is shown whole; text follows the
browser's font size setting (200%) and the sync badge stays in sight."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import app_context, edges, shot, sign_in
from tests.conftest import Tenant

TREE_ID = "tree:citrix-vda-registration"
TICKET = "T20261126.0042-CONTOSO-RIVERSIDE"
TITLE = (
    "CTX-W11-07.contoso.local unregistered after the VLAN move; Riverside branch users "
    "cannot start their desktops"
)

PHONE = {"width": 360, "height": 740}
SMALL = {"width": 320, "height": 640}
LANDSCAPE = {"width": 740, "height": 360}
ANSWER = "[data-testid=step-card] [data-answer]"


def horizontal_overflow(page) -> int:
    """How far the page scrolls sideways (0 when it fits)."""
    return page.evaluate(
        "(() => { const s = document.scrollingElement; return s.scrollWidth - s.clientWidth; })()"
    )


def box(page, selector: str, up: int = 0) -> dict:
    """The element's box on screen, or that of its `up`-th parent."""
    return page.evaluate(
        """([sel, up]) => { let e = document.querySelector(sel);
            for (let i = 0; i < up; i++) e = e.parentElement;
            const r = e.getBoundingClientRect();
            return {x: r.x, y: r.y, w: r.width, h: r.height, bottom: r.bottom, right: r.right}; }""",
        [selector, up],
    )


def tray(page) -> dict:
    """The strip that holds the answer buttons (their row's parent)."""
    return box(page, ANSWER, up=2)


def uncovered(page, selector: str) -> bool:
    """The element is inside the viewport and nothing is drawn over it (checked across its
    middle, clear of rounded corners)."""
    return page.evaluate(
        """sel => { const e = document.querySelector(sel); if (!e) return false;
            const r = e.getBoundingClientRect();
            if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
            const y = r.y + r.height / 2;
            const pts = [0.2, 0.5, 0.8].map(f => [r.x + r.width * f, y]);
            return pts.every(([x, y]) => {
              const hit = document.elementFromPoint(x, y);
              return !!hit && (hit === e || e.contains(hit)); }); }""",
        selector,
    )


def font_px(page, selector: str) -> float:
    return page.evaluate(
        "sel => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize)", selector
    )


def setup(http):
    """A tenant with the starter library and an engineer's session, with a long title and
    ticket, moved over the API to its first yes/no or done/failed step."""
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    r = http.post(
        "/api/v1/sessions",
        headers=engineer.headers,
        json={"tree_id": TREE_ID, "ticket": TICKET, "title": TITLE},
    )
    assert r.status_code == 201, r.text
    sid = r.json()["session_id"]
    tree = http.get(f"/api/v1/trees/{TREE_ID}/versions/1", headers=engineer.headers).json()
    tree = tree.get("tree", tree)
    first = tree["start"]
    node = first
    while tree["nodes"][node]["type"] not in ("question", "action"):
        answer, nxt = edges(tree["nodes"][node])[0]
        event = {"type": "answered", "node_id": node, "answer": answer}
        if tree["nodes"][node]["type"] == "input":
            event["value"] = "CTX-W11-07"
        r = http.post(f"/api/v1/sessions/{sid}/events", headers=engineer.headers, json=event)
        assert r.status_code == 201, r.text
        node = nxt
    return engineer, sid, first, node


def screens(base: str, sid: str):
    """(name, url, what shows the screen is drawn) for the five screens an engineer uses."""
    return [
        ("library", base + "/", "[data-testid=tree-list]"),
        ("start", base + "/start/" + TREE_ID, "#ticket"),
        ("runner", base + f"/s/{sid}", "[data-testid=step-card]"),
        ("export", base + f"/s/{sid}/export", "[data-testid=export-preview]"),
        ("history", base + "/history", "text=" + TITLE[:20]),
    ]


def open_app(browser, server, engineer, viewport, font_size: int | None = None):
    ctx = app_context(browser, viewport)
    page = ctx.new_page()
    if font_size:
        # The browser's own font size setting (Settings > Appearance > Font size), as a
        # phone's text size setting sets it: rem sizes follow it, px sizes do not.
        ctx.new_cdp_session(page).send(
            "Page.setFontSizes", {"fontSizes": {"standard": font_size, "fixed": font_size}}
        )
    sign_in(page, server.url, engineer.email, engineer.password)
    page.wait_for_selector("text=Continue where you left off")
    return ctx, page


def open_runner(page, server, sid: str, node: str) -> None:
    page.goto(f"{server.url}/s/{sid}")
    page.wait_for_selector(f"[data-testid=step-card][data-node-id='{node}']")
    expect(page.locator(ANSWER).first).to_be_enabled()


def test_no_screen_scrolls_sideways_on_a_320_px_phone(browser, http, server):
    engineer, sid, _, _node = setup(http)
    ctx, page = open_app(browser, server, engineer, SMALL)
    try:
        wide = {}
        for name, url, ready in screens(server.url, sid):
            page.goto(url)
            page.wait_for_selector(ready)
            if name == "runner":
                expect(page.locator(ANSWER).first).to_be_enabled()
            shot(page, f"phone-320-{name}")
            if horizontal_overflow(page) > 0:
                wide[name] = horizontal_overflow(page)
        assert not wide, f"screens wider than a 320 px phone (extra px): {wide}"
    finally:
        ctx.close()


def test_the_runner_on_a_phone_answers_under_the_notes_and_the_ticket_whole(browser, http, server):
    engineer, sid, _, node = setup(http)
    ctx, page = open_app(browser, server, engineer, PHONE)
    try:
        open_runner(page, server, sid, node)
        shot(page, "phone-360-runner")
        # The ticket is what goes into the PSA: all of it on screen, nothing cut off.
        assert page.evaluate(
            """ticket => {
            const e = [...document.querySelectorAll('main p')].find(p => p.textContent.includes(ticket));
            return !!e && e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight
                && e.getBoundingClientRect().right <= innerWidth; }""",
            TICKET,
        ), "the ticket number is cut off"
        # The answers are on screen at once, in a strip that leaves the step readable.
        strip = tray(page)
        assert strip["h"] <= 0.25 * PHONE["height"], (
            f"the answers cover {strip['h'] / PHONE['height']:.0%} of the screen"
        )
        assert uncovered(page, ANSWER), "the answers are not on screen"
        assert uncovered(page, "#step-title"), "the answers or the header cover the step's title"
        # The notes come right before the answers: scrolled to them, they touch.
        page.locator("[data-testid=step-card]").evaluate("e => e.scrollIntoView({block: 'end'})")
        notes, strip = box(page, "#step-notes", up=1), tray(page)
        assert 0 <= strip["y"] - notes["bottom"] <= 48, (
            f"notes end at {notes['bottom']}, answers start at {strip['y']}"
        )
        assert uncovered(page, "#step-notes"), "the answers cover the notes box"
        shot(page, "phone-360-runner-notes")
    finally:
        ctx.close()


def test_landscape_keeps_the_answers_reachable_without_hiding_the_step(browser, http, server):
    engineer, sid, first, node = setup(http)
    ctx, page = open_app(browser, server, engineer, LANDSCAPE)
    try:
        open_runner(page, server, sid, node)
        shot(page, "phone-landscape-runner")
        assert uncovered(page, "#step-title"), "the step's title is hidden in landscape"
        # A yes/no or done/failed step shows its answers at once, under the step's title.
        answers = page.locator(ANSWER)
        for i in range(answers.count()):
            sel = f"{ANSWER}[data-answer='{answers.nth(i).get_attribute('data-answer')}']"
            assert uncovered(page, sel), f"answer {i + 1} is not on screen in landscape"
        assert box(page, "#step-title")["bottom"] <= tray(page)["y"]
        assert horizontal_overflow(page) <= 0
        # What the tree applies to would push the step under the answers here: it is one tap
        # away in the Session menu instead.
        assert not page.is_visible("[data-testid=tree-about]")
        page.get_by_role("button", name="Session", exact=True).click()
        assert "Applies to" in page.locator("[data-testid=tree-about-menu]").text_content()
        page.keyboard.press("Escape")
        # A long list of choices is not pinned over the step: it is reached by scrolling.
        page.goto(f"{server.url}/history")
        r = http.post("/api/v1/sessions", headers=engineer.headers, json={"tree_id": TREE_ID, "ticket": "T2"})
        choice_sid = r.json()["session_id"]
        open_runner(page, server, choice_sid, first)
        assert uncovered(page, "#step-title")
        options = page.locator(ANSWER)
        options.last.scroll_into_view_if_needed()
        assert uncovered(page, f"{ANSWER}[data-answer='{options.last.get_attribute('data-answer')}']")
        shot(page, "phone-landscape-choice")
    finally:
        ctx.close()


def test_text_at_200_percent_scales_and_keeps_the_sync_badge_in_sight(browser, http, server):
    engineer, sid, _, node = setup(http)
    ctx, page = open_app(browser, server, engineer, PHONE, font_size=32)
    try:
        for name, url, ready in screens(server.url, sid):
            page.goto(url)
            page.wait_for_selector(ready)
            page.evaluate("window.scrollTo(0, 0)")
            shot(page, f"phone-200pct-{name}")
            assert uncovered(page, "[data-testid=sync-status]"), f"the sync badge is hidden on {name}"
            badge, header = box(page, "[data-testid=sync-status]"), box(page, "header")
            assert badge["bottom"] <= header["bottom"] and badge["right"] <= PHONE["width"], (
                f"the sync badge spills out of the header on {name}"
            )
        open_runner(page, server, sid, node)
        # Text follows the setting: the step, the answers and the notes are twice as large.
        assert font_px(page, "#step-title") >= 2 * 20
        assert font_px(page, ANSWER) >= 2 * 15
        assert font_px(page, "#step-notes") >= 2 * 15
        page.locator("#step-title").scroll_into_view_if_needed()
        shot(page, "phone-200pct-runner")
        assert uncovered(page, "#step-title"), "the answers cover the step's title"
        answer = page.locator(ANSWER).first
        answer.scroll_into_view_if_needed()
        assert uncovered(page, f"{ANSWER}[data-answer='{answer.get_attribute('data-answer')}']")
        shot(page, "phone-200pct-runner-answers")
    finally:
        ctx.close()
