"""Autotask PSA pushes end to end: a real server pushes to the fake Autotask
(tests/integrations/fake_autotask.py), sessions recorded by real PouchDB devices.

The fake listens on 127.0.0.1 and plays Autotask's zone discovery host too, so this
module's server allows private targets and discovers zones there; retries come within a
second so outages play out in seconds.
"""

from __future__ import annotations

import time

from api.sessions.ids import ulid
from tests.conftest import wait_until
from tests.integrations.fake_autotask import DISCOVERY_ENV
from tests.integrations.helpers import configure, export_text, integration, push, wait_pushed
from tests.integrations.test_connectwise_push import completed_session
from tests.sessions.test_session_access_sync import run_node, sessions_url, who
from tests.sessions.test_sessions_api import event, publish_tree

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2,0.2,0.2",
    **DISCOVERY_ENV,
}


def setup(http, tenant, at, **extra) -> None:
    configure(http, tenant, at.config(**extra), system="autotask")


def autotask(http, tenant) -> dict:
    return integration(http, tenant, "autotask")


def send(http, tenant, sid, **body) -> dict:
    return push(http, tenant, sid, system="autotask", **body)


def test_a_session_completed_on_an_offline_device_reaches_autotask_once_as_ticket_note_and_time_entry(
    http, server, tenant, at
):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, auto_push=True)
    engineer = tenant.add_user("engineer")
    at.resources.append({"id": 4242, "email": engineer.email, "isActive": True})
    at.roles.append({"id": 2, "resourceID": 4242, "roleID": 777, "isDefault": True, "isActive": True})
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

    assert out["push"] == {"ok": True, "written": 4, "failures": 0}
    [(ticket_id, ticket)] = at.tickets.items()
    assert ticket["title"].startswith("VDA CTX-07 unregistered") and ticket["title"].endswith(
        f"[Branchline {sid}]"
    )
    assert ticket["companyID"] == 174 and ticket["queueID"] == 8
    assert ticket["status"] == 1 and ticket["priority"] == 2 and ticket["dueDateTime"].endswith("Z")
    # The note is the text export, byte for byte, internal only.
    [note] = at.notes[ticket_id]
    assert note["description"] == export_text(http, engineer, sid)
    assert note["publish"] == 2 and note["noteType"] == 1 and note["title"]
    # The time entry is the engineer's, by e-mail, in the resource's default role.
    [entry] = at.entries
    assert entry["ticketID"] == ticket_id and entry["resourceID"] == 4242 and entry["roleID"] == 777
    assert entry["startDateTime"] < entry["endDateTime"] and 0 < entry["hoursWorked"] <= 24
    assert f"[Branchline {sid}]" in entry["summaryNotes"]
    # Every call carried the API user's headers.
    zone_calls = [r for r in at.requests if r.zone is not None]
    assert {
        (r.headers["apiintegrationcode"], r.headers["username"], r.headers["secret"]) for r in zone_calls
    } == {(at.integration_code, at.api_user, at.secret)}
    # The header carries the ticket, its title and its status label, on the server and the device.
    psa = out["server_psa"]
    assert psa["system"] == "autotask" and psa["ticket_id"] == ticket_id
    page = "Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail"
    assert psa["ticket_url"] == f"{at.web_url()}{page}&TicketID={ticket_id}"
    assert psa["status"] == "New" and psa["summary"] == ticket["title"]
    assert out["device_psa"] == psa
    status = autotask(http, tenant)
    assert status["last_success"]["ticket_id"] == ticket_id and status["queued"] == []
    assert status["zone"]["url"] == at.zone_url()
    event(http, engineer, sid, {"type": "note", "node_id": "scope", "note_id": "n9", "text": "After."})
    assert autotask(http, tenant)["queued"] == []
    assert len(at.calls("POST", "Tickets")) == 1


def test_the_zone_is_discovered_once_per_tenant_and_again_when_autotask_moves_the_database(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, time_entry=False)
    first = completed_session(http, tenant, tree_id)
    send(http, tenant, first, create_ticket=True)
    wait_pushed(http, tenant, first)
    second = completed_session(http, tenant, tree_id)
    send(http, tenant, second, create_ticket=True)
    wait_pushed(http, tenant, second)

    assert len(at.discoveries()) == 1  # the zone is kept, not asked for at every push
    assert at.discoveries()[0].query == {"user": at.api_user}
    assert "secret" not in at.discoveries()[0].headers  # discovery is asked without credentials

    at.move_to(12)
    third = completed_session(http, tenant, tree_id)
    send(http, tenant, third, create_ticket=True)
    psa = wait_pushed(http, tenant, third)

    assert len(at.discoveries()) == 2
    refused = [r for r in at.requests if r.zone == 5 and r.status == 401]
    assert len(refused) == 1  # one refusal in the old zone, then everything in the new one
    assert psa["ticket_url"].startswith(at.web_url(12))
    assert autotask(http, tenant)["zone"]["url"] == at.zone_url(12)
    assert len(at.tickets) == 3 and all(len(n) == 1 for n in at.notes.values())


