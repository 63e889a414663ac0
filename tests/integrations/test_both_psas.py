"""A team with both PSAs: each connector follows the sessions feed on its own, refreshes only
the tickets it made, and a long session reaches Autotask whole. Against both fakes."""

from __future__ import annotations

import time

from tests.conftest import wait_until
from tests.integrations.fake_autotask import DISCOVERY_ENV
from tests.integrations.helpers import configure, header, push, wait_pushed
from tests.integrations.test_connectwise_push import completed_session
from tests.sessions.test_sessions_api import event, publish_tree, start

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.2,0.2",
    "BRANCHLINE_PSA_REFRESH_SECONDS": "0.5",
    **DISCOVERY_ENV,
}


def test_with_auto_push_on_in_both_psas_a_completed_session_reaches_both(http, tenant, cw, at):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config(auto_push=True, time_entry=False))
    configure(http, tenant, at.config(auto_push=True, time_entry=False), system="autotask")
    sid = completed_session(http, tenant, tree_id)
    # A push makes the ticket first and adds the note in a second request: wait for both.
    wait_until(
        lambda: (
            (len(cw.tickets), len(at.tickets)) == (1, 1)
            and all(len(cw.notes.get(t, [])) for t in cw.tickets)
            and all(len(at.notes.get(t, [])) for t in at.tickets)
        ),
        timeout=30,
        message="a ticket with its note in each",
    )
    [cw_ticket], [at_ticket] = list(cw.tickets), list(at.tickets)
    assert sid in cw.tickets[cw_ticket]["summary"] and sid in at.tickets[at_ticket]["title"]
    assert len(cw.notes[cw_ticket]) == 1 and len(at.notes[at_ticket]) == 1
    # Turning auto-push on again in one PSA does not move the other's place in the feed.
    configure(http, tenant, at.config(auto_push=False, time_entry=False), system="autotask")
    configure(http, tenant, at.config(auto_push=True, time_entry=False), system="autotask")
    second = completed_session(http, tenant, tree_id)
    wait_until(lambda: (len(cw.tickets), len(at.tickets)) == (2, 2), timeout=30, message="the second in both")
    assert any(second in t["summary"] for t in cw.tickets.values())


def test_a_session_sent_to_autotask_after_connectwise_is_refreshed_from_autotask_alone(http, tenant, cw, at):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config(time_entry=False))
    configure(http, tenant, at.config(time_entry=False), system="autotask")
    sid = completed_session(http, tenant, tree_id)
    push(http, tenant, sid, create_ticket=True)
    wait_pushed(http, tenant, sid)
    push(http, tenant, sid, system="autotask", create_ticket=True)
    psa = wait_until(
        lambda: (p := header(http, tenant, sid).get("psa")) and p["system"] == "autotask" and p,
        timeout=30,
        message="the Autotask ticket in the header",
    )
    # ConnectWise happens to hold a ticket with the id Autotask gave: it must never be read for it.
    other = cw.add_ticket("Another customer's ticket")
    cw.tickets[psa["ticket_id"]] = {**cw.tickets[other], "id": psa["ticket_id"]}
    rev = header(http, tenant, sid)["_rev"]
    deadline = time.monotonic() + 3  # six refresh intervals
    while time.monotonic() < deadline:
        now = header(http, tenant, sid)
        assert now["psa"]["system"] == "autotask" and "Another customer" not in str(now["psa"].get("summary"))
        time.sleep(0.1)  # poll interval: this watches that nothing happens for a while
    assert header(http, tenant, sid)["_rev"] == rev  # nothing rewrote the header meanwhile


def test_a_session_longer_than_an_autotask_note_reaches_the_ticket_whole_once(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, at.config(time_entry=False), system="autotask")
    sid = start(http, tenant, tree_id, title="Long night")["session_id"]
    for n in range(4):  # four notes of 9,000 characters: over Autotask's 32,000 for one note
        text = f"Note {n}: " + ("checked the event log and the tunnel counters. " * 190)
        event(http, tenant, sid, {"type": "note", "node_id": "scope", "note_id": f"n{n}", "text": text})
    event(http, tenant, sid, {"type": "completed", "outcome": "resolved", "summary": "Rekeyed the tunnel."})
    push(http, tenant, sid, system="autotask", create_ticket=True)
    psa = wait_pushed(http, tenant, sid)
    notes = at.notes[psa["ticket_id"]]
    assert len(notes) == 2 and [n["title"][-5:] for n in notes] == ["(1/2)", "(2/2)"]
    assert all(len(n["description"]) <= 32_000 for n in notes)
    whole = "".join(n["description"] for n in notes)
    assert all(f"Note {n}:" in whole for n in range(4)) and "Rekeyed the tunnel." in whole
