"""A run asked for at a step (`at_step`, as the runner sends it, and as a run queued offline is
sent later) is refused once the session left that step: moved on, went back (even back to the
same step again) or ended. Nothing reaches the RMM then (issue 18 point 5)."""

from __future__ import annotations

import pytest

from api.sessions.ids import ulid
from tests.rmm.helpers import ask, configure, publish_script, session_at_action, session_state
from tests.sessions.test_sessions_api import event

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_RMM_POLL_SECONDS": "0.1",
    "BRANCHLINE_RMM_HTTP_TIMEOUT_SECONDS": "1.5",
}
TARGET = {"device_id": "1007", "device_name": "CTX-VDA-07"}


def marker(state: dict) -> str:
    return state["path"][-1]["event_id"] if state["path"] else "start"


@pytest.fixture
def at_action(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(http, tenant, "broker-status", "Get-Service BrokerAgent")
    engineer = tenant.add_user("engineer")
    sid = session_at_action(http, tenant, engineer)
    return engineer, sid, script_id, marker(session_state(http, engineer, sid))


def test_a_run_asked_at_the_current_step_is_accepted(http, ninja, at_action):
    engineer, sid, script_id, at = at_action
    run = ask(http, engineer, sid, script_id=script_id, target=TARGET, at_step=at, request_id=ulid())
    assert run["status"] == "pending"


def test_a_run_for_a_step_the_session_moved_past_is_refused_and_never_sent(http, ninja, at_action):
    engineer, sid, script_id, at = at_action
    event(http, engineer, sid, {"type": "answered", "node_id": "service", "answer": "failed"})
    r = http.post(
        f"/api/v1/sessions/{sid}/script-runs",
        headers=engineer.headers,
        json={"node_id": "service", "script_id": script_id, "target": TARGET, "at_step": at},
    )
    assert r.status_code == 409 and r.json()["error"] == "stale_run", r.text
    assert "no longer at the step" in r.json()["reason"]
    r = http.get(f"/api/v1/sessions/{sid}/script-runs", headers=engineer.headers)
    assert r.json()["items"] == [] and ninja.scripts_run == []


def test_going_back_and_returning_to_the_same_step_makes_an_earlier_request_stale(http, ninja, at_action):
    engineer, sid, script_id, at = at_action
    event(http, engineer, sid, {"type": "back"})
    vda = {"type": "answered", "node_id": "vda", "answer": "submitted", "value": "CTX-07"}
    event(http, engineer, sid, vda)
    assert session_state(http, engineer, sid)["current_node"] == "service"
    r = http.post(
        f"/api/v1/sessions/{sid}/script-runs",
        headers=engineer.headers,
        json={"node_id": "service", "script_id": script_id, "target": TARGET, "at_step": at},
    )
    assert r.status_code == 409 and r.json()["error"] == "stale_run", r.text


def test_a_run_for_a_finished_session_is_refused(http, ninja, at_action):
    engineer, sid, script_id, at = at_action
    event(http, engineer, sid, {"type": "abandoned", "reason": "Customer fixed it."})
    r = http.post(
        f"/api/v1/sessions/{sid}/script-runs",
        headers=engineer.headers,
        json={"node_id": "service", "script_id": script_id, "target": TARGET, "at_step": at},
    )
    assert r.status_code == 409 and r.json()["error"] == "stale_run", r.text
    assert "abandoned" in r.json()["reason"]


def test_a_request_sent_again_after_its_step_answers_its_run_not_a_refusal(http, ninja, at_action):
    """A device whose answer was lost sends the queued request again: the run it made stands."""
    engineer, sid, script_id, at = at_action
    request_id = ulid()
    first = ask(http, engineer, sid, script_id=script_id, target=TARGET, at_step=at, request_id=request_id)
    event(http, engineer, sid, {"type": "answered", "node_id": "service", "answer": "done"})
    again = ask(http, engineer, sid, script_id=script_id, target=TARGET, at_step=at, request_id=request_id)
    assert again["run_id"] == first["run_id"] == request_id