def test_an_autotask_outage_loses_nothing_and_posts_nothing_twice(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at)
    sid = completed_session(http, tenant, tree_id)
    at.fail(4, 503)

    send(http, tenant, sid, create_ticket=True)
    psa = wait_pushed(http, tenant, sid)

    assert len(at.tickets) == 1 and psa["ticket_id"] in at.tickets
    assert len(at.notes[psa["ticket_id"]]) == 1 and len(at.entries) == 1
    zone_calls = [r for r in at.requests if r.zone is not None]
    assert [r.status for r in zone_calls[:4]] == [503, 503, 503, 503]
    status = autotask(http, tenant)
    assert "Autotask is unavailable" in status["last_error"]["reason"]
    assert status["last_success"]["session_id"] == sid


def test_a_ticket_made_by_an_attempt_that_was_not_recorded_is_found_by_its_marker_not_made_again(
    http, tenant, at
):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at)
    at.add_ticket("Unrelated printer ticket")
    sid = completed_session(http, tenant, tree_id)
    made = at.add_ticket(f"Printer queue stuck [Branchline {sid}]", status=1)

    send(http, tenant, sid, create_ticket=True)
    psa = wait_pushed(http, tenant, sid)

    assert psa["ticket_id"] == made and len(at.tickets) == 2 and at.calls("POST", "Tickets") == []
    assert len(at.notes[made]) == 1


def test_a_note_and_time_entry_posted_by_an_unrecorded_attempt_are_not_posted_again(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at)
    existing = at.add_ticket("Mail flow stopped")
    sid = completed_session(http, tenant, tree_id, ticket=at.tickets[existing]["ticketNumber"])
    # As if an earlier attempt posted both and the server died before recording them; the
    # note is on the second page of the ticket's notes.
    at.page_size = 1
    at.notes[existing].append({"id": 1, "ticketID": existing, "description": "Called the customer."})
    at.notes[existing].append({"id": 3, "ticketID": existing, "description": export_text(http, tenant, sid)})
    at.entries.append(
        {"id": 2, "ticketID": existing, "summaryNotes": f"Printer queue stuck [Branchline {sid}]"}
    )

    send(http, tenant, sid)
    wait_pushed(http, tenant, sid)

    assert len(at.notes[existing]) == 2 and len(at.entries) == 1
    assert at.calls("POST", f"Tickets/{existing}/Notes") == [] and at.calls("POST", "TimeEntries") == []
    assert at.calls("GET", "TicketNotes/query/next")  # the second page was read


def test_a_429_is_retried_no_sooner_than_its_retry_after(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at)
    sid = completed_session(http, tenant, tree_id)
    at.fail(1, 429, retry_after=2)

    send(http, tenant, sid, create_ticket=True)
    wait_pushed(http, tenant, sid)

    zone_calls = [r for r in at.requests if r.zone is not None]
    throttled, after = zone_calls[0], zone_calls[1]
    assert throttled.status == 429
    assert after.at - throttled.at >= 2.0  # the schedule alone would retry after 0.2 s
    assert len(at.tickets) == 1
    assert "Autotask is throttling the API" in autotask(http, tenant)["last_error"]["reason"]


def test_a_refused_secret_fails_the_push_with_a_clear_last_error_and_an_admin_retry_sends_it(
    http, tenant, at
):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, secret="wrong-secret")
    sid = completed_session(http, tenant, tree_id)

    send(http, tenant, sid, create_ticket=True)
    failed = wait_until(lambda: autotask(http, tenant)["failed"], message="the failed push")

    reason = autotask(http, tenant)["last_error"]["reason"]
    assert reason.startswith("Autotask refused the API user")
    assert "secret and integration code" in reason
    assert failed[0]["session_id"] == sid and failed[0]["last_error"] == reason
    assert at.tickets == {}
    assert not [r for r in at.requests if r.zone is not None and r.status != 401]  # not retried on its own

    setup(http, tenant, at)  # the admin fixes the secret
    r = http.post(f"/api/v1/integrations/autotask/pushes/{sid}/retry", headers=tenant.headers)
    assert r.status_code == 202, r.text
    psa = wait_pushed(http, tenant, sid)
    assert list(at.tickets) == [psa["ticket_id"]]


