"""Unsharing sticks (issue 15, finding 3).

The attack: a teammate a session is shared with writes the header over sync with a
far-future `edited.shared_with`, so the owner's later unshare loses the field-by-field merge
and the teammate keeps reading. Only the owner (or an admin) may touch sharing and ownership
or their edit times, and no edit time may run far ahead of the server's clock.
Raw CouchDB requests, as any client could send them; the same module runs on the couchdb
backend (tests/couchdb/api_suite).
"""

from __future__ import annotations

import time

from tests.sessions.test_sessions_api import publish_tree, start

TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000


def _header_url(tenant, sid: str) -> str:
    return f"/sync/{tenant.id}/sessions/session:{sid}"


def _get_header(http, who, tenant, sid: str):
    return http.get(_header_url(tenant, sid), headers=who.headers)


def _put_header(http, who, tenant, doc: dict):
    return http.put(_header_url(tenant, doc["_id"].split(":", 1)[1]), headers=who.headers, json=doc)


def _shared_session(http, tenant):
    tree_id = publish_tree(http, tenant)
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    sid = start(http, alice, tree_id, shared_with=[bob.id])["session_id"]
    return alice, bob, sid


def test_a_teammate_cannot_pin_the_sharing_with_a_future_edit_time(http, tenant):
    alice, bob, sid = _shared_session(http, tenant)
    doc = _get_header(http, bob, tenant, sid).json()
    doc["edited"]["shared_with"] = int(time.time() * 1000) + TEN_YEARS_MS
    r = _put_header(http, bob, tenant, doc)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "forbidden" and "shared_with" in r.json()["reason"]

    # The owner unshares; Bob can no longer read the session.
    head = http.get(f"/api/v1/sessions/{sid}", headers=alice.headers).json()["header"]
    r = http.patch(
        f"/api/v1/sessions/{sid}", headers=alice.headers, json={"_rev": head["_rev"], "shared_with": []}
    )
    assert r.status_code == 200, r.text
    assert _get_header(http, bob, tenant, sid).status_code in (403, 404)


def test_a_teammate_cannot_touch_the_edit_time_of_ownership_either(http, tenant):
    _alice, bob, sid = _shared_session(http, tenant)
    doc = _get_header(http, bob, tenant, sid).json()
    doc["edited"]["owner_id"] = int(time.time() * 1000)
    r = _put_header(http, bob, tenant, doc)
    assert r.status_code == 403, r.text


def test_no_edit_time_may_run_far_ahead_of_the_servers_clock(http, tenant):
    alice, bob, sid = _shared_session(http, tenant)
    for who in (bob, alice):  # the owner's device too: a wrong clock would win every merge
        doc = _get_header(http, who, tenant, sid).json()
        doc["title"] = "pinned forever"
        doc["edited"]["title"] = int(time.time() * 1000) + TEN_YEARS_MS
        r = _put_header(http, who, tenant, doc)
        assert r.status_code == 403, r.text
        assert "ahead of the server's clock" in r.json()["reason"]
    assert _get_header(http, alice, tenant, sid).json()["title"] != "pinned forever"


def test_a_teammates_ordinary_edit_with_a_few_seconds_of_drift_is_kept(http, tenant):
    alice, bob, sid = _shared_session(http, tenant)
    doc = _get_header(http, bob, tenant, sid).json()
    doc["title"] = "VDA 07: DNS fixed"
    doc["edited"]["title"] = int(time.time() * 1000) + 30_000  # a phone 30 s fast
    r = _put_header(http, bob, tenant, doc)
    assert r.status_code == 201, r.text
    assert _get_header(http, alice, tenant, sid).json()["title"] == "VDA 07: DNS fixed"
