"""Many tabs of one browser work at once: one tab holds the live replication for all of them
(the browser allows six connections per host, and every tab holding its own live feeds used
them all up, so saves waited for minutes). Five tabs of one browser profile each save and sync
at once, every edit reaches the server, and when the tab that syncs closes another takes over."""

from __future__ import annotations

import time

from tests.browser.conftest import DESKTOP, app_context, sign_in, wait_synced
from tests.conftest import Tenant, wait_until

TREES = [
    "tree:dns-resolution-failure",
    "tree:print-spooler-failures",
    "tree:server-disk-space",
    "tree:bitlocker-recovery",
    "tree:slow-windows-logon",
]
TABS = 5
# The bug this catches made saves wait for minutes; on a quiet machine each takes a few tenths
# of a second. A one-second bound failed on a busy 2-core machine (1.05 s) with nothing wrong.
PROMPTLY = 3.0


def _promptly(page, selector: str, what: str) -> None:
    started = time.monotonic()
    page.wait_for_selector(selector, timeout=30000)
    took = time.monotonic() - started
    assert took < PROMPTLY, f"{what} took {took:.1f} s"


def _notes(http, who, sid) -> list[str]:
    state = http.get(f"/api/v1/sessions/{sid}", headers=who.headers).json()
    return [n["text"] for ns in state["notes"].values() for n in ns]