def test_a_session_attaches_to_an_existing_ticket_and_shows_its_title_and_status_with_a_public_note(
    http, tenant, at
):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, time_entry=False, note_publish="all", note_format="markdown", note_type_id=3)
    existing = at.add_ticket("Printer down on floor 3", status=8)
    sid = completed_session(http, tenant, tree_id)

    send(http, tenant, sid, ticket_id=existing)
    psa = wait_pushed(http, tenant, sid)

    assert list(at.tickets) == [existing]
    assert psa == {
        **psa,
        "ticket_id": existing,
        "summary": "Printer down on floor 3",
        "status": "In Progress",
    }
    [note] = at.notes[existing]
    assert note["description"] == export_text(http, tenant, sid, "markdown")
    assert note["publish"] == 1 and note["noteType"] == 3
    assert at.entries == []


def test_a_ticket_autotask_refuses_names_the_reason_and_is_not_retried(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, queue_id=999)
    sid = completed_session(http, tenant, tree_id)

    send(http, tenant, sid, create_ticket={"company": "29683"})
    wait_until(lambda: autotask(http, tenant)["failed"], message="the failed push")

    reason = autotask(http, tenant)["last_error"]["reason"]
    assert reason == "Autotask rejected POST Tickets: queueID 999 does not exist."
    [created] = at.calls("POST", "Tickets")
    assert created.body["companyID"] == 29683 and created.status == 500


def test_a_time_entry_without_a_resource_for_the_engineer_says_how_to_fix_it(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, resource_id=None)
    sid = completed_session(http, tenant, tree_id)

    send(http, tenant, sid, create_ticket=True)
    wait_until(lambda: autotask(http, tenant)["failed"], message="the failed push")

    reason = autotask(http, tenant)["last_error"]["reason"]
    assert f"No active Autotask resource has the e-mail {tenant.owner_email}" in reason
    assert "set a default resource id in Integrations" in reason
    # The ticket and note are recorded: an admin's fix and retry adds only the time entry.
    setup(http, tenant, at, resource_id=29682885)
    assert (
        http.post(f"/api/v1/integrations/autotask/pushes/{sid}/retry", headers=tenant.headers).status_code
        == 202
    )
    psa = wait_pushed(http, tenant, sid)
    assert len(at.tickets) == 1 and len(at.notes[psa["ticket_id"]]) == 1
    [entry] = at.entries
    assert entry["resourceID"] == 29682885 and entry["roleID"] == 29683461


def test_a_session_started_from_an_autotask_ticket_number_attaches_to_that_ticket(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, time_entry=False)
    at.add_ticket("Another customer's ticket")
    existing = at.add_ticket("VPN to the branch office is down")
    number = at.tickets[existing]["ticketNumber"]  # what an insight's link carries: T20261203.nnnn
    sid = completed_session(http, tenant, tree_id, ticket=number)

    send(http, tenant, sid)
    psa = wait_pushed(http, tenant, sid)

    assert psa["ticket_id"] == existing and psa["summary"] == "VPN to the branch office is down"
    assert at.calls("POST", "Tickets") == [] and len(at.notes[existing]) == 1
    [lookup] = [
        r for r in at.calls("POST", "Tickets/query") if r.body["filter"][0]["field"] == "ticketNumber"
    ]
    assert lookup.body["filter"] == [{"op": "eq", "field": "ticketNumber", "value": number}]


def test_a_push_to_a_ticket_number_attaches_there_and_an_unknown_number_fails_with_the_way_out(
    http, tenant, at
):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, time_entry=False)
    existing = at.add_ticket("Backups failing")
    number = at.tickets[existing]["ticketNumber"]
    sid = completed_session(http, tenant, tree_id)

    send(http, tenant, sid, ticket_number=number)
    assert wait_pushed(http, tenant, sid)["ticket_id"] == existing

    other = completed_session(http, tenant, tree_id)
    send(http, tenant, other, ticket_number="T20990101.0001")
    wait_until(lambda: autotask(http, tenant)["failed"], message="the failed push")
    reason = autotask(http, tenant)["last_error"]["reason"]
    assert (
        reason
        == "Autotask has no ticket numbered 'T20990101.0001': check the number, or send it to a new ticket."
    )
    assert at.calls("POST", "Tickets") == []
