"""Actions the server checks against its own copy of a session, asked for right after the
answer they depend on: the device wrote it locally, and live replication has not delivered it
yet. Run on a script step checks the step (`at_step`, 409 `stale_run` otherwise); Send to
ConnectWise checks that the session is finished (409 "still in progress" otherwise). Before,
a quick tap got that refusal (and the browser tests flaked on a busy machine); now the action
says "Syncing…", waits for this session's changes to reach the server, then goes.

The device's pushes to the sessions database (`_bulk_docs`) are held here from the last answer
until the screen shows it waits, and the page's clock jumps eight seconds on meanwhile: a sync
slow enough to meet the tap, and slower than a short wait, every time.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import (
    MOBILE,
    answer_step,
    app_context,
    finish_session,
    shortest_run,
    shot,
    sign_in,
    start_session,
    wait_synced,
)
from tests.browser.test_runner_step_script import World, runs_on_server
from tests.conftest import Tenant, wait_until
from tests.integrations.fake_connectwise import FakeConnectWise
from tests.integrations.helpers import configure, wait_pushed
from tests.rmm.fake_base import Outcome
from tests.rmm.fake_ninjaone import FakeNinjaOne
from tests.sessions.test_sessions_api import publish_tree
from tests.trees.factories import valid_tree

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_RMM_POLL_SECONDS": "0.1",
    "BRANCHLINE_RMM_HTTP_TIMEOUT_SECONDS": "5",
    "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.3,0.3",
}
SESSIONS_PUSH = re.compile(r".*/sync/[^/]+/sessions/_bulk_docs.*")
SESSIONS_CHECK = re.compile(r".*/sync/[^/]+/sessions/_revs_diff.*")
SESSION_ACTION = re.compile(r".*/api/v1/sessions/[^/]+/(psa|share-links|script-runs)$")


class HeldSync:
    """The page's pushes to the sessions database, held until `release` (then passed on)."""

    def __init__(self, page) -> None:
        self.page = page
        self.held: list = []
        self.holding = True
        # What the page asked in order: "check" for each `_revs_diff` on the sessions database
        # (how it learns whether the server has the session yet), else the action's URL.
        self.asked: list[str] = []
        page.route(SESSIONS_PUSH, self._route)
        page.on("request", self._seen)

    def _seen(self, request) -> None:
        if SESSIONS_CHECK.match(request.url):
            self.asked.append("check")
        elif request.method == "POST" and SESSION_ACTION.match(request.url):
            self.asked.append(request.url)

    def _route(self, route) -> None:
        if self.holding:
            self.held.append(route)
        else:
            route.continue_()

    def wait_held(self) -> None:
        """A push is on its way and held (routes are handled while Playwright is called)."""
        wait_until(lambda: self.page.evaluate("1") and self.held, message="a held push")

    def outlast_a_short_wait(self) -> None:
        """Jump the page's clock eight seconds on while the push is held, as a sync that slow
        (one bar of signal) would, and see the action still waiting rather than gone ahead to
        be refused. It once gave up after 5 s: on a busy test machine the send then flaked.

        The wait asks the server (`_revs_diff`), looks at the clock, and asks again 300 ms on.
        Three asks after the jump with no action among them: it looked at the clock past the
        jump and kept waiting (the app's own occasional checks cannot make up three that
        quickly). Gone ahead, the action comes before the third ask. Needs
        `page.clock.install()` before the page opened the app."""
        start = len(self.asked)
        self.page.clock.fast_forward(8_000)

        def since() -> list[str]:
            return self.asked[start:]

        wait_until(
            lambda: self.page.evaluate("1") and (since().count("check") >= 3 or len(set(since())) > 1),
            message="the page to check the sync three times after the jump, or to go ahead",
        )
        third = [i for i, a in enumerate(since()) if a == "check"][2:3]
        early = [a for a in since()[: third[0] if third else None] if a != "check"]
        assert not early, f"went ahead 8 s into a held sync (and was refused): {early}"

    def release(self) -> None:
        self.holding = False
        for route in self.held:
            route.continue_()
        self.held.clear()


@pytest.fixture
def ninja():
    fake = FakeNinjaOne().start()
    yield fake
    fake.stop()


