"""Who may run which script: engineers run low-risk ones; a medium or high-risk run an
engineer asks for waits for an author, admin or owner other than the requester; every
request, approval, refusal and result is in the audit log."""

from __future__ import annotations

from tests.rmm.helpers import (
    ask,
    audit_actions,
    configure,
    publish_script,
    rmm_status,
    run_of,
    session_at_action,
    session_events,
    wait_done,
)
from tests.rmm.test_script_runs import SERVER_ENV as SERVER_ENV  # the same quick polls
from tests.sessions.test_sessions_api import publish_tree

FIX = "Restart-Service BrokerAgent -Force"


def approve(http, who, sid: str, run_id: str, status: int = 202) -> dict:
    r = http.post(f"/api/v1/sessions/{sid}/script-runs/{run_id}/approve", headers=who.headers)
    assert r.status_code == status, r.text
    return r.json()


def test_an_engineers_high_risk_run_waits_for_a_second_trusted_person(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(http, tenant, "restart-broker", FIX, risk="high")
    engineer = tenant.add_user("engineer")
    colleague = tenant.add_user("engineer")
    author = tenant.add_user("author")
    sid = session_at_action(http, tenant, engineer)
    rev = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()["header"]["_rev"]
    r = http.patch(
        f"/api/v1/sessions/{sid}",
        headers=engineer.headers,
        json={"_rev": rev, "shared_with": [colleague.id, author.id]},
    )
    assert r.status_code == 200, r.text

    run = ask(http, engineer, sid, script_id=script_id, target={"device_id": "1007"})
    assert run["status"] == "awaiting_approval" and run["risk"] == "high"
    assert run["approval"] == {"required": True, "approved_by": None, "approved_at": None}

    # Not the requester, not another engineer: nothing is sent meanwhile.
    assert "second person" in approve(http, engineer, sid, run["run_id"], 403)["reason"]
    assert "author, admin or owner" in approve(http, colleague, sid, run["run_id"], 403)["reason"]
    assert (
        ninja.scripts_run == []
        and run_of(http, engineer, sid, run["run_id"])["status"] == "awaiting_approval"
    )
    # The dashboard lists it among the open runs, waiting.
    [waiting] = rmm_status(http, tenant, "ninjaone")["open_runs"]
    assert waiting["run_id"] == run["run_id"] and waiting["status"] == "awaiting_approval"

    approved = approve(http, author, sid, run["run_id"])
    assert approved["status"] == "pending" and approved["approval"]["approved_by"] == author.id
    done = wait_done(http, engineer, sid, run["run_id"])
    assert done["result"] == "succeeded" and len(ninja.scripts_run) == 1
    assert approve(http, tenant, sid, run["run_id"], 409)["error"] == "conflict"  # approved once

    actions = [(a["action"], a["actor"].get("id")) for a in reversed(audit_actions(http, tenant))]
    assert actions == [
        ("rmm.configured", tenant.me["user"]["id"]),
        ("rmm.run_requested", engineer.id),
        ("rmm.run_approval_refused", engineer.id),
        ("rmm.run_approval_refused", colleague.id),
        ("rmm.run_approved", author.id),
        ("rmm.run_finished", "branchline"),  # the server itself
        ("rmm.run_approval_refused", tenant.me["user"]["id"]),
    ]
    [ev] = [e for e in session_events(http, tenant, sid) if e["type"] == "script_run"]
    assert ev["user_id"] == engineer.id


def test_medium_risk_needs_approval_too_and_low_risk_does_not(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    medium = publish_script(http, tenant, "clear-cache", "Remove-Item $env:TEMP\\* -Recurse", risk="medium")
    low = publish_script(http, tenant, "read-only", "Get-Service", risk="low")
    engineer = tenant.add_user("engineer")
    sid = session_at_action(http, tenant, engineer)

    assert (
        ask(http, engineer, sid, script_id=medium, target={"device_id": "1001"})["status"]
        == "awaiting_approval"
    )
    assert ask(http, engineer, sid, script_id=low, target={"device_id": "1001"})["status"] == "pending"


def test_authors_and_admins_run_high_risk_scripts_without_approval(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(http, tenant, "restart-broker", FIX, risk="high")
    tree_id = publish_tree(http, tenant)
    for role in ("author", "admin"):
        who = tenant.add_user(role)
        sid = session_at_action(http, tenant, who, tree_id)
        run = ask(http, who, sid, script_id=script_id, target={"device_id": "1002"})
        assert run["status"] == "pending" and run["approval"]["required"] is False
        assert wait_done(http, who, sid, run["run_id"])["result"] == "succeeded"


def test_viewers_and_strangers_to_the_session_cannot_run_scripts(http, tenant, ninja):
    configure(http, tenant, "ninjaone", ninja.config())
    script_id = publish_script(http, tenant, "read-only", "Get-Service")
    owner_of_session = tenant.add_user("engineer")
    other = tenant.add_user("engineer")
    viewer = tenant.add_user("viewer")
    sid = session_at_action(http, tenant, owner_of_session)
    body = {"script_id": script_id, "target": {"device_id": "1001"}}

    assert ask(http, viewer, sid, 403, **body)["error"] == "forbidden"
    assert "not shared with you" in ask(http, other, sid, 403, **body)["reason"]
    assert ninja.scripts_run == []
