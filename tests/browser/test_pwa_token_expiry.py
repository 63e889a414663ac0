"""Auth while syncing: a 5-second access token expires again and again during live sync and
nothing is lost; a sign-in the server revoked asks the user to sign in again, keeps the work
on the device, and syncs it once they have."""

from __future__ import annotations

from tests.browser.conftest import (
    MOBILE,
    answer_step,
    app_context,
    shortest_run,
    sign_in,
    signin_state,
    start_session,
    wait_synced,
    write_note,
)
from tests.conftest import Tenant, wait_until

SERVER_ENV = {"BRANCHLINE_ACCESS_TOKEN_MINUTES": "0.0834"}  # about 5 seconds
TREE_ID = "tree:windows-update-failure"


def wait_token_expired(page) -> None:
    """Until the access token the page holds now is past its expiry (the condition under test).

    The page may have renewed it by then: the server ends a live feed when its token expires,
    so the app asks for a new one at once instead of on its next write."""
    expires_at = page.evaluate("() => JSON.parse(localStorage.getItem('bl.signin')).tokens.expires_at")
    page.wait_for_function("(t) => Date.now() > t", arg=expires_at, timeout=15000)


def fresh_headers(http, member) -> dict[str, str]:
    """The test's own tokens live 5 seconds too: sign in anew for each look at the server."""
    r = http.post("/api/v1/auth/login", json={"email": member.email, "password": member.password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def server_state(http, member, sid) -> dict:
    r = http.get(f"/api/v1/sessions/{sid}", headers=fresh_headers(http, member))
    return r.json() if r.status_code == 200 else {}


def server_notes(http, member, sid) -> list[str]:
    state = server_state(http, member, sid)
    return sorted(n["text"] for ns in state.get("notes", {}).values() for n in ns)


def test_short_lived_tokens_expiring_during_live_sync_lose_nothing(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = http.get(f"/api/v1/trees/{TREE_ID}/versions/1", headers=fresh_headers(http, engineer)).json()[
        "tree"
    ]
    run = shortest_run(tree)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        first_refresh = signin_state(page)["tokens"]["refresh_token"]
        sid = start_session(page, tree["title"], "TOKENS")
        expected = []
        for i, (node_id, ans, nxt) in enumerate(run):
            wait_token_expired(page)  # each step is written after the token has run out
            text = f"Note {i} written with an expired access token."
            write_note(page, text)
            expected.append(text)
            answer_step(page, tree, node_id, ans, nxt)
        wait_synced(page)
        assert wait_until(
            lambda: server_notes(http, engineer, sid) == sorted(expected) or None,
            message="every note on the server",
        )
        state = server_state(http, engineer, sid)
        assert [s["node_id"] for s in state["path"]] == [n for n, _, _ in run]
        s = signin_state(page)
        assert s["tokens"]["refresh_token"] != first_refresh  # refreshed (and rotated) along the way
        assert not s.get("expired")
        assert page.locator("text=Sign in again to sync").count() == 0
    finally:
        ctx.close()


def test_a_revoked_sign_in_keeps_the_work_and_syncs_after_signing_in_again(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        sid = start_session(page, "Windows Update Failure", "REVOKED")
        wait_synced(page)
        # The sign-in is revoked elsewhere (signed out from another tab, an admin, a reused token).
        r = http.post(
            "/api/v1/auth/logout", json={"refresh_token": signin_state(page)["tokens"]["refresh_token"]}
        )
        assert r.status_code == 204, r.text
        wait_token_expired(page)
        write_note(page, "Typed after the sign-in was revoked.")
        page.wait_for_selector("text=Sign in again to sync", timeout=30000)
        assert int(page.get_attribute("[data-testid=sync-status]", "data-pending")) >= 1
        assert server_notes(http, engineer, sid) == []

        # Signing in again keeps the local data and sends it.
        page.click("a:has-text('Sign in')")
        page.fill("#password", engineer.password)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=tree-list]")
        wait_synced(page)
        assert wait_until(
            lambda: server_notes(http, engineer, sid) == ["Typed after the sign-in was revoked."] or None,
            message="the note on the server",
        )
    finally:
        ctx.close()


def test_a_lost_refresh_answer_is_retried_and_the_engineer_stays_signed_in(browser, http, server):
    """One bar of signal: the server rotates the refresh token but its answer never arrives.
    The app sends the same token again shortly after and the server answers with the same
    successor: no sign-in prompt, and the note written meanwhile reaches the server."""
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    lost: list[str] = []

    def lose_first_answer(route):
        if lost:
            route.continue_()
            return
        response = route.fetch()  # reaches the server: the token is rotated there
        lost.append(str(response.status))
        route.abort("connectionreset")  # ...and the answer is lost on the way back

    try:
        sign_in(page, server.url, engineer.email, engineer.password)
        spent = signin_state(page)["tokens"]["refresh_token"]
        sid = start_session(page, "Windows Update Failure", "LOST-ANSWER")
        wait_synced(page)
        page.route("**/api/v1/auth/refresh", lose_first_answer)
        wait_token_expired(page)
        write_note(page, "Written while the refresh answer was lost.")
        # Playwright runs the route handler only while this thread is inside a Playwright
        # call, so wait in the page rather than in time.sleep.
        for _ in range(60):
            if server_notes(http, engineer, sid) == ["Written while the refresh answer was lost."]:
                break
            page.wait_for_timeout(1000)
        assert server_notes(http, engineer, sid) == ["Written while the refresh answer was lost."]
        assert lost == ["200"]  # the server did rotate on the first try
        s = signin_state(page)
        assert s["tokens"]["refresh_token"] != spent and not s.get("expired")
        assert page.locator("text=Sign in again").count() == 0
    finally:
        ctx.close()
