"""One event contract: an invalid event is refused the same way on every path (issue 23, point 1).

Through the REST API it is a 400 `bad_request`; written over sync it is a 403 `forbidden`
whose reason is the same sentence, prefixed with the document's id (as CouchDB's
validate_doc_update words it, so PouchDB shows the document as denied and goes on). On the
couchdb backend, tests/couchdb/api_suite/test_couch_event_contract.py reruns this module and
also writes the events into CouchDB itself, where the design document's validate function
refuses them with that same answer.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from api.sessions.ids import ulid
from tests.conftest import Tenant
from tests.sessions.test_sessions_api import publish_tree, start

# Invalid events whose refusal reads the same in Python (api/sessions/events.py) and in the
# design document's JavaScript: a missing field, a wrong kind of value, a value outside its
# list, a field the type does not have, a type that does not exist.
INVALID_EVENTS: list[dict[str, Any]] = [
    {"type": "answered", "node_id": "scope"},
    {"type": "back", "ts": "yesterday"},
    {"type": "completed", "outcome": "great"},
    {"type": "note", "node_id": "scope", "note_id": "n1", "text": "x", "colour": "red"},
    {"type": "teleported"},
]


def event_doc(tenant: Tenant, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The event as a device writes it: every field the API would fill in, filled in."""
    return {
        "_id": f"session:{sid}:ev:{ulid()}",
        "schema_version": 1,
        "session_id": sid,
        "ts": int(time.time() * 1000),
        "device_id": "dev-contract",
        "user_id": tenant.me["user"]["id"],
        **body,
    }


def rest_reason(http: httpx.Client, tenant: Tenant, sid: str, body: dict[str, Any]) -> str:
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json=body)
    assert r.status_code == 400 and r.json()["error"] == "bad_request", r.text
    reason: str = r.json()["reason"]
    return reason


@pytest.fixture
def session_id(http: httpx.Client, tenant: Tenant) -> str:
    sid: str = start(http, tenant, publish_tree(http, tenant))["session_id"]
    return sid


@pytest.mark.parametrize("body", INVALID_EVENTS, ids=[b["type"] for b in INVALID_EVENTS])
def test_an_invalid_event_is_refused_alike_by_rest_and_sync(server, http, tenant, session_id, body):
    reason = rest_reason(http, tenant, session_id, body)
    doc = event_doc(tenant, session_id, body)
    r = http.put(f"{server.url}/sync/{tenant.id}/sessions/{doc['_id']}", headers=tenant.headers, json=doc)
    assert r.status_code == 403, r.text
    assert r.json() == {"error": "forbidden", "reason": f"{doc['_id']}: {reason}"}