def test_run_right_after_the_answer_waits_for_it_to_reach_the_server(browser, http, server, ninja):
    world = World(http, ninja)
    ninja.outcome = Outcome(exit_code=0, output="Running BrokerAgent", polls=1)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    page.clock.install()
    try:
        sign_in(page, server.url, world.engineer.email, world.engineer.password)
        sid = start_session(page, world.tree["title"], "T20261204.0201", client=world.client_id)
        answer_step(page, world.tree, "scope", "yes", "vda")
        wait_synced(page)
        sync = HeldSync(page)
        # The answer that reaches the script step stays on the device for now.
        answer_step(page, world.tree, "vda", "submitted", "service", value="CTX-VDA-07")
        sync.wait_held()
        page.wait_for_selector("[data-testid=script-text] >> text=$Computer = 'CTX-VDA-07'")
        page.select_option("#run-device", "1007")
        page.click("[data-testid=run-script]")

        shown = page.wait_for_selector("[data-testid=run-syncing], [data-testid=step-script] [role=alert]")
        assert shown.get_attribute("data-testid") == "run-syncing", shown.text_content()
        assert "Syncing" in shown.text_content()
        assert runs_on_server(http, world.engineer, sid) == []  # nothing asked for yet
        shot(page, "sync-wait-01-run-syncing")
        sync.outlast_a_short_wait()
        sync.release()

        output = page.wait_for_selector("[data-testid=script-run-output]", timeout=30000)
        assert "Running BrokerAgent" in output.text_content()
        assert page.locator("[data-testid=step-script] [role=alert]").count() == 0
        assert page.locator("[data-testid=run-syncing]").count() == 0
        [sent] = ninja.scripts_run
        assert sent["device_id"] == 1007
    finally:
        ctx.close()


def test_a_run_queued_offline_waits_for_the_answers_made_offline_before_it_is_sent(
    browser, http, server, ninja
):
    """Back online, the queued run and the answers given offline leave together: the run waits
    for them, or the server (still at the old answer) refuses it as stale and it is dropped."""
    world = World(http, ninja)
    ninja.outcome = Outcome(exit_code=0, output="Running BrokerAgent", polls=1)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sid = world.at_script_step(page, server.url, "T20261204.0202")
        wait_synced(page)
        page.wait_for_selector("text=Script: Broker agent status")
        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=sync-status][data-online='no']", timeout=30000)
        # Offline, the engineer steps back and answers again: the same step, a new answer.
        page.click("button:has-text('← Back')")
        page.wait_for_selector("[data-testid=step-card][data-node-id='vda']")
        answer_step(page, world.tree, "vda", "submitted", "service", value="CTX-VDA-07")
        page.select_option("#run-device", "1007")
        page.click("[data-testid=run-script]")
        page.click("[data-testid=queue-run]")
        page.wait_for_selector("[data-testid=queued-run] >> text=Queued for CTX-VDA-07")

        sync = HeldSync(page)
        ctx.set_offline(False)
        shown = page.wait_for_selector(
            "[data-testid=queued-run]:has-text('Syncing'), [data-testid=dropped-run]", timeout=30000
        )
        assert shown.get_attribute("data-testid") == "queued-run", shown.text_content()
        assert runs_on_server(http, world.engineer, sid) == []
        shot(page, "sync-wait-02-queued-syncing")
        sync.release()

        output = page.wait_for_selector("[data-testid=script-run-output]", timeout=45000)
        assert "Running BrokerAgent" in output.text_content()
        assert page.locator("[data-testid=dropped-run]").count() == 0
        assert page.locator("[data-testid=queued-run]").count() == 0
        [sent] = ninja.scripts_run
        assert sent["device_id"] == 1007
    finally:
        ctx.close()


@pytest.fixture
def connectwise(http):
    """A tenant with ConnectWise configured (a fake of it), an engineer and a published tree."""
    cw = FakeConnectWise().start()
    tenant = Tenant(http)
    engineer = tenant.add_user("engineer")
    tree = valid_tree()
    publish_tree(http, tenant, tree)
    configure(http, tenant, cw.config())
    yield cw, engineer, tree
    cw.stop()


def finished_with_its_end_held(page, server, engineer, tree) -> tuple[str, HeldSync]:
    """Sign in, run `tree` to its end and finish: the `completed` event stays on the device
    (its push held) until the answer's `release`."""
    sign_in(page, server.url, engineer.email, engineer.password)
    sid = start_session(page, tree["title"], "Printer on floor 3")
    for node_id, ans, nxt in shortest_run(tree):
        answer_step(page, tree, node_id, ans, nxt)
    wait_synced(page)
    sync = HeldSync(page)
    finish_session(page, "Restarted the Desktop Service.")
    sync.wait_held()
    return sid, sync


