"""Script runs end to end: a real server dispatches to the fake NinjaOne and Datto RMM
(tests/rmm/fake_*.py), polls, and records the result in the session and its exports.

The fakes listen on 127.0.0.1, so this module's server allows private targets; polls and
retries come within fractions of a second so runs play out quickly. No script is executed
anywhere: the fakes only decode the text they receive.
"""

from __future__ import annotations

from tests.rmm.fake_base import Outcome
from tests.rmm.helpers import (
    ask,
    audit_actions,
    configure,
    publish_script,
    rendered,
    session_at_action,
    session_events,
    wait_done,
)

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_RMM_POLL_SECONDS": "0.1",
    "BRANCHLINE_RMM_RETRY_SCHEDULE": "0.2,0.2,0.2",
    "BRANCHLINE_RMM_HTTP_TIMEOUT_SECONDS": "1.5",
}
SCRIPT = "Get-Service BrokerAgent | Select-Object Status, Name\n'done' | Write-Output"


def test_an_engineer_runs_a_low_risk_script_on_ninjaone_and_the_session_records_it(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(http, tenant, "broker-status", SCRIPT, name="Broker agent status")
    engineer = tenant.add_user("engineer")
    sid = session_at_action(http, tenant, engineer)
    ninja.outcome = Outcome(exit_code=0, output="Status Name\nRunning BrokerAgent", polls=3)

    run = ask(
        http, engineer, sid, script_id=script_id, target={"device_id": "1007", "device_name": "CTX-VDA-07"}
    )
    assert run["status"] == "pending" and run["risk"] == "low"
    done = wait_done(http, engineer, sid, run["run_id"])

    assert done["result"] == "succeeded" and done["exit_code"] == 0
    # The RMM received the published text exactly, as the runner's encoded command.
    [sent] = ninja.scripts_run
    assert (
        sent["script"] == rendered(http, tenant, script_id, SCRIPT)
        and sent["device_id"] == 1007
        and sent["run_as"] == "system"
    )
    assert sent["marker"] == f"[Branchline run {run['run_id']}]"
    events = session_events(http, tenant, sid)
    [ev] = [e for e in events if e["type"] == "script_run"]
    assert ev["node_id"] == "service" and ev["script_id"] == script_id and ev["status"] == "succeeded"
    assert ev["target"] == {"system": "ninjaone", "device_id": "1007", "device_name": "CTX-VDA-07"}
    assert ev["output"] == "Status Name\nRunning BrokerAgent" and ev["user_id"] == engineer.id
    [att] = [e for e in events if e["type"] == "attachment_added"]
    assert att["attachment_id"] == ev["attachment_id"] and att["content_type"].startswith("text/plain")
    r = http.get(f"/api/v1/sessions/{sid}/attachments/{att['attachment_id']}", headers=engineer.headers)
    assert r.status_code == 200 and b"Running BrokerAgent" in r.content
    assert [a["action"] for a in reversed(audit_actions(http, tenant))][-2:] == [
        "rmm.run_requested",
        "rmm.run_finished",
    ]
