"""ConnectWise PSA pushes end to end: a real server pushes to the fake ConnectWise
(tests/integrations/fake_connectwise.py), sessions recorded by real PouchDB devices.

The fake listens on 127.0.0.1, so this module's server allows private targets, as the
webhook tests do; retries come within a second so outages play out in seconds.
"""

from __future__ import annotations

import time

from api.sessions.ids import ulid
from tests.conftest import wait_until
from tests.integrations.helpers import configure, connectwise, export_text, header, push, wait_pushed
from tests.sessions.test_session_access_sync import run_node, sessions_url, who
from tests.sessions.test_sessions_api import event, publish_tree, start

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2,0.2,0.2",
}


def completed_session(http, owner, tree_id, **body) -> str:
    sid = start(http, owner, tree_id, title="Printer queue stuck", **body)["session_id"]
    event(http, owner, sid, {"type": "note", "node_id": "scope", "note_id": "n1", "text": "Spooler hung."})
    event(http, owner, sid, {"type": "completed", "outcome": "resolved", "summary": "Restarted the spooler."})
    return sid


def test_a_session_completed_on_an_offline_device_reaches_connectwise_once_as_ticket_note_and_time_entry(
    http, server, tenant, cw
):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config(auto_push=True))
    engineer = tenant.add_user("engineer")
    sid = ulid()

    out = run_node(
        "offline_session_psa.js",
        {
            "url": sessions_url(server, tenant),
            "user": who(engineer),
            "sid": sid,
            "tree_id": tree_id,
            "now": int(time.time() * 1000) - 45 * 60 * 1000,
        },
    )

    # The header (its two local revisions travel as one) and three events.
    assert out["push"] == {"ok": True, "written": 4, "failures": 0}
    assert len(cw.tickets) == 1
    ticket_id, ticket = next(iter(cw.tickets.items()))
    assert ticket["summary"].startswith("VDA CTX-07 unregistered")
    assert ticket["company"] == {"identifier": "Contoso"} and ticket["board"] == {"name": "Service Desk"}
    # The note is the text export, byte for byte, as an internal note.
    [note] = cw.notes[ticket_id]
    assert note["text"] == export_text(http, engineer, sid)
    assert note["internalAnalysisFlag"] is True and note["detailDescriptionFlag"] is False
    [entry] = cw.entries
    assert entry["chargeToId"] == ticket_id and entry["chargeToType"] == "ServiceTicket"
    assert entry["timeStart"] < entry["timeEnd"]
    # The header carries the ticket on the server and, after the next sync, on the device.
    psa = out["server_psa"]
    assert psa["system"] == "connectwise" and psa["ticket_id"] == ticket_id
    assert psa["ticket_url"].startswith(cw.site_url) and psa["ticket_url"].endswith(
        f"service_recid={ticket_id}"
    )
    assert psa["status"] == "New" and psa["summary"] == ticket["summary"]
    assert out["device_psa"] == psa
    status = connectwise(http, tenant)
    assert status["last_success"]["ticket_id"] == ticket_id and status["queued"] == []
    # Later edits of the session bring no second push.
    event(http, engineer, sid, {"type": "note", "node_id": "scope", "note_id": "n9", "text": "After."})
    assert connectwise(http, tenant)["queued"] == []
    assert len(cw.calls("POST", "service/tickets")) == 1


def test_a_connectwise_outage_loses_nothing_and_posts_nothing_twice(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config())
    sid = completed_session(http, tenant, tree_id)
    cw.fail(4, 503)

    queued = push(http, tenant, sid, create_ticket=True)
    assert queued["status"] in ("pending", "sending")
    psa = wait_pushed(http, tenant, sid)

    assert len(cw.tickets) == 1 and psa["ticket_id"] in cw.tickets
    assert len(cw.notes[psa["ticket_id"]]) == 1 and len(cw.entries) == 1
    assert [r.status for r in cw.requests[:4]] == [503, 503, 503, 503]
    status = connectwise(http, tenant)
    assert "ConnectWise is unavailable" in status["last_error"]["reason"]
    assert status["last_success"]["session_id"] == sid


def test_a_ticket_made_by_an_attempt_that_was_not_recorded_is_found_by_its_marker_not_made_again(
    http, tenant, cw
):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config())
    sid = completed_session(http, tenant, tree_id)
    # As if an earlier attempt created the ticket and the server died before recording it.
    made = cw.add_ticket(f"Printer queue stuck [Branchline {sid}]", status="New")

    push(http, tenant, sid, create_ticket=True)
    psa = wait_pushed(http, tenant, sid)

    assert psa["ticket_id"] == made and list(cw.tickets) == [made]
    assert len(cw.notes[made]) == 1


def test_a_429_is_retried_no_sooner_than_its_retry_after(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config())
    sid = completed_session(http, tenant, tree_id)
    cw.fail(1, 429, retry_after=2)

    push(http, tenant, sid, create_ticket=True)
    wait_pushed(http, tenant, sid)

    throttled, after = cw.requests[0], cw.requests[1]
    assert throttled.status == 429
    assert after.at - throttled.at >= 2.0  # the schedule alone would retry after 0.2 s
    assert len(cw.tickets) == 1


