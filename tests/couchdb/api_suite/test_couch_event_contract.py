"""tests/sessions/test_event_contract.py on the couchdb backend, and CouchDB itself.

Branchline refuses an invalid event before CouchDB sees it; the design document's
validate_doc_update (design_docs/couchdb/branchline-validate) is the defence behind it, for
a script or a restore that writes to CouchDB directly. Here the event goes straight into
the tenant's sessions database in pouchdb-server with that validator installed, and the
answer is CouchDB's 403 `forbidden` with the very reason the API gives.
"""

from __future__ import annotations

import httpx
import pytest

from sync.couchdb_ddocs import validate_ddoc
from sync.naming import physical_name
from tests.sessions.test_event_contract import *  # noqa: F403
from tests.sessions.test_event_contract import INVALID_EVENTS, event_doc, rest_reason


@pytest.fixture
def validated_sessions_db(couchdb, tenant):
    """The tenant's sessions database in CouchDB, with Branchline's validator installed (on
    pouchdb-server Branchline leaves it out: there it would drop replicated writes)."""
    url = f"{couchdb.url}/{physical_name(tenant.id, 'sessions')}"
    r = httpx.put(f"{url}/_design/branchline-validate", auth=couchdb.auth, json=validate_ddoc(), timeout=30)
    assert r.status_code == 201, r.text
    yield url
    rev = httpx.get(f"{url}/_design/branchline-validate", auth=couchdb.auth, timeout=30).json()["_rev"]
    httpx.delete(f"{url}/_design/branchline-validate", params={"rev": rev}, auth=couchdb.auth, timeout=30)


@pytest.mark.parametrize("body", INVALID_EVENTS, ids=[b["type"] for b in INVALID_EVENTS])
def test_couchdb_refuses_an_invalid_event_as_the_api_does(
    couchdb, http, tenant, session_id, validated_sessions_db, body
):
    reason = rest_reason(http, tenant, session_id, body)
    doc = event_doc(tenant, session_id, body)
    r = httpx.put(f"{validated_sessions_db}/{doc['_id']}", auth=couchdb.auth, json=doc, timeout=30)
    assert r.status_code == 403, r.text
    assert r.json() == {"error": "forbidden", "reason": f"{doc['_id']}: {reason}"}
    assert (
        httpx.get(f"{validated_sessions_db}/{doc['_id']}", auth=couchdb.auth, timeout=30).status_code == 404
    )