def test_five_editor_tabs_each_save_promptly(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    author = tenant.add_user("author")
    ctx = app_context(browser, DESKTOP)
    try:
        first = ctx.new_page()
        sign_in(first, server.url, author.email, author.password)
        wait_synced(first)
        pages = [first] + [ctx.new_page() for _ in range(TABS - 1)]
        for page, tree_id in zip(pages, TREES, strict=True):
            page.goto(f"{server.url}/editor/{tree_id}")
        for page in pages:
            page.wait_for_selector("[data-testid=save-state][data-state=saved]", timeout=30000)
        for i, page in enumerate(pages):
            page.fill("#t-title", f"Edited in tab {i}")
            page.locator("#t-title").blur()
            # Timed in the page's own clock, from the key press to the server's answer: a save
            # waiting for a free connection shows here, the page's rendering on a busy test
            # machine does not.
            asked = page.evaluate("performance.timeOrigin + performance.now()")
            with page.expect_response(
                lambda r: r.request.method == "PUT" and "/api/v1/trees/" in r.url
            ) as saving:
                page.keyboard.press("Control+s")
            timing = saving.value.request.timing
            took = (timing["startTime"] + timing["responseEnd"] - asked) / 1000
            assert took < 1.0, f"saving in tab {i} took {took:.1f} s"
            page.wait_for_selector("[data-testid=save-state][data-state=saved]")
        for i, tree_id in enumerate(TREES):
            assert (
                http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()["title"]
                == f"Edited in tab {i}"
            )
    finally:
        ctx.close()


def test_five_runner_tabs_each_sync_promptly_and_another_tab_takes_over(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    sids = []
    for i in range(TABS):
        r = http.post(
            "/api/v1/sessions", headers=engineer.headers, json={"tree_id": TREES[0], "ticket": f"TAB-{i}"}
        )
        assert r.status_code == 201, r.text
        sids.append(r.json()["session_id"])
    # No service worker, so each request is reported by the tab that made it (see `feeds`).
    ctx = app_context(browser, DESKTOP, service_workers="block")
    try:
        first = ctx.new_page()
        sign_in(first, server.url, engineer.email, engineer.password)
        wait_synced(first)
        pages = [first] + [ctx.new_page() for _ in range(TABS - 1)]
        feeds: dict[int, int] = {}  # live `_changes` requests per tab
        for i, page in enumerate(pages):
            page.on(
                "request",
                lambda req, i=i: "/_changes" in req.url and feeds.__setitem__(i, feeds.get(i, 0) + 1),
            )
        for page, sid in zip(pages, sids, strict=True):
            page.goto(f"{server.url}/s/{sid}")
        for page in pages:
            page.wait_for_selector("[data-testid=step-card]", timeout=30000)
            wait_synced(page)

        # A note in each tab: saved, and on the server, each promptly.
        for i, (page, sid) in enumerate(zip(pages, sids, strict=True)):
            page.fill("#step-notes", f"Note from tab {i}")
            page.locator("#step-notes").blur()
            _promptly(page, "[data-testid=note-status]:has-text('Saved')", f"saving the note in tab {i}")
            _promptly(
                page, "[data-testid=sync-status][data-pending='0'][data-online='yes']", f"syncing tab {i}"
            )
            assert _notes(http, engineer, sid) == [f"Note from tab {i}"]

        assert set(feeds) == {0}, f"only the first tab syncs, yet {sorted(feeds)} polled the server"

        # The first tab (the one syncing for all) closes: another one takes over.
        first.close()
        for i, (page, sid) in enumerate(zip(pages[1:], sids[1:], strict=True), start=1):
            page.fill("#step-notes", f"Note from tab {i}, after the first tab closed")
            page.locator("#step-notes").blur()
            page.wait_for_selector("[data-testid=note-status]:has-text('Saved')")
            wait_synced(page, timeout=10000)
            wait_until(
                lambda sid=sid, i=i: (
                    _notes(http, engineer, sid) == [f"Note from tab {i}, after the first tab closed"]
                ),
                timeout=10,
                message=f"tab {i}'s note on the server",
            )
        assert len(set(feeds) - {0}) == 1, f"one tab took over, not {sorted(feeds)}"
    finally:
        ctx.close()


# A 1x1 PNG: a photo taken in the comms room.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154"
    "789c6360f8cfc0f01f0005000201e2219bc10000000049454e44ae426082"
)


def test_a_photo_queued_in_one_tab_counts_in_every_tab(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    r = http.post(
        "/api/v1/sessions", headers=engineer.headers, json={"tree_id": TREES[0], "ticket": "TABS-PHOTO"}
    )
    sid = r.json()["session_id"]
    ctx = app_context(browser, DESKTOP)
    try:
        a = ctx.new_page()
        sign_in(a, server.url, engineer.email, engineer.password)
        wait_synced(a)
        b = ctx.new_page()
        b.goto(f"{server.url}/s/{sid}")
        b.wait_for_selector("[data-testid=step-card]")
        wait_synced(b)
        ctx.set_offline(True)
        b.set_input_files(
            "[data-testid=attach-file]",
            files=[{"name": "patch-panel.png", "mimeType": "image/png", "buffer": PNG}],
        )
        b.wait_for_selector("[data-testid=queued-attachment] >> text=Waiting for network")
        # The other tab counts it too: signing out there would warn about it.
        a.wait_for_selector("[data-testid=pending-count]:text-is('1')", timeout=5000)
        ctx.set_offline(False)
        wait_synced(a)
        wait_synced(b)
        files = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()["attachments"]
        assert [f["name"] for fs in files.values() for f in fs] == ["patch-panel.png"]
    finally:
        ctx.close()


def test_signing_out_in_one_tab_signs_out_every_tab(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, DESKTOP)
    try:
        a = ctx.new_page()
        sign_in(a, server.url, engineer.email, engineer.password)
        wait_synced(a)
        b = ctx.new_page()
        b.goto(server.url + "/history")
        wait_synced(b)
        a.goto(server.url + "/profile")
        a.click("[data-testid=sign-out]")
        a.wait_for_selector("#email")
        # The other tab no longer shows (or writes to) the signed-out engineer's data.
        b.wait_for_selector("#email", timeout=5000)
        # And stays signed out: no tab wrote the ended sign-in back while it was removed.
        b.reload()
        b.wait_for_selector("#email")
        assert b.evaluate("localStorage.getItem('bl.signin')") is None
        assert (
            a.evaluate(
                "indexedDB.databases().then(dbs => dbs.map(d => d.name)"
                ".filter(n => n.includes('bl_') || n.startsWith('bl-attachments-')))"
            )
            == []
        )
    finally:
        ctx.close()
