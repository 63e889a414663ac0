"""Script runs end to end: a real server dispatches to the fake NinjaOne and Datto RMM
(tests/rmm/fake_*.py), polls, and records the result in the session and its exports.

The fakes listen on 127.0.0.1, so this module's server allows private targets; polls and
retries come within fractions of a second so runs play out quickly. No script is executed
anywhere: the fakes only decode the text they receive.
"""

from __future__ import annotations

from api.sessions.ids import ulid
from tests.rmm.fake_base import Outcome
from tests.rmm.helpers import (
    ask,
    audit_actions,
    configure,
    export,
    publish_script,
    rendered,
    rmm_status,
    session_at_action,
    session_events,
    wait_done,
)
from tests.sessions.test_sessions_api import event

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
    # The Markdown export shows the run under its step, with the output.
    event(http, engineer, sid, {"type": "answered", "node_id": "service", "answer": "done"})
    md = export(http, engineer, sid, "markdown")
    step = md.split("**3.**")[1].split("## Outcome")[0]
    assert "Restarted BrokerAgent on CTX-07." in step
    assert "- Script run: Broker agent status on CTX-VDA-07 via NinjaOne: succeeded, exit code 0" in step
    assert "```\nStatus Name\nRunning BrokerAgent\n```" in step
    assert "- Attachment: script-output-" in step


def test_a_datto_quick_job_reports_its_exit_code_and_a_failing_script_is_recorded_as_failed(
    http, tenant, datto
):
    configure(http, tenant, "datto", datto.config())
    script_id = publish_script(http, tenant, "fslogix-report", "Get-ChildItem C:\\ProgramData\\FSLogix")
    sid = session_at_action(http, tenant, tenant)
    datto.outcome = Outcome(exit_code=3, output="Profile container locked", polls=2)
    device = datto.devices[4]

    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": device["uid"]})
    done = wait_done(http, tenant, sid, run["run_id"])

    assert done["result"] == "failed" and done["exit_code"] == 3
    [job] = datto.jobs.values()
    assert job["device_uid"] == device["uid"] and job["name"].endswith(f"[Branchline run {run['run_id']}]")
    assert job["script"] == rendered(http, tenant, script_id, "Get-ChildItem C:\\ProgramData\\FSLogix")
    [ev] = [e for e in session_events(http, tenant, sid) if e["type"] == "script_run"]
    # The exit-code line the runner prints is read, and not shown as output.
    assert ev["status"] == "failed" and ev["exit_code"] == 3 and ev["output"] == "Profile container locked"


def test_a_job_that_does_not_finish_in_time_is_recorded_as_timed_out(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config(timeout_seconds=10))
    script_id = publish_script(http, tenant, "hang", "Start-Sleep 3600")
    sid = session_at_action(http, tenant, tenant)
    ninja.outcome = Outcome(polls=None)  # never reports a result

    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": "1003"})
    assert run["status"] == "pending"
    done = wait_done(http, tenant, sid, run["run_id"], timeout=40)

    assert done["result"] == "timed_out" and done["exit_code"] is None
    assert "did not finish within 10 seconds" in done["last_error"]
    [ev] = [e for e in session_events(http, tenant, sid) if e["type"] == "script_run"]
    assert ev["status"] == "timed_out" and "may still be running" in ev["output"]
    assert len(ninja.scripts_run) == 1
    [entry] = [e for e in rmm_status(http, tenant, "ninjaone")["failed_runs"] if e["run_id"] == run["run_id"]]
    assert entry["result"] == "timed_out"


def test_an_output_past_the_limit_is_cut_with_a_note_and_the_event_carries_its_end(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config(output_limit_bytes=1000))
    script_id = publish_script(http, tenant, "eventlog", "Get-WinEvent -LogName System -MaxEvents 5000")
    sid = session_at_action(http, tenant, tenant)
    lines = "\n".join(f"line {i:05d} é" for i in range(2000))
    ninja.outcome = Outcome(output=lines)

    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": "1004"})
    done = wait_done(http, tenant, sid, run["run_id"])

    assert done["result"] == "succeeded" and done["output_truncated"] is True
    events = session_events(http, tenant, sid)
    [ev] = [e for e in events if e["type"] == "script_run"]
    note = "[Branchline: the output was cut at 1000 bytes; the RMM keeps all of it.]"
    assert ev["output"].endswith(note) and len(ev["output"]) <= 2000
    r = http.get(f"/api/v1/sessions/{sid}/attachments/{ev['attachment_id']}", headers=tenant.headers)
    body = r.content.decode()
    assert r.status_code == 200 and body.rstrip("\n").endswith(note)
    kept = body.split("\n\n", 1)[1].split("\n[Branchline:")[0]
    assert kept.startswith("line 00000 é") and len(kept.encode()) <= 1000


