"""`userCtx` in `validate_doc_update` names the caller, on the embedded backend.

Not in the CouchDB-backend suite: there CouchDB runs the same function again when
Branchline writes, with Branchline's service account as `userCtx`, so a function that
compares `userCtx.name` with the document refuses the write (a limitation of that backend).
"""

from __future__ import annotations

from test_couch_js_validate import VALIDATE


def test_usercontext_names_the_caller(client, db):
    assert client.put(f"{db}/_design/rules", json={"validate_doc_update": VALIDATE}).status_code == 201
    assert client.put(f"{db}/b", json={"title": "t", "owner": "admin-a@example.com"}).status_code == 201
    r = client.put(f"{db}/c", json={"title": "t", "owner": "admin-b@example.com"})
    assert r.status_code == 401