def test_a_session_attaches_to_an_existing_ticket_number_and_shows_its_summary_and_status(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config(time_entry=False))
    existing = cw.add_ticket("Printer down on floor 3", status="In Progress")
    sid = completed_session(http, tenant, tree_id)

    push(http, tenant, sid, ticket_id=existing)
    psa = wait_pushed(http, tenant, sid)

    assert list(cw.tickets) == [existing]  # no ticket created
    assert psa == {
        **psa,
        "ticket_id": existing,
        "summary": "Printer down on floor 3",
        "status": "In Progress",
    }
    assert cw.notes[existing][0]["text"] == export_text(http, tenant, sid)
    assert cw.entries == []  # time entries off in this configuration


def test_the_sessions_own_ticket_number_is_used_and_a_markdown_discussion_note_follows_the_settings(
    http, tenant, cw
):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config(note_format="markdown", note_type="discussion"))
    existing = cw.add_ticket("Mail flow stopped")
    sid = completed_session(http, tenant, tree_id, ticket=f"#{existing}")

    push(http, tenant, sid)
    wait_pushed(http, tenant, sid)

    [note] = cw.notes[existing]
    assert note["text"] == export_text(http, tenant, sid, "markdown")
    assert note["detailDescriptionFlag"] is True and note["internalAnalysisFlag"] is False


def test_refused_keys_fail_the_push_with_a_clear_reason_and_an_admin_retry_sends_it(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config(private_key="wrong-key"))
    sid = completed_session(http, tenant, tree_id)

    push(http, tenant, sid, create_ticket=True)
    failed = wait_until(lambda: connectwise(http, tenant)["failed"], message="the failed push")

    reason = connectwise(http, tenant)["last_error"]["reason"]
    assert reason.startswith("ConnectWise refused the keys: Authentication failed")
    assert failed[0]["session_id"] == sid and failed[0]["last_error"] == reason
    assert len(cw.requests) == 1  # refused keys are not retried on their own
    assert cw.tickets == {}

    configure(http, tenant, cw.config())  # the admin fixes the key
    r = http.post(f"/api/v1/integrations/connectwise/pushes/{sid}/retry", headers=tenant.headers)
    assert r.status_code == 202, r.text
    psa = wait_pushed(http, tenant, sid)
    assert list(cw.tickets) == [psa["ticket_id"]]


def test_a_new_ticket_the_fake_refuses_names_the_field(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config(board="No Such Board"))
    sid = completed_session(http, tenant, tree_id)

    push(http, tenant, sid, create_ticket={"company": "Fabrikam"})
    wait_until(lambda: connectwise(http, tenant)["failed"], message="the failed push")

    reason = connectwise(http, tenant)["last_error"]["reason"]
    assert "ConnectWise rejected POST service/tickets" in reason and "board: Board 'No Such Board'" in reason
    assert cw.calls("POST", "service/tickets")[0].body["company"] == {"identifier": "Fabrikam"}


def test_a_pushed_session_is_not_pushed_again(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config())
    sid = completed_session(http, tenant, tree_id)
    push(http, tenant, sid, create_ticket=True)
    ticket = wait_pushed(http, tenant, sid)["ticket_id"]
    wait_until(lambda: not connectwise(http, tenant)["queued"], message="an empty queue")

    again = http.post(f"/api/v1/sessions/{sid}/psa", headers=tenant.headers, json={"system": "connectwise"})

    assert again.status_code == 409
    assert again.json() == {"error": "conflict", "reason": again.json()["reason"]}
    assert f"ticket #{ticket} already" in again.json()["reason"]
    assert len(cw.tickets) == 1 and len(cw.notes[ticket]) == 1


def test_header_psa_is_the_servers_to_write(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    sid = completed_session(http, tenant, tree_id)
    current = header(http, tenant, sid)
    forged = {k: v for k, v in current.items() if k not in ("id", "session_id")}
    forged["psa"] = {"system": "connectwise", "ticket_id": 1, "ticket_url": "https://evil.example/"}

    r = http.post(f"/sync/{tenant.id}/sessions/_bulk_docs", headers=tenant.headers, json={"docs": [forged]})

    assert r.status_code == 201 and r.json()[0]["error"] == "forbidden", r.text
    assert "written by the server only" in r.json()[0]["reason"]
    assert header(http, tenant, sid).get("psa") is None


def test_a_session_in_progress_is_not_pushed(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config())
    sid = start(http, tenant, tree_id)["session_id"]

    r = http.post(f"/api/v1/sessions/{sid}/psa", headers=tenant.headers, json={"system": "connectwise"})

    assert r.status_code == 409 and "still in progress: finish it first" in r.json()["reason"]
    assert connectwise(http, tenant)["queued"] == [] and cw.requests == []
