"""A small app serving only the sync router, for the sync tests and the benchmark.

Run: `uvicorn --app-dir tests/sync app_for_tests:app` with `BRANCHLINE_TEST_DATA_DIR` set.
`BRANCHLINE_TEST_POLICY=doc` swaps RolePolicy for `DocPolicy`, a per-document policy in the
shape the API's sessions feature will have (private documents, shares, refused writes).

Fixed test principals (HTTP Basic `user:password`, or Bearer `token-<user>`):

- `admin-a` (tenant `tenanta1`, admin), `viewer-a` (tenanta1, viewer),
  `engineer-a` (tenanta1, engineer), `admin-b` (tenant `tenantb2`, admin).
"""

from __future__ import annotations

import base64
import os
import threading
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sync.access import Principal, RolePolicy
from sync.embedded import EmbeddedStore
from sync.errors import BranchlineError, Unauthorized
from sync.http import SyncDispatch, SyncDoor, build_sync_door
from sync.naming import physical_name

PASSWORD = "s3cret-pass"
TENANT, TENANT_B = "tenanta1", "tenantb2"
# (user, password) pairs for httpx's `auth=`.
ADMIN = ("admin-a", PASSWORD)
VIEWER = ("viewer-a", PASSWORD)
ENGINEER = ("engineer-a", PASSWORD)
ADMIN_B = ("admin-b", PASSWORD)
PRINCIPALS = {
    "admin-a": Principal("tenanta1", "admin-a", "admin", email="admin-a@example.com"),
    "viewer-a": Principal("tenanta1", "viewer-a", "viewer", email="viewer-a@example.com"),
    "engineer-a": Principal("tenanta1", "engineer-a", "engineer", email="engineer-a@example.com"),
    "admin-b": Principal("tenantb2", "admin-b", "admin", email="admin-b@example.com"),
}


def authenticate(request: Request, tenant_id: str) -> Principal:
    """Basic `user:PASSWORD` or Bearer `token-<user>`; anything else is 401."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    user = None
    if scheme.lower() == "basic":
        try:
            name, _, password = base64.b64decode(value).decode().partition(":")
        except Exception:
            name, password = "", ""
        if password == PASSWORD:
            user = name
    elif scheme.lower() == "bearer" and value.startswith("token-"):
        user = value[len("token-") :]
    principal = PRINCIPALS.get(user or "")
    if principal is None:
        raise Unauthorized("Name or password is incorrect.")
    return principal


class CountingStore(EmbeddedStore):
    """EmbeddedStore that counts the documents it receives through `_bulk_docs`.

    The resume-after-crash test asks how much a restarted replication re-sent.
    """

    received = 0
    _count_lock = threading.Lock()

    def db(self, name: str):  # type: ignore[override]
        database = super().db(name)
        if not getattr(database, "_counted", False):
            original = database.bulk_docs

            def bulk_docs(docs, *, new_edits=True, _original=original):
                result = _original(docs, new_edits=new_edits)
                with CountingStore._count_lock:
                    CountingStore.received += len(docs)
                return result

            database.bulk_docs = bulk_docs  # type: ignore[method-assign]
            database._counted = True
        return database


class DocPolicy(RolePolicy):
    """Per-document rules, as the sessions feature will add them.

    - A document with `private_to` is readable by that user, by admins, and by users a
      `share:{docid}:{user}` document names.
    - Documents with `locked: true` may be written by admins only.
    - `extra_changes_ids` returns documents shared with the caller after `since`.
    """

    def __init__(self, store: EmbeddedStore) -> None:
        super().__init__({"sessions": ("owner", "admin", "author", "engineer")})
        self.store = store

    def check_db(self, principal: Principal, db: str, action) -> None:
        # Test databases have random names; they follow the rules of `sessions`, which
        # engineers write and viewers read.
        super().check_db(principal, "sessions" if db.startswith("db-") else db, action)

    def _db(self, principal: Principal, db: str):
        return self.store.db(physical_name(principal.tenant_id, db))

    def can_read(self, principal: Principal, db: str, doc: dict[str, Any]) -> bool:
        owner = doc.get("private_to")
        if owner is None or owner == principal.user_id or principal.is_admin:
            return True
        try:
            share = self._db(principal, db).get(f"share:{doc['_id']}:{principal.user_id}")
        except BranchlineError:
            return False
        return not share.get("_deleted")

    def check_write(
        self, principal: Principal, db: str, doc: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        super().check_write(principal, db, doc, current)
        if (doc.get("locked") or (current or {}).get("locked")) and not principal.is_admin:
            from sync.errors import Forbidden

            raise Forbidden(f"Document {doc.get('_id')!r} is locked; only admins may change it.")

    def extra_changes_ids(self, principal: Principal, db: str, since: Any) -> set[str]:
        prefix = "share:"
        feed = self._db(principal, db).changes(since=since, include_docs=True)
        out = set()
        for row in feed["results"]:
            doc = row.get("doc") or {}
            if row["id"].startswith(prefix) and doc.get("user") == principal.user_id:
                out.add(doc["target"])
        return out


class SyncTestApp(FastAPI):
    """Sends /sync/ to the sync door and the rest to FastAPI, as the real app does."""

    sync_door: SyncDoor

    async def __call__(self, scope, receive, send) -> None:
        await SyncDispatch(self.sync_door, super().__call__)(scope, receive, send)


def create_app() -> FastAPI:
    data_dir = os.environ["BRANCHLINE_TEST_DATA_DIR"]
    store = CountingStore(data_dir)
    policy = DocPolicy(store) if os.environ.get("BRANCHLINE_TEST_POLICY") == "doc" else RolePolicy()
    # A stable uuid per tenant and data folder, as the real app derives it.
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, os.path.abspath(data_dir))

    app = SyncTestApp(title="Branchline sync (tests)")

    @app.exception_handler(BranchlineError)
    async def branchline_error(request: Request, exc: BranchlineError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    door = build_sync_door(
        get_store=lambda: store,
        authenticate=authenticate,
        policy=policy,
        welcome_uuid=lambda tenant: uuid.uuid5(namespace, tenant).hex,
        # The fixed principals need no blocking work, so every one counts as verified
        # before: small reads are answered on the event loop, as the real app's cached
        # credentials are.
        authenticate_cached=authenticate,
    )

    @app.get("/_test/stats")
    def stats() -> dict[str, int]:
        """Documents `_bulk_docs` received since this process started; waiting feeds."""
        return {"bulk_docs_received": CountingStore.received, "waiting_feeds": door.api.notifier.waiting()}

    app.sync_door = door
    return app


# Tests import the credentials above from this module; only uvicorn builds the app.
app = create_app() if "BRANCHLINE_TEST_DATA_DIR" in os.environ else None
