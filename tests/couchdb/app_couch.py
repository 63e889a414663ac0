"""The sync tests' app (tests/sync/app_for_tests.py) over the CouchDB backend.

Same fixed principals, same policies, same router; only the store differs: a `CouchStore`
on `BRANCHLINE_TEST_COUCHDB_URL` (pouchdb-server in the tests). Run with
`uvicorn --app-dir tests/couchdb app_couch:app`; `BRANCHLINE_TEST_DATA_DIR` names the
instance (its welcome uuid), `BRANCHLINE_TEST_POLICY=doc` selects the per-document policy.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))

from app_for_tests import DocPolicy, authenticate

from sync.access import RolePolicy
from sync.couchdb import CouchStore
from sync.errors import BranchlineError
from sync.http import SyncDispatch, build_sync_door


class CountingCouchStore(CouchStore):
    """CouchStore counting the documents `_bulk_docs` receives (the resume test asks)."""

    received = 0
    _count_lock = threading.Lock()

    def _opened(self, name: str):  # type: ignore[override]
        database = super()._opened(name)
        if not getattr(database, "_counted", False):
            original = database.bulk_docs

            def bulk_docs(docs, *, new_edits=True, _original=original):
                result = _original(docs, new_edits=new_edits)
                with CountingCouchStore._count_lock:
                    CountingCouchStore.received += len(docs)
                return result

            database.bulk_docs = bulk_docs  # type: ignore[method-assign]
            database._counted = True
        return database


def create_app() -> SyncDispatch:
    data_dir = os.environ["BRANCHLINE_TEST_DATA_DIR"]
    store = CountingCouchStore(
        os.environ["BRANCHLINE_TEST_COUCHDB_URL"],
        os.environ.get("BRANCHLINE_TEST_COUCHDB_USER"),
        os.environ.get("BRANCHLINE_TEST_COUCHDB_PASSWORD"),
    )
    policy = DocPolicy(store) if os.environ.get("BRANCHLINE_TEST_POLICY") == "doc" else RolePolicy()
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, os.path.abspath(data_dir))
    app = FastAPI(title="Branchline sync over CouchDB (tests)")

    @app.exception_handler(BranchlineError)
    async def branchline_error(request: Request, exc: BranchlineError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    door = build_sync_door(
        get_store=lambda: store,
        authenticate=authenticate,
        policy=policy,
        welcome_uuid=lambda tenant: uuid.uuid5(namespace, tenant).hex,
    )

    @app.get("/_test/stats")
    def stats() -> dict[str, int]:
        return {
            "bulk_docs_received": CountingCouchStore.received,
            "waiting_feeds": door.api.notifier.waiting(),
        }

    return SyncDispatch(door, app)


app = create_app() if "BRANCHLINE_TEST_COUCHDB_URL" in os.environ else None