def test_send_to_connectwise_right_after_finishing_waits_for_the_end_to_reach_the_server(
    browser, http, server, connectwise
):
    cw, engineer, tree = connectwise
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    page.clock.install()
    try:
        sid, sync = finished_with_its_end_held(page, server, engineer, tree)
        page.click("[data-testid=psa-send]")

        shown = page.wait_for_selector("[data-testid=psa-syncing], [data-testid=psa-error]")
        assert shown.get_attribute("data-testid") == "psa-syncing", shown.text_content()
        assert "Syncing" in shown.text_content()
        shot(page, "sync-wait-03-psa-syncing")
        sync.outlast_a_short_wait()
        sync.release()

        # "Queued", or already the ticket: the fake answers at once, and once the pushed
        # header syncs back the card shows "Sent to ConnectWise #…" in its place.
        page.wait_for_selector("[data-testid=psa-queued], [data-testid=psa-ticket]", timeout=30000)
        assert page.locator("[data-testid=psa-error]").count() == 0
        assert wait_pushed(http, engineer, sid)["system"] == "connectwise"
        wait_until(lambda: cw.tickets, timeout=30, message="the ticket in ConnectWise")
    finally:
        ctx.close()


def test_a_send_called_off_while_syncing_is_not_sent_and_can_be_asked_for_again(
    browser, http, server, connectwise
):
    """Cancel beside "Syncing…": nothing goes to ConnectWise, not even once the session's end
    reaches the server; a second tap then sends it, once."""
    from playwright.sync_api import expect

    cw, engineer, tree = connectwise
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sid, sync = finished_with_its_end_held(page, server, engineer, tree)
        page.click("[data-testid=psa-send]")
        expect(page.get_by_test_id("psa-syncing")).to_be_visible()
        shot(page, "sync-wait-04-psa-cancel")
        page.click("[data-testid=psa-cancel]")
        expect(page.get_by_test_id("psa-syncing")).to_have_count(0)
        expect(page.get_by_test_id("psa-send")).to_be_enabled()
        sync.release()
        wait_synced(page)

        page.click("[data-testid=psa-send]")
        page.wait_for_selector("[data-testid=psa-queued], [data-testid=psa-ticket]", timeout=30000)
        assert page.locator("[data-testid=psa-error]").count() == 0
        assert wait_pushed(http, engineer, sid)["system"] == "connectwise"
        wait_until(lambda: cw.tickets, timeout=30, message="the ticket in ConnectWise")
        sends = [a for a in sync.asked if a != "check"]
        assert len(sends) == 1 and len(cw.tickets) == 1, (sends, cw.tickets)
    finally:
        ctx.close()


def test_a_share_link_asked_for_right_after_starting_waits_for_the_session_to_reach_the_server(
    browser, http, server
):
    """The link is made on the server: before, a link asked for before the new session had
    synced got a 404 ("has not reached the server yet"); now the dialog says it is syncing,
    waits, and the link shows the session with the answer just given."""
    from playwright.sync_api import expect

    from tests.browser.test_pwa_runner import pinned_tree
    from tests.browser.test_pwa_share_link import open_share_dialog

    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = pinned_tree(http, engineer)
    (first_node, first_answer, second_node), *_ = shortest_run(tree)
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        page.clock.install()
        sign_in(page, server.url, engineer.email, engineer.password)
        sync = HeldSync(page)  # from the start: not even the session's header is on the server
        start_session(page, tree["title"], "T20261206.0042")
        answer_step(page, tree, first_node, first_answer, second_node)
        sync.wait_held()
        dialog = open_share_dialog(page)
        dialog.get_by_role("button", name="Create link").click()
        expect(dialog.get_by_test_id("share-syncing")).to_be_visible()
        shot(page, "share-link-03-syncing")
        sync.outlast_a_short_wait()
        sync.release()
        url_box = dialog.get_by_test_id("share-link-url")
        expect(url_box).to_have_value(re.compile(r"/share/[A-Za-z0-9_-]{43}$"), timeout=20000)
        expect(dialog.get_by_role("alert")).to_have_count(0)
        shared = http.get(url_box.input_value())
        assert shared.status_code == 200 and "T20261206.0042" in shared.text
    finally:
        ctx.close()
