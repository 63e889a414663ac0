"""An action step with a library script (issue 18 points 3 and 5), in real Chromium: the
runner shows the script rendered with the session's values, runs it on the client's device
through the fake NinjaOne (tests/rmm/fake_ninjaone.py) and shows the output under the step;
the phone's Markdown export has the run under its step. With no signal, Run says so and a
run queued on the engineer's word is sent when back online, unless its step is over: then it
is dropped with a note and never reaches the RMM. No script executes anywhere: the fake only
decodes what it receives."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    MOBILE,
    answer_step,
    app_context,
    copy_export,
    finish_session,
    shot,
    sign_in,
    start_session,
    wait_for_service_worker,
    wait_synced,
)
from tests.conftest import Tenant, wait_until
from tests.rmm.fake_base import Outcome
from tests.rmm.fake_ninjaone import FakeNinjaOne
from tests.rmm.helpers import configure
from tests.sessions.test_sessions_api import publish_tree
from tests.trees.factories import valid_tree

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_RMM_POLL_SECONDS": "0.1",
    "BRANCHLINE_RMM_HTTP_TIMEOUT_SECONDS": "5",
}
SCRIPT = {
    "_id": "script:broker-status",
    "name": "Broker agent status",
    "body": "Get-Service -Name BrokerAgent -ComputerName $Computer",
    "risk": "low",
    "parameters": [{"name": "Computer", "type": "hostname", "required": True}],
}


# A script that also needs a password: typed on the step, never in the tree or on the device.
SECRET = "Wint3r-'Mix$(x)"
SECRET_SCRIPT = {
    **SCRIPT,
    "body": "$key = ConvertTo-SecureString $Password -AsPlainText -Force\n"
    "Get-Service -Name BrokerAgent -ComputerName $Computer",
    "parameters": [*SCRIPT["parameters"], {"name": "Password", "type": "secret", "required": True}],
}


class World:
    def __init__(self, http, ninja: FakeNinjaOne, risk: str = "low", script: dict = SCRIPT) -> None:
        self.tenant = Tenant(http)
        self.engineer = self.tenant.add_user("engineer")
        configure(http, self.tenant, "ninjaone", ninja.config())
        r = http.post("/api/v1/scripts", headers=self.tenant.headers, json={**script, "risk": risk})
        assert r.status_code == 201, r.text
        r = http.post(f"/api/v1/scripts/{SCRIPT['_id']}/publish", headers=self.tenant.headers, json={})
        assert r.status_code in (200, 201), r.text
        # The fake's devices 1001, 1003, ... belong to organization 2.
        r = http.post(
            "/api/v1/clients",
            headers=self.tenant.headers,
            json={"name": "Contoso", "values": {"ninjaone_organization": "2"}},
        )
        assert r.status_code == 201, r.text
        self.client_id = r.json()["_id"]
        self.tree = valid_tree()
        self.tree["nodes"]["service"]["script"] = {
            "id": SCRIPT["_id"],
            "parameters": {"Computer": "{{input.vda_name}}"},
        }
        publish_tree(http, self.tenant, self.tree)

    def at_script_step(self, page, base_url: str, ticket: str) -> str:
        sign_in(page, base_url, self.engineer.email, self.engineer.password)
        sid = start_session(page, self.tree["title"], ticket, client=self.client_id)
        answer_step(page, self.tree, "scope", "yes", "vda")
        answer_step(page, self.tree, "vda", "submitted", "service", value="CTX-VDA-07")
        page.wait_for_selector("[data-testid=script-text] >> text=$Computer = 'CTX-VDA-07'")
        page.wait_for_selector("#run-device >> option:has-text('CTX-VDA-07')", state="attached")
        return sid


@pytest.fixture
def ninja():
    fake = FakeNinjaOne().start()
    yield fake
    fake.stop()


def runs_on_server(http, who, sid: str) -> list[dict]:
    r = http.get(f"/api/v1/sessions/{sid}/script-runs", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_step_runs_its_script_through_the_rmm_and_the_export_shows_the_output(browser, http, server, ninja):
    world = World(http, ninja)
    ninja.outcome = Outcome(exit_code=0, output="Status  Name\r\nRunning BrokerAgent\r\n", polls=2)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sid = world.at_script_step(page, server.url, "T20261204.0101")
        shot(page, "step-script-01-rendered")
        page.select_option("#run-device", "1007")
        page.click("[data-testid=run-script]")
        output = page.wait_for_selector("[data-testid=script-run-output]", timeout=30000)
        assert "Running BrokerAgent" in output.text_content()
        assert "succeeded, exit code 0" in page.text_content("[data-testid=script-run]")
        shot(page, "step-script-02-output")

        [sent] = ninja.scripts_run
        assert sent["device_id"] == 1007 and "$Computer = 'CTX-VDA-07'" in sent["script"]
        [run] = runs_on_server(http, world.engineer, sid)
        assert run["requested_by"]["id"] == world.engineer.id and run["target"]["device_name"] == "CTX-VDA-07"

        answer_step(page, world.tree, "service", "done", "fixed")
        finish_session(page, "Broker agent running again.")
        markdown = copy_export(page)
        step = markdown.split("**3.**")[1].split("## Outcome")[0]
        assert "- Script run: Broker agent status on CTX-VDA-07 via NinjaOne: succeeded, exit code 0" in step
        assert "```\nStatus  Name\nRunning BrokerAgent\n```" in step
        assert not errors, errors
    finally:
        ctx.close()


def test_a_run_queued_offline_is_sent_back_online_and_survives_a_reload(browser, http, server, ninja):
    world = World(http, ninja)
    ninja.outcome = Outcome(exit_code=0, output="Running BrokerAgent", polls=1)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sid = world.at_script_step(page, server.url, "T20261204.0102")
        wait_for_service_worker(page)
        wait_synced(page)
        page.select_option("#run-device", "1007")
        ctx.set_offline(True)  # no signal in the server room
        page.wait_for_selector("[data-testid=sync-status][data-online='no']", timeout=30000)
        page.click("[data-testid=run-script]")
        offer = page.wait_for_selector("[data-testid=run-offline]")
        assert "No connection" in offer.text_content()
        # The script stays on screen to copy by hand.
        assert "$Computer = 'CTX-VDA-07'" in page.text_content("[data-testid=script-text]")
        page.click("[data-testid=queue-run]")
        page.wait_for_selector("[data-testid=queued-run] >> text=Queued for CTX-VDA-07")
        shot(page, "step-script-03-queued-offline")

        page.reload()  # still offline: the queued run is kept on the device
        page.wait_for_selector("[data-testid=queued-run] >> text=Queued for CTX-VDA-07", timeout=30000)
        assert ninja.scripts_run == [] and runs_on_server(http, world.engineer, sid) == []

        ctx.set_offline(False)  # back in signal
        output = page.wait_for_selector("[data-testid=script-run-output]", timeout=45000)
        assert "Running BrokerAgent" in output.text_content()
        assert page.locator("[data-testid=queued-run]").count() == 0
        [sent] = ninja.scripts_run
        assert sent["device_id"] == 1007
        shot(page, "step-script-04-sent-when-online")
    finally:
        ctx.close()


def test_a_run_queued_offline_whose_step_is_over_is_dropped_never_sent(browser, http, server, ninja):
    world = World(http, ninja)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sid = world.at_script_step(page, server.url, "T20261204.0103")
        wait_synced(page)
        # The step names its script once the script's document has reached the phone (on a
        # busy machine that can come after the session's own sync); the run queued below
        # records that name.
        page.wait_for_selector("text=Script: Broker agent status")
        page.select_option("#run-device", "1007")
        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=sync-status][data-online='no']", timeout=30000)
        page.click("[data-testid=run-script]")
        page.click("[data-testid=queue-run]")
        page.wait_for_selector("[data-testid=queued-run]")
        # The engineer moves on before the signal comes back: the run no longer fits.
        answer_step(page, world.tree, "service", "failed", "event")
        note = page.wait_for_selector("[data-testid=dropped-run]")
        assert "was not sent" in note.text_content() and "Broker agent status" in note.text_content()
        shot(page, "step-script-05-dropped")

        ctx.set_offline(False)
        wait_synced(page)
        wait_until(
            lambda: any(s["path"][-1]["node_id"] == "service" for s in [session(http, world.engineer, sid)]),
            message="the answer on the server",
        )
        assert page.locator("[data-testid=dropped-run]").count() == 1
        assert runs_on_server(http, world.engineer, sid) == [] and ninja.scripts_run == []
    finally:
        ctx.close()


def test_a_secret_is_typed_on_the_step_sent_with_the_run_only_and_never_shown(browser, http, server, ninja):
    world = World(http, ninja, script=SECRET_SCRIPT)
    ninja.outcome = Outcome(exit_code=0, output="Running BrokerAgent", polls=1)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sid = world.at_script_step(page, server.url, "T20261204.0104")
        shown = page.text_content("[data-testid=script-text]")
        assert "$Password = '********'" in shown and "Secrets show as ********" in shown
        page.select_option("#run-device", "1007")
        assert page.is_disabled("[data-testid=run-script]")  # the required secret is not typed yet

        # With no signal a run with a secret is not queued: the secret would have to be stored.
        wait_for_service_worker(page)
        wait_synced(page)
        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=sync-status][data-online='no']", timeout=30000)
        page.fill("[data-testid=secret-Password]", SECRET)
        page.click("[data-testid=run-script]")
        page.wait_for_selector("text=a run with a secret is sent only while online")
        assert page.locator("[data-testid=run-offline]").count() == 0
        assert page.locator("[data-testid=queued-run]").count() == 0

        ctx.set_offline(False)
        page.wait_for_selector("[data-testid=sync-status][data-online='yes']", timeout=30000)
        page.click("[data-testid=run-script]")
        output = page.wait_for_selector("[data-testid=script-run-output]", timeout=30000)
        assert "Running BrokerAgent" in output.text_content()
        [sent] = ninja.scripts_run
        # The RMM got the real value, as one quoted literal (its quote doubled, $() inert).
        assert "$Password = 'Wint3r-''Mix$(x)'" in sent["script"], sent["script"]
        assert SECRET not in page.text_content("body")
        [run] = runs_on_server(http, world.engineer, sid)
        assert "Password" not in (run.get("parameters") or {})
        assert SECRET not in http.get(f"/api/v1/sessions/{sid}", headers=world.engineer.headers).text
        shot(page, "step-script-06-secret-run")
    finally:
        ctx.close()


def session(http, who, sid: str) -> dict:
    r = http.get(f"/api/v1/sessions/{sid}", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_medium_risk_run_shows_it_waits_for_approval_then_runs(browser, http, server, ninja):
    """An engineer's run of a medium-risk script waits for a second, trusted person: the step
    says so and nothing reaches the RMM until an author, admin or owner approves."""
    world = World(http, ninja, risk="medium")
    ninja.outcome = Outcome(exit_code=0, output="Running BrokerAgent", polls=1)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sid = world.at_script_step(page, server.url, "T20261204.0104")
        assert "Medium risk" in page.text_content("[data-testid=step-script]")
        page.select_option("#run-device", "1007")
        page.click("[data-testid=run-script]")
        status = page.wait_for_selector("[data-testid=run-status] >> text=Waiting for approval")
        assert "author, admin or owner other than you" in status.text_content()
        shot(page, "step-script-06-awaiting-approval")
        [run] = runs_on_server(http, world.engineer, sid)
        assert run["status"] == "awaiting_approval" and ninja.scripts_run == []

        r = http.post(
            f"/api/v1/sessions/{sid}/script-runs/{run['run_id']}/approve",
            headers=world.tenant.headers,
            json={},
        )
        assert r.status_code == 202, r.text
        output = page.wait_for_selector("[data-testid=script-run-output]", timeout=30000)
        assert "Running BrokerAgent" in output.text_content() and len(ninja.scripts_run) == 1
    finally:
        ctx.close()