def test_an_rmm_outage_is_retried_and_the_script_runs_once(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(http, tenant, "dns-check", "Resolve-DnsName contoso.local")
    sid = session_at_action(http, tenant, tenant)
    ninja.fail(2, 503)  # the token request aside: the submit fails twice
    ninja.fail(1, 429, retry_after=1)

    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": "1005"})
    done = wait_done(http, tenant, sid, run["run_id"])

    assert done["result"] == "succeeded"
    submits = ninja.calls("POST", "/script/run")
    assert [r.status for r in submits] == [503, 503, 429, 204]
    assert submits[3].at - submits[2].at >= 1.0  # Retry-After was honoured
    assert len(ninja.scripts_run) == 1
    assert done["attempt_count"] == 3


def test_a_submit_whose_answer_is_lost_is_not_sent_again(http, tenant, datto):
    configure(http, tenant, "datto", datto.config())
    script_id = publish_script(http, tenant, "restart-spooler", "Restart-Service Spooler")
    sid = session_at_action(http, tenant, tenant)
    release = datto.hold("/quickjob")  # the job starts, its answer never arrives in time

    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": datto.devices[0]["uid"]})
    done = wait_done(http, tenant, sid, run["run_id"])
    release.set()

    assert done["result"] == "in_doubt"
    assert "did not start it again" in done["last_error"]
    assert len(datto.calls("PUT", "/quickjob")) == 1 and len(datto.jobs) == 1
    [ev] = [e for e in session_events(http, tenant, sid) if e["type"] == "script_run"]
    assert ev["status"] == "in_doubt"


def test_a_request_sent_twice_makes_one_run(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(
        http, tenant, "uptime", "(Get-CimInstance Win32_OperatingSystem).LastBootUpTime"
    )
    sid = session_at_action(http, tenant, tenant)
    body = {"script_id": script_id, "target": {"device_id": "1006"}, "request_id": ulid()}

    first = ask(http, tenant, sid, **body)
    second = ask(http, tenant, sid, **body)
    wait_done(http, tenant, sid, first["run_id"])

    assert first["run_id"] == second["run_id"] == body["request_id"]
    assert len(ninja.scripts_run) == 1


def test_a_device_text_that_differs_from_the_server_rendering_is_refused(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(http, tenant, "disk", "Get-PSDrive C")
    sid = session_at_action(http, tenant, tenant)
    text = rendered(http, tenant, script_id, "Get-PSDrive C")

    r = http.post(
        f"/api/v1/sessions/{sid}/script-runs",
        headers=tenant.headers,
        json={
            "node_id": "service",
            "script_id": script_id,
            "target": {"device_id": "1001"},
            "script_text": text + "; Remove-Item C:\\ -Recurse",
        },
    )
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert "not what the server renders" in r.json()["reason"]
    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": "1001"}, script_text=text)
    wait_done(http, tenant, sid, run["run_id"])
    assert [r["script"] for r in ninja.scripts_run] == [text]


def test_devices_cannot_write_script_run_events_themselves(http, tenant):
    sid = session_at_action(http, tenant, tenant)
    forged = {
        "type": "script_run",
        "node_id": "service",
        "run_id": ulid(),
        "script_id": "script:x",
        "target": {"device_id": "1"},
        "status": "succeeded",
        "exit_code": 0,
        "output": "all good",
    }
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json=forged)
    assert r.status_code == 403 and "written by the server" in r.json()["reason"]
    doc = {
        **forged,
        "_id": f"session:{sid}:ev:{ulid()}",
        "session_id": sid,
        "ts": 1795884300000,
        "user_id": tenant.me["user"]["id"],
        "device_id": "pc-1",
    }
    r = http.post(
        f"{tenant.me['sync']['root']}sessions/_bulk_docs", headers=tenant.headers, json={"docs": [doc]}
    )
    assert r.status_code == 201 and r.json()[0].get("error") == "forbidden", r.text


def test_an_output_the_tenants_attachment_rules_refuse_is_still_recorded_in_the_event(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config(output_limit_bytes=200_000))
    r = http.put("/api/v1/attachment-settings", headers=tenant.headers, json={"max_size_mb": 0.05})
    assert r.status_code == 200, r.text
    script_id = publish_script(http, tenant, "big-report", "Get-ChildItem C:\\ -Recurse")
    sid = session_at_action(http, tenant, tenant)
    ninja.outcome = Outcome(output="x" * 150_000 + "\nDONE")

    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": "1008"})
    done = wait_done(http, tenant, sid, run["run_id"])

    assert done["result"] == "succeeded" and done["attachment_id"] is None
    events = session_events(http, tenant, sid)
    [ev] = [e for e in events if e["type"] == "script_run"]
    assert "attachment_id" not in ev and "The full output was not attached" in ev["output"]
    assert not [e for e in events if e["type"] == "attachment_added"]


def test_an_access_token_the_rmm_stopped_accepting_is_fetched_again(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    assert http.post("/api/v1/rmm/ninjaone/test", headers=tenant.headers).status_code == 200
    ninja.tokens.clear()  # revoked or expired early
    script_id = publish_script(http, tenant, "whoami", "whoami /all")
    sid = session_at_action(http, tenant, tenant)

    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": "1002"})
    assert wait_done(http, tenant, sid, run["run_id"])["result"] == "succeeded"
    assert len(ninja.calls("POST", "/ws/oauth/token")) == 2
    assert [r.status for r in ninja.calls("POST", "/script/run")] == [401, 204]
