"""A server killed between asking the RMM to run a script and recording that it did: after a
restart the run is not submitted again. NinjaOne's runner reports into a device field, so the
restarted server finds the run's result by its marker; Datto RMM offers no such look-up, so
the run ends "in doubt" for a person to check (tests/rmm/test_script_runs.py shows that case
through a lost answer)."""

from __future__ import annotations

from tests.conftest import wait_until
from tests.rmm.fake_base import Outcome
from tests.rmm.helpers import ask, configure, publish_script, session_at_action, session_events, wait_done

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_RMM_POLL_SECONDS": "0.1",
    "BRANCHLINE_RMM_RETRY_SCHEDULE": "0.2,0.2,0.2",
    "BRANCHLINE_RMM_HTTP_TIMEOUT_SECONDS": "1",
}


def test_a_run_submitted_just_before_a_crash_is_found_again_and_never_sent_twice(http, server, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(http, tenant, "gpupdate-report", "gpresult /r /scope computer")
    sid = session_at_action(http, tenant, tenant)
    ninja.outcome = Outcome(exit_code=0, output="Applied GPOs: Default Domain Policy", polls=1)
    release = ninja.hold("/script/run")

    run = ask(http, tenant, sid, script_id=script_id, target={"device_id": "1009"})
    wait_until(lambda: ninja.scripts_run, message="the RMM to receive the run")
    server.kill()  # the RMM started the job; the server never heard back
    release.set()
    server.start()

    done = wait_done(http, tenant, sid, run["run_id"], timeout=60)
    assert done["result"] == "succeeded" and done["exit_code"] == 0
    assert len(ninja.calls("POST", "/script/run")) == 1 and len(ninja.scripts_run) == 1
    [ev] = [e for e in session_events(http, tenant, sid) if e["type"] == "script_run"]
    assert ev["output"] == "Applied GPOs: Default Domain Policy"
