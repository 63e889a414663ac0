"""The CouchDB HTTP API of one tenant, served under `/sync/{tenant_id}/`.

PouchDB (and any CouchDB client) sees each tenant as a CouchDB server whose databases are
the tenant's logical databases (`trees`, `sessions`, ...). Every request is authenticated
first, then checked against the `AccessPolicy` at database level, then per document on
every read path (unreadable documents are left out of listings and answer 404 `missing`
on a direct fetch, as if they did not exist: a 403 would tell a client the id exists) and
every write path (a refused document answers CouchDB's `forbidden`).

Routing is done here on the raw request path rather than with one FastAPI route per
endpoint: document ids may contain `%2F` (`a%2Fb` is the document `a/b`, while `a/b` is
the attachment `b` of `a`), and that distinction is lost once a path is percent-decoded.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from .access import AccessPolicy, DbAction, Principal
from .doc_limits import DocSizeLimits
from .errors import (
    UNEXPECTED_REASON,
    BadRequest,
    BranchlineError,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    NotImplementedHere,
    PreconditionFailed,
    Unauthorized,
)
from .http_changes import ChangesFeed, PendingChanges
from .http_context import Ctx
from .http_params import Query, json_response, parse_body, parse_object, read_capped, rev_from
from .js.designs import DesignFunctions, DesignRef, views_dir_of
from .js.http_views import query_view
from .longpoll import ChangeNotifier
from .naming import (
    STANDARD_DATABASES,
    check_attachment_name,
    check_attachment_names,
    check_bulk_doc,
    check_doc_id,
    check_logical_name,
    logical_name,
    physical_name,
    tenant_prefix,
)
from .policy_traits import policy_traits
from .quota import TenantQuota
from .store import Database, Store

log = logging.getLogger("branchline")

_P = TypeVar("_P", bound=Principal | None)
# A handler of one method of one endpoint; each endpoint's table holds handlers of one shape.
_Handler = TypeVar("_Handler", bound=Callable[..., Response | PendingChanges])

COUCHDB_VERSION = "3.3.3"
# Largest request body answered on the event loop (see `SyncApi._inline`): a replicator's
# batch of 100 `_revs_diff` or `_bulk_get` entries is a few kilobytes.
_QUICK_BODY = 64 * 1024
# Largest `_bulk_docs` body written on the event loop: a batch of 100 documents of a few
# kilobytes. Larger batches (attachments inline) go to a worker thread.
_QUICK_WRITE_BODY = 512 * 1024
# The largest request body the sync endpoints read. Documents are small; files travel through
# the attachments API. CouchDB's own default document limit is 8 MB.
MAX_BODY = 64 * 1024 * 1024
# Attachment types a browser may render from the sync endpoints; anything else is sent as a
# download, so a file stored through sync can never run as a page of this origin.
_INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "application/json",
        "application/pdf",
    }
)
MAX_UUIDS = 1000
# Where `_security` is kept: a `_local` document (never replicated), hidden from the
# `_local` endpoints so only `_security` (db admins) can read or change it.
SECURITY_DOC = "_local/_branchline_security"
DEFAULT_SECURITY: dict[str, dict[str, list[str]]] = {
    "admins": {"names": [], "roles": []},
    "members": {"names": [], "roles": []},
}

# Design-document endpoints not served (`_view` is, with a view name: see sync/js/).
_DDOC_FUNCTIONS = {
    "_view",
    "_show",
    "_list",
    "_update",
    "_rewrite",
    "_info",
    "_search",
    "_search_info",
    "_nouveau",
    "_nouveau_info",
    "_spatial",
}
# Database endpoints CouchDB has and the embedded backend does not (Mango, views, purge...).
_UNSUPPORTED_DB_ENDPOINTS = {
    "_find",
    "_index",
    "_explain",
    "_temp_view",
    "_purge",
    "_purged_infos_limit",
    "_missing_revs",
    "_shards",
    "_partition",
    "_design_docs/queries",
    "_all_docs/queries",
    "_local_docs",
    "_sync_shards",
}


class SyncApi:
    """The handlers; `SyncDoor` is the one way in."""

    def __init__(
        self,
        get_store: Callable[[], Store],
        authenticate: Callable[[Request, str], Principal],
        policy: AccessPolicy,
        welcome_uuid: Callable[[str], str],
        authenticate_cached: Callable[[Request, str], Principal | None] | None = None,
        doc_limits: DocSizeLimits | None = None,
        quota: TenantQuota | None = None,
    ) -> None:
        self.get_store = get_store
        self.doc_limits = doc_limits or DocSizeLimits()
        self.quota = quota
        self.authenticate = authenticate
        self.authenticate_cached = authenticate_cached
        self.policy = policy
        self.welcome_uuid = welcome_uuid
        self.notifier = ChangeNotifier()
        # What the policy declares may be skipped (sync/policy_traits.py). With RolePolicy
        # the feeds need not load document bodies just to ask it, which halves a pull.
        traits = policy_traits(policy)
        self.filters_reads = not traits.reads_every_document
        self.write_needs_current = not traits.writes_judged_without_stored_doc
        self.changes = ChangesFeed(self)
        # Design-document JavaScript: views, filter functions, validate_doc_update.
        self.js = DesignFunctions(lambda: views_dir_of(self.get_store()), self.get_store)
        # Requests answered on the event loop (see `_inline`) may call only policy hooks
        # that are declared not to block.
        self.quick_db_checks = traits.db_checks_never_block
        self.quick_changes = self.quick_db_checks and not self.filters_reads and traits.no_late_documents

    # --- entry point --------------------------------------------------------------------
    async def handle(self, request: Request, tenant_id: str) -> Response:
        method = request.method.upper()
        if (
            method in ("GET", "HEAD")
            and "authorization" not in request.headers
            and _is_tenant_root(request, tenant_id)
        ):
            # CouchDB clients probe the server root before they sign in. The answer is the
            # same whether the tenant exists or not, so it tells nobody anything. Credentials
            # sent along are still checked (wrong ones are a 401, as in CouchDB).
            return self.welcome(tenant_id)
        principal: Principal | None = None
        body = b""
        if method in ("PUT", "POST", "DELETE"):
            # Who is asking comes before the body: nobody unauthenticated can make the server
            # read (and hold in memory) a request body, and no body is larger than MAX_BODY.
            if self.authenticate_cached is not None:
                principal = self._authenticate_cached(request, tenant_id)
            if principal is None:
                principal = await anyio.to_thread.run_sync(self._authenticate, request, tenant_id)
            body = await read_capped(request, MAX_BODY, _body_too_large(MAX_BODY))
        result = self._inline(request, tenant_id, method, body, principal)
        if result is None:
            # One trip to a worker thread per request: authentication (which may hash an
            # API key) and the store calls both block, and each extra hop costs latency
            # that a replication pays hundreds of times.
            result = await anyio.to_thread.run_sync(
                self._dispatch, request, tenant_id, method, body, principal
            )
        if isinstance(result, PendingChanges):
            return await self.changes.wait(result)
        return result

    def _inline(
        self, request: Request, tenant_id: str, method: str, body: bytes, principal: Principal | None = None
    ) -> Response | PendingChanges | None:
        """The answer computed right here on the event loop, or None to use a worker thread.

        A replication asks many small reads (`GET /db`, `GET _local/...`, `_revs_diff`,
        `_changes` pages, `_bulk_get` of a batch), writes batches of documents
        (`_bulk_docs`) and its checkpoints (`PUT _local/...`); each takes less time than
        handing it to a thread and back. They run here only when nothing can block: the
        caller's credentials were verified before (`authenticate_cached`), the policy hooks
        involved are RolePolicy's, and the store can refuse to wait (`run_nonblocking`; the
        CouchDB backend, which makes HTTP calls, cannot). If the store would have to wait (a
        lock held by a writer thread, a database not opened yet, SQLite's write lock held by
        another process), the request starts over on a worker thread. Writes refuse before
        they change anything (see `EmbeddedDatabase._begin_write`), so that is harmless.
        """
        if self.authenticate_cached is None or not self.quick_db_checks:
            return None
        if not self._is_quick(request, tenant_id, method, body):
            return None
        run = getattr(self.get_store(), "run_nonblocking", None)
        if run is None:
            return None
        # What the attempt noted in the caller's per-request memo (policies keep one in
        # `extra`) was judged against a store that may have moved on by the retry.
        extra = None if principal is None else dict(principal.extra)
        done, result = run(self._dispatch_quick, request, tenant_id, method, body, principal)
        if not done and principal is not None and extra is not None:
            principal.extra.clear()
            principal.extra.update(extra)
        return result if done else None

    def _waits_only_in_store(self, db: str) -> bool:
        """The policy lets `db`'s requests run in non-blocking mode (`DatabaseRules`)."""
        ask = getattr(self.policy, "waits_only_in_store", None)
        return ask is not None and bool(ask(db))

    def may_inline(self, db: str) -> bool:
        """Whether a read of `db` (a feed's next page) may be tried on the event loop."""
        return (
            self.authenticate_cached is not None
            and self.quick_db_checks
            and (self.quick_changes or self._waits_only_in_store(db))
            and getattr(self.get_store(), "run_nonblocking", None) is not None
        )

    def run_inline(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """`(True, fn(*args))` run here in non-blocking mode, or `(False, None)` when it would wait."""
        run: Callable[..., tuple[bool, Any]] = self.get_store().run_nonblocking  # type: ignore[attr-defined]
        return run(fn, *args)

    def _quick_changes(self, request: Request, store_only: bool) -> bool:
        """A `_changes` request small enough for the event loop: a bounded page, no JavaScript."""
        if not (self.quick_changes or store_only):
            return False
        q = request.query_params
        limit = q.get("limit")
        return (
            q.get("feed", "normal") in ("normal", "longpoll")
            and q.get("filter", "_selector") in ("_selector", "_doc_ids")
            and q.get("attachments") != "true"
            and limit is not None
            and limit.isdigit()
            and int(limit) <= 1000
        )

    def _is_quick(self, request: Request, tenant_id: str, method: str, body: bytes) -> bool:
        try:
            segments = _path_segments(request, tenant_id)
        except BranchlineError:
            return False  # answered (after authentication) on the ordinary path
        n = len(segments)
        # The policy's rules for this database wait only in the store (`DatabaseRules`):
        # its feeds, diffs and batches may run here too, though they judge each document.
        store_only = n >= 2 and self._waits_only_in_store(segments[0])
        if method in ("GET", "HEAD"):
            if n == 0 or (n == 1 and not segments[0].startswith("_")):
                return True  # the welcome document, database information
            if n == 3 and segments[1] == "_local":
                return True
            if n == 2 and segments[1] == "_changes":
                return self._quick_changes(request, store_only)
            return False
        if method == "POST" and n == 2 and segments[1] == "_bulk_docs" and len(body) <= _QUICK_WRITE_BODY:
            # A replicator's batch of 100 small documents: one SQLite transaction of a few
            # milliseconds, less than the trip to a worker thread and back costs the
            # replication. Only when the policy judges writes without reading the stored
            # documents (RolePolicy): other policies may look elsewhere. And never when a
            # validate_doc_update may run or a design document is checked (compiled):
            # JavaScript stays off the event loop.
            return (
                (not self.write_needs_current or store_only)
                and b"_design" not in body
                and not self.js.may_validate_db(tenant_id, segments[0])
            )
        if len(body) > _QUICK_BODY:
            return False
        if method == "POST" and n == 2:
            if segments[1] == "_revs_diff":
                # Screening unreadable documents asks the policy, which may block.
                return not self.filters_reads or store_only
            if segments[1] == "_bulk_get":
                attachments = request.query_params.get("attachments") == "true"
                return (self.quick_changes or store_only) and not attachments
            if segments[1] == "_changes":  # a selector or doc_ids filter, in the body
                return self._quick_changes(request, store_only)
        # A replication checkpoint: one small write (the store refuses to wait for
        # SQLite's write lock in non-blocking mode).
        return method == "PUT" and n == 3 and segments[1] == "_local"

    def _dispatch_quick(
        self, request: Request, tenant_id: str, method: str, body: bytes, principal: Principal | None = None
    ) -> Response | PendingChanges | None:
        # A write's caller was checked before its body was read (`handle`): not twice.
        principal = principal or self._authenticate_cached(request, tenant_id)
        if principal is None:
            return None  # not verified before: the full check may block
        return self._dispatch(request, tenant_id, method, body, principal)

    def _dispatch(
        self, request: Request, tenant_id: str, method: str, body: bytes, principal: Principal | None = None
    ) -> Response | PendingChanges:
        if principal is None:
            principal = self._authenticate(request, tenant_id)
        store = self.get_store()
        self.notifier.attach(store)
        segments = _path_segments(request, tenant_id)
        if method == "HEAD":
            method = "GET"
        ctx = Ctx(request, tenant_id, principal, store, Query(request.query_params), body)

        if not segments:
            return self._methods(method, {"GET": lambda c: self.welcome(c.tenant_id)})(ctx)
        first = segments[0]
        if len(segments) == 1 and first in ("_all_dbs", "_uuids", "_session"):
            handlers = {
                "_all_dbs": {"GET": self.all_dbs},
                "_uuids": {"GET": self.uuids},
                "_session": {"GET": self.session},
            }[first]
            return self._methods(method, handlers)(ctx)
        db = check_logical_name(first)
        rest = segments[1:]
        if not rest:
            return self._methods(
                method,
                {"GET": self.db_info, "PUT": self.db_create, "DELETE": self.db_delete, "POST": self.doc_post},
            )(ctx, db)
        head = rest[0]
        if head == "_local":
            if len(rest) != 2 or not rest[1]:
                raise BadRequest(
                    "A _local document is addressed as /db/_local/{id}; _local documents have no attachments."
                )
            docid = "_local/" + rest[1]
            return self._methods(
                method, {"GET": self.local_get, "PUT": self.local_put, "DELETE": self.local_delete}
            )(ctx, db, docid)
        if head == "_design" and len(rest) >= 2:
            docid = "_design/" + rest[1]
            tail = rest[2:]
            if len(tail) == 2 and tail[0] == "_view":
                return self._methods(method, {"GET": query_view, "POST": query_view})(
                    self, ctx, db, rest[1], tail[1]
                )
            if tail and tail[0] in _DDOC_FUNCTIONS:
                raise NotImplementedHere(
                    f"{tail[0]} is not supported by Branchline's sync endpoints; of design documents' "
                    "functions, views (_design/{ddoc}/_view/{view}), _changes filters and "
                    "validate_doc_update are."
                )
            return self._doc_or_attachment(method, ctx, db, docid, tail)
        if head.startswith("_") and len(rest) == 1:
            endpoints: dict[str, dict[str, Callable[[Ctx, str], Response | PendingChanges]]] = {
                "_changes": {"GET": self.changes.start, "POST": self.changes.start},
                "_revs_diff": {"POST": self.revs_diff},
                "_bulk_docs": {"POST": self.bulk_docs},
                "_bulk_get": {"POST": self.bulk_get},
                "_all_docs": {"GET": self.all_docs, "POST": self.all_docs},
                "_design_docs": {"GET": self.design_docs, "POST": self.design_docs},
                "_ensure_full_commit": {"POST": self.ensure_full_commit},
                "_revs_limit": {"GET": self.revs_limit_get, "PUT": self.revs_limit_put},
                "_compact": {"POST": self.compact},
                "_security": {"GET": self.security_get, "PUT": self.security_put},
                "_view_cleanup": {"POST": self.view_cleanup},
            }
            special = endpoints.get(head)
            if special is not None:
                return self._methods(method, special)(ctx, db)
            if head in _UNSUPPORTED_DB_ENDPOINTS:
                raise NotImplementedHere(f"{head} is not supported by Branchline's sync endpoints.")
        if head.startswith("_"):
            raise BadRequest("Only reserved document ids may start with underscore.")
        return self._doc_or_attachment(method, ctx, db, head, rest[1:])

    def _doc_or_attachment(self, method: str, ctx: Ctx, db: str, docid: str, att_path: list[str]) -> Response:
        if att_path:
            name = "/".join(att_path)
            if not name:
                raise BadRequest("Attachment name is empty.")
            return self._methods(
                method, {"GET": self.att_get, "PUT": self.att_put, "DELETE": self.att_delete}
            )(ctx, db, docid, name)
        return self._methods(method, {"GET": self.doc_get, "PUT": self.doc_put, "DELETE": self.doc_delete})(
            ctx, db, docid
        )

    @staticmethod
    def _methods(method: str, table: dict[str, _Handler]) -> _Handler:
        if method not in table:
            allowed = ",".join(sorted(set(table) | ({"HEAD"} if "GET" in table else set())))
            raise MethodNotAllowed(f"Only {allowed} allowed", headers={"Allow": allowed})
        return table[method]

    def _authenticate(self, request: Request, tenant_id: str) -> Principal:
        """The full check: credentials, account and tenant (it may block: hashing, reads)."""
        return self._own_tenant(self._challenge(self.authenticate, request, tenant_id), tenant_id)

    def _authenticate_cached(self, request: Request, tenant_id: str) -> Principal | None:
        """The check that never blocks: None when these credentials were not verified before."""
        assert self.authenticate_cached is not None
        principal = self._challenge(self.authenticate_cached, request, tenant_id)
        return None if principal is None else self._own_tenant(principal, tenant_id)

    @staticmethod
    def _challenge(authenticate: Callable[[Request, str], _P], request: Request, tenant_id: str) -> _P:
        try:
            return authenticate(request, tenant_id)
        except Unauthorized as exc:
            # A browser shows its login dialog on `WWW-Authenticate: Basic`; PouchDB in the
            # PWA sends a Bearer token and must get a plain 401 it can handle itself.
            auth = request.headers.get("authorization", "")
            if auth[:6].lower() == "basic ":
                exc.headers["WWW-Authenticate"] = 'Basic realm="Branchline"'
            else:
                exc.headers.pop("WWW-Authenticate", None)
            raise

    @staticmethod
    def _own_tenant(principal: Principal, tenant_id: str) -> Principal:
        if principal.tenant_id != tenant_id:
            raise Forbidden(
                "These credentials belong to another tenant; use the sync URL given by GET /api/v1/me."
            )
        return principal

    # --- helpers ------------------------------------------------------------------------
    def open_db(self, ctx: Ctx, name: str, action: DbAction) -> Database:
        self.policy.check_db(ctx.principal, name, action)
        try:
            return ctx.store.db(physical_name(ctx.tenant_id, name))
        except NotFound:
            # CouchDB's words, and no physical name: clients see only logical names.
            raise NotFound("Database does not exist.") from None

    def reads_all(self, ctx: Ctx, db: str) -> bool:
        """Whether the caller may read every document of `db` (see `RolePolicy.reads_everything`)."""
        if not self.filters_reads:
            return True
        reads_everything = getattr(self.policy, "reads_everything", None)
        return bool(reads_everything and reads_everything(ctx.principal, db))

    def readable(self, ctx: Ctx, db: str, doc: dict[str, Any] | None) -> bool:
        if not self.filters_reads or doc is None:
            return True
        return bool(self.policy.can_read(ctx.principal, db, doc))

    def check_doc_write(
        self,
        ctx: Ctx,
        dbobj: Database,
        db: str,
        doc: dict[str, Any],
        current: dict[str, Any] | None = None,
        *,
        fetch_current: bool = True,
        validators: tuple[DesignRef, ...] | None = None,
    ) -> None:
        """Raise when `doc` may not be written: the access policy, then the database's
        `validate_doc_update` functions (`validators`: as a batch read them once, else read here)."""
        docid = doc.get("_id")
        design = isinstance(docid, str) and docid.startswith("_design/")
        if design:
            # As in CouchDB, design documents are for database admins.
            self.policy.check_db(ctx.principal, db, "security")
        if current is None and fetch_current and self.write_needs_current and isinstance(docid, str):
            current = _current(dbobj, docid)
        self.policy.check_write(ctx.principal, db, doc, current)
        if validators == () and not design:
            return  # no function to run: nothing below would do anything
        self.js.validate(
            dbobj,
            db,
            doc,
            current,
            ctx.principal,
            lambda: self.security_object(dbobj),
            load_current=(lambda: _current(dbobj, docid)) if isinstance(docid, str) else None,
            refs=validators,
        )

    def _written(self, ctx: Ctx, db: str, ids: list[str]) -> None:
        """Tell the policy which documents this request stored (see `AccessPolicy.written`)."""
        if not ids:
            return
        try:
            self.policy.written(ctx.principal, db, ids)
        except Exception:  # the documents are stored: the answer must say so
            log.exception("the policy's record of written documents failed for %s", db)

    def security_object(self, dbobj: Database) -> dict[str, Any]:
        """The database's `_security` object (what validation functions get as `secObj`)."""
        try:
            return dict(dbobj.get_local(SECURITY_DOC).get("security", DEFAULT_SECURITY))
        except NotFound:
            return DEFAULT_SECURITY

    def _check_quota(self, ctx: Ctx) -> None:
        if self.quota is not None:
            self.quota.check(ctx.store, ctx.tenant_id)

    def _check_content(self, ctx: Ctx, db: str, doc: dict[str, Any]) -> None:
        """A single document sent as the whole body: its size limit, and the tenant's quota
        unless it is a deletion (deleting is how a full team makes room)."""
        self.doc_limits.check(db, doc, len(ctx.body))
        if not doc.get("_deleted"):
            self._check_quota(ctx)

    # --- server -------------------------------------------------------------------------
    def welcome(self, tenant_id: str) -> Response:
        """The tenant's CouchDB welcome document. Its `uuid` (`welcome_uuid`) names the
        devices' replications: stable per tenant for one history of the data, and never
        dependent on whether the tenant exists."""
        return json_response(
            {
                "couchdb": "Welcome",
                "uuid": self.welcome_uuid(tenant_id),
                "version": COUCHDB_VERSION,
                "vendor": {"name": "Branchline"},
            }
        )

    def all_dbs(self, ctx: Ctx) -> Response:
        """The tenant's databases the caller may read, by logical name, sorted."""
        prefix = tenant_prefix(ctx.tenant_id)
        out = []
        for physical in ctx.store.list_dbs():
            if not physical.startswith(prefix):
                continue
            name = logical_name(ctx.tenant_id, physical)
            if name is None:
                continue
            try:
                self.policy.check_db(ctx.principal, name, "read")
            except Forbidden:
                continue
            out.append(name)
        return json_response(sorted(out))

    def uuids(self, ctx: Ctx) -> Response:
        """`count` (default 1, at most 1000) fresh random UUIDs."""
        count = ctx.query.int("count")
        if count is None:
            count = 1
        elif count > MAX_UUIDS:
            raise BadRequest(f"count parameter too large: at most {MAX_UUIDS}.")
        return json_response({"uuids": [uuid.uuid4().hex for _ in range(count)]})

    def session(self, ctx: Ctx) -> Response:
        """The authenticated caller in CouchDB's `_session` shape."""
        p = ctx.principal
        auth = (ctx.header("authorization") or "").split(" ", 1)[0].lower()
        method = {"basic": "default", "bearer": "jwt"}.get(auth, "default")
        return json_response(
            {
                "ok": True,
                "userCtx": {"name": p.email or p.user_id, "roles": [p.role]},
                "info": {"authentication_handlers": ["jwt", "default"], "authenticated": method},
            }
        )

    # --- database -----------------------------------------------------------------------
    def db_info(self, ctx: Ctx, db: str) -> Response:
        """Database information; `db_name` is the logical name."""
        info = dict(self.open_db(ctx, db, "read").info())
        info["db_name"] = db
        return json_response(info)

    def db_create(self, ctx: Ctx, db: str) -> Response:
        """Create a database (tenant admins); 412 `file_exists` if it exists."""
        self.policy.check_db(ctx.principal, db, "create_db")
        try:
            ctx.store.create_db(physical_name(ctx.tenant_id, db))
        except PreconditionFailed:
            raise PreconditionFailed(
                "The database could not be created, the file already exists.", error="file_exists"
            ) from None
        return json_response({"ok": True}, 201)

    def db_delete(self, ctx: Ctx, db: str) -> Response:
        """Delete a database and all its documents (tenant admins)."""
        self.policy.check_db(ctx.principal, db, "delete_db")
        if db in STANDARD_DATABASES:
            raise Forbidden(
                f"The {db!r} database is one of the tenant's standard databases "
                f"({', '.join(STANDARD_DATABASES)}), which Branchline needs: it cannot "
                "be deleted. Delete its documents instead, or a database the tenant created."
            )
        try:
            ctx.store.delete_db(physical_name(ctx.tenant_id, db))
        except NotFound:
            raise NotFound("Database does not exist.") from None
        self.js.views.forget(physical_name(ctx.tenant_id, db))
        return json_response({"ok": True})

    def view_cleanup(self, ctx: Ctx, db: str) -> Response:
        """Drop view index data no design document uses any more (database admins)."""
        self.js.views.cleanup(self.open_db(ctx, db, "security"))
        return json_response({"ok": True}, 202)

    def ensure_full_commit(self, ctx: Ctx, db: str) -> Response:
        """Every write is durable when answered; kept for old replicators."""
        dbobj = self.open_db(ctx, db, "read")
        start = str(dbobj.info().get("instance_start_time", "0"))
        return json_response({"ok": True, "instance_start_time": start}, 201)

    def revs_limit_get(self, ctx: Ctx, db: str) -> Response:
        """How many revisions of each document's history are kept."""
        return json_response(self.open_db(ctx, db, "read").get_revs_limit())

    def revs_limit_put(self, ctx: Ctx, db: str) -> Response:
        """Set the revision history limit (database admins); body: a positive integer."""
        value = parse_body(ctx.body)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadRequest("The revs limit must be a positive integer.")
        self.open_db(ctx, db, "security").set_revs_limit(value)
        return json_response({"ok": True})

    def compact(self, ctx: Ctx, db: str) -> Response:
        """Compact the database (database admins): older revisions' bodies go, as in CouchDB."""
        self.open_db(ctx, db, "security").compact()
        return json_response({"ok": True}, 202)

    def security_get(self, ctx: Ctx, db: str) -> Response:
        """The database's security object (database admins).

        Access is decided by tenant roles, not by this object; it is stored so that
        CouchDB tools that read and write it keep working.
        """
        dbobj = self.open_db(ctx, db, "security")
        try:
            doc = dbobj.get_local(SECURITY_DOC)
        except NotFound:
            return json_response(DEFAULT_SECURITY)
        return json_response(doc.get("security", DEFAULT_SECURITY))

    def security_put(self, ctx: Ctx, db: str) -> Response:
        """Replace the database's security object (database admins)."""
        value = parse_object(ctx.body)
        dbobj = self.open_db(ctx, db, "security")
        doc: dict[str, Any] = {"_id": SECURITY_DOC, "security": value}
        try:
            doc["_rev"] = dbobj.get_local(SECURITY_DOC)["_rev"]
        except NotFound:
            pass
        dbobj.put_local(doc)
        return json_response({"ok": True})

    # --- _local documents ----------------------------------------------------------------
    # Readers may write `_local` documents, as in CouchDB: they are a device's replication
    # checkpoints, never replicated and never seen by other users through feeds.
    def _check_local_id(self, docid: str) -> None:
        if docid == SECURITY_DOC:
            raise Forbidden("This _local document is reserved; use /db/_security.")

    def local_get(self, ctx: Ctx, db: str, docid: str) -> Response:
        """A `_local` document (replication checkpoints)."""
        self._check_local_id(docid)
        return json_response(self.open_db(ctx, db, "read").get_local(docid))

    def local_put(self, ctx: Ctx, db: str, docid: str) -> Response:
        """Write a `_local` document; its rev must match the stored one (`0-N`)."""
        self._check_local_id(docid)
        check_doc_id(docid)
        doc = parse_object(ctx.body, what="document")
        doc["_id"] = docid
        self.doc_limits.check(db, doc, len(ctx.body))
        rev = rev_from(ctx.query, ctx.header("if-match"), doc.get("_rev"))
        if rev:
            doc["_rev"] = rev
        result = self.open_db(ctx, db, "read").put_local(doc)
        return json_response(_write_result(result, docid), 201)

    def local_delete(self, ctx: Ctx, db: str, docid: str) -> Response:
        """Delete a `_local` document."""
        self._check_local_id(docid)
        rev = rev_from(ctx.query, ctx.header("if-match"))
        result = self.open_db(ctx, db, "read").delete_local(docid, rev)
        return json_response(_write_result(result, docid))

    # --- replication --------------------------------------------------------------------
    def revs_diff(self, ctx: Ctx, db: str) -> Response:
        """Which of the given revisions the database lacks, with possible ancestors."""
        body = parse_object(ctx.body)
        for docid, revs in body.items():
            if not isinstance(revs, list) or not all(isinstance(r, str) for r in revs):
                raise BadRequest(f"Revisions of {docid!r} must be a JSON list of revision strings.")
        dbobj = self.open_db(ctx, db, "read")
        result = dbobj.revs_diff(body)
        if not self.reads_all(ctx, db):
            self._hide_unreadable_revs(ctx, dbobj, db, body, result)
        return json_response(result)

    def _hide_unreadable_revs(
        self, ctx: Ctx, dbobj: Database, db: str, asked: dict[str, list[str]], result: dict[str, Any]
    ) -> None:
        """Answer for documents the caller cannot read as if they did not exist.

        Otherwise a missing entry (every revision known) or `possible_ancestors` would
        confirm that another user's document exists and name its revisions. An id whose
        every revision is missing with no ancestors says nothing and is not looked up.
        """
        revealing = [
            docid
            for docid, revs in asked.items()
            if docid not in result
            or "possible_ancestors" in result[docid]
            or len(result[docid]["missing"]) != len(dict.fromkeys(revs))
        ]
        for docid, doc in _currents(dbobj, revealing).items():
            if not self.readable(ctx, db, doc):
                result[docid] = {"missing": list(dict.fromkeys(asked[docid]))}

    def bulk_docs(self, ctx: Ctx, db: str) -> Response:
        """Write many documents; one result per document, refused ones as `forbidden`.

        With `new_edits: false` (replication) revisions are stored as given and only the
        errors are answered, as CouchDB does.
        """
        body = parse_object(ctx.body)
        docs = body.get("docs")
        if not isinstance(docs, list):
            raise BadRequest("POST body must include `docs` parameter.")
        new_edits = body.get("new_edits", True)
        if not isinstance(new_edits, bool):
            raise BadRequest("`new_edits` must be true or false.")
        # CouchDB refuses the whole request, writing nothing, for a malformed document.
        for doc in docs:
            if isinstance(doc, dict):
                check_bulk_doc(doc, new_edits)
        dbobj = self.open_db(ctx, db, "write")
        # A body within every limit cannot hold a document over one: the usual replication
        # batch skips measuring its documents one by one.
        size = len(ctx.body)
        measure = size > self.doc_limits.limit_for(db, "")[0] or (
            size > self.doc_limits.local
            and any(isinstance(d, dict) and str(d.get("_id", "")).startswith("_local/") for d in docs)
        )
        if not all(isinstance(d, dict) and d.get("_deleted") for d in docs):
            self._check_quota(ctx)

        currents: dict[str, dict[str, Any]] = {}
        if self.write_needs_current:
            ids = [
                d["_id"]
                for d in docs
                if isinstance(d, dict)
                and isinstance(d.get("_id"), str)
                and not d["_id"].startswith("_local/")
            ]
            currents = _currents(dbobj, ids)

        results: list[dict[str, Any] | None] = [None] * len(docs)
        to_write: list[dict[str, Any]] = []
        positions: list[int] = []
        # Read once for the whole batch (nothing of it is written before all are checked), not
        # once per document: replication sends batches of 100 to a database that has none.
        validators = self.js.validators(dbobj)
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict):
                results[i] = {"error": "bad_request", "reason": "Document must be a JSON object."}
                continue
            if new_edits and "_id" not in doc:
                doc["_id"] = uuid.uuid4().hex
            docid = doc.get("_id")
            if not isinstance(docid, str) or not docid:
                results[i] = {
                    "id": None,
                    "error": "bad_request",
                    "reason": "Document id must be a non-empty string.",
                }
                continue
            try:
                check_doc_id(docid)  # before the size: an id that is itself too long says so
            except BranchlineError as exc:
                results[i] = {"id": docid[:512], "error": exc.error, "reason": exc.reason}
                continue
            if measure and (problem := self.doc_limits.problem(db, doc)):
                results[i] = {"id": docid, "error": "too_large", "reason": problem}
                continue
            try:
                if isinstance(docid, str) and docid.startswith("_local/"):
                    self._check_local_id(docid)
                else:
                    self.check_doc_write(
                        ctx, dbobj, db, doc, currents.get(docid), fetch_current=False, validators=validators
                    )
            except BranchlineError as exc:
                results[i] = {"id": docid, "error": exc.error, "reason": exc.reason}
                continue
            to_write.append(doc)
            positions.append(i)
        if to_write:
            for pos, result in zip(positions, dbobj.bulk_docs(to_write, new_edits=new_edits), strict=True):
                results[pos] = result
            stored = [str(docs[p]["_id"]) for p in positions if "error" not in (results[p] or {})]
            self._written(ctx, db, stored)
        out = [r for r in results if r is not None]
        if not new_edits:
            out = [r for r in out if "error" in r]
        return json_response(out, 201)

    def bulk_get(self, ctx: Ctx, db: str) -> Response:
        """Many documents (or revisions) at once: the replicator's pull."""
        body = parse_object(ctx.body)
        requests = body.get("docs")
        if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
            raise BadRequest("`docs` must be a list of {id, rev?, atts_since?} objects.")
        for r in requests:
            if not isinstance(r.get("id"), str):
                raise BadRequest("Every entry of `docs` needs a string `id`.")
        q = ctx.query
        dbobj = self.open_db(ctx, db, "read")
        out = dbobj.bulk_get(
            requests, revs=q.bool("revs"), attachments=q.bool("attachments"), latest=q.bool("latest")
        )
        if self.filters_reads:
            for entry in out:
                entry["docs"] = [
                    self._screen_bulk_get(ctx, db, entry.get("id"), item) for item in entry.get("docs", [])
                ]
        return json_response({"results": out})

    def _screen_bulk_get(self, ctx: Ctx, db: str, docid: Any, item: dict[str, Any]) -> dict[str, Any]:
        doc = item.get("ok")
        if doc is None or self.readable(ctx, db, doc):
            return item
        return {"error": {"id": docid, "rev": doc.get("_rev"), "error": "not_found", "reason": "missing"}}

    # --- listings -----------------------------------------------------------------------
    def all_docs(self, ctx: Ctx, db: str) -> Response:
        """All documents by id (`keys`, `startkey`/`endkey`, `limit`, `include_docs`...)."""
        extra: dict[str, Any] = {}
        if ctx.request.method == "POST":
            extra = parse_object(ctx.body)
        return json_response(self._all_docs(ctx, db, Query(ctx.request.query_params, extra)))

    def design_docs(self, ctx: Ctx, db: str) -> Response:
        """All design documents (`_design/` ids)."""
        extra: dict[str, Any] = {}
        if ctx.request.method == "POST":
            extra = parse_object(ctx.body)
        q = Query(ctx.request.query_params, extra)
        descending = q.bool("descending")
        lo, hi = "_design/", "_design0"
        start = _first(q, "startkey", "start_key")
        end = _first(q, "endkey", "end_key")
        if not descending:
            start = max(start, lo) if isinstance(start, str) else lo
            end = min(end, hi) if isinstance(end, str) else hi
        else:
            start = min(start, hi) if isinstance(start, str) else hi
            end = max(end, lo) if isinstance(end, str) else lo
        extra.update({"startkey": start, "endkey": end})
        return json_response(self._all_docs(ctx, db, Query(ctx.request.query_params, extra)))

    def _all_docs(self, ctx: Ctx, db: str, q: Query) -> dict[str, Any]:
        dbobj = self.open_db(ctx, db, "read")
        keys = q.json("keys")
        if keys is not None and not isinstance(keys, list):
            raise BadRequest("`keys` must be a JSON list.")
        startkey = _first(q, "startkey", "start_key")
        endkey = _first(q, "endkey", "end_key")
        if q.has("key"):
            if keys is not None:
                raise BadRequest(
                    "`keys` is incompatible with `key`: ask for one id with `key` "
                    "or for several with `keys`.",
                    error="query_parse_error",
                )
            startkey = endkey = q.json("key")
        # Document ids are strings; CouchDB sorts other JSON keys before them, where no
        # document can be, so refusing them loses nothing and says why.
        for name, value in (("startkey", startkey), ("endkey", endkey)):
            if value is not None and not isinstance(value, str):
                raise BadRequest(
                    f"`{name}` of _all_docs must be a document id (a JSON string).", error="query_parse_error"
                )
        if keys is not None and not all(isinstance(k, str) for k in keys):
            raise BadRequest("`keys` of _all_docs must be document ids (JSON strings).")
        include_docs = q.bool("include_docs")
        opts = dict(
            startkey=startkey,
            endkey=endkey,
            inclusive_end=q.bool("inclusive_end", True),
            descending=q.bool("descending"),
            conflicts=q.bool("conflicts"),
            attachments=q.bool("attachments"),
            update_seq=q.bool("update_seq"),
            include_docs=include_docs or self.filters_reads,
        )
        limit = q.int("limit")
        skip = q.int("skip", 0) or 0
        if keys is not None:
            result = dbobj.all_docs(keys=keys, limit=limit, skip=skip, **opts)
            if self.filters_reads:
                result["rows"] = [
                    row
                    if self.readable(ctx, db, row.get("doc"))
                    else {"key": row.get("key"), "error": "not_found"}
                    for row in result["rows"]
                ]
        else:
            result = dbobj.all_docs(limit=limit, skip=skip, **opts)
            if self.filters_reads:
                result["rows"] = self._refill_rows(ctx, dbobj, db, result["rows"], limit, opts)
        if self.filters_reads and not include_docs:
            for row in result["rows"]:
                row.pop("doc", None)
        if not self.reads_all(ctx, db) and "total_rows" in result:
            # The database's count includes documents the caller cannot read; counting
            # the readable ones would read them all. This answer's rows are what it may know.
            result["total_rows"] = (result.get("offset") or 0) + len(result["rows"])
        return result

    def _refill_rows(
        self,
        ctx: Ctx,
        dbobj: Database,
        db: str,
        rows: list[dict[str, Any]],
        limit: int | None,
        opts: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Drop unreadable rows and fetch more, so a page is short only at the end.

        A short page tells paging clients (PouchDB included) that the listing is over.
        """
        kept = [r for r in rows if self.readable(ctx, db, r.get("doc"))]
        fetched = rows
        while limit is not None and len(kept) < limit and len(fetched) == limit and fetched:
            more = dict(opts, startkey=fetched[-1]["key"])
            fetched = dbobj.all_docs(limit=limit, skip=1, **more)["rows"]
            kept.extend(r for r in fetched if self.readable(ctx, db, r.get("doc")))
        return kept[:limit] if limit is not None else kept

    # --- documents ----------------------------------------------------------------------
    def doc_get(self, ctx: Ctx, db: str, docid: str) -> Response:
        """A document (`rev`, `revs`, `revs_info`, `open_revs`, `conflicts`, `attachments`...).

        With `open_revs` the answer is a JSON array of `{"ok": doc}` / `{"missing": rev}`
        (also when multipart is asked for: PouchDB accepts JSON).
        """
        q = ctx.query
        dbobj = self.open_db(ctx, db, "read")
        atts_since = q.str_list("atts_since")
        if q.has("open_revs"):
            raw = q.raw("open_revs")
            open_revs: Any = "all" if raw == "all" else q.str_list("open_revs")
            if open_revs is None:
                raise BadRequest('`open_revs` must be "all" or a JSON list of revisions.')
            items = dbobj.get_open_revs(
                docid,
                open_revs,
                revs=q.bool("revs"),
                attachments=q.bool("attachments"),
                atts_since=atts_since,
                latest=q.bool("latest"),
            )
            if self.filters_reads:
                items = [
                    i
                    if "ok" not in i or self.readable(ctx, db, i["ok"])
                    else {"missing": i["ok"].get("_rev")}
                    for i in items
                ]
            return json_response(items)
        doc = dbobj.get(
            docid,
            rev=q.raw("rev"),
            revs=q.bool("revs"),
            revs_info=q.bool("revs_info"),
            conflicts=q.bool("conflicts"),
            deleted_conflicts=q.bool("deleted_conflicts"),
            attachments=q.bool("attachments"),
            atts_since=atts_since,
            latest=q.bool("latest"),
            local_seq=q.bool("local_seq"),
        )
        if not self.readable(ctx, db, doc):
            raise NotFound("missing")
        etag = f'"{doc.get("_rev", "")}"'
        if ctx.header("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return json_response(doc, headers={"ETag": etag})

    def doc_put(self, ctx: Ctx, db: str, docid: str) -> Response:
        """Create or update a document; `new_edits=false` stores a replicated revision."""
        ctype = (ctx.header("content-type") or "").lower()
        if ctype.startswith("multipart/"):
            raise BadRequest(
                "Send documents as JSON with base64 attachments; multipart is not accepted here.",
                error="bad_content_type",
                status=415,
            )
        check_doc_id(docid)
        doc = parse_object(ctx.body, what="document")
        doc["_id"] = docid
        rev = rev_from(ctx.query, ctx.header("if-match"), doc.get("_rev"))
        if rev:
            doc["_rev"] = rev
        new_edits = ctx.query.bool("new_edits", True)
        check_attachment_names(doc)
        dbobj = self.open_db(ctx, db, "write")
        self._check_content(ctx, db, doc)
        self.check_doc_write(ctx, dbobj, db, doc)
        result = _write_result(dbobj.put(doc, new_edits=new_edits), docid)
        self._written(ctx, db, [docid])
        return json_response(result, 201, headers={"ETag": f'"{result.get("rev", "")}"'})

    def doc_post(self, ctx: Ctx, db: str) -> Response:
        """Create a document; the id is generated unless the body has `_id`."""
        doc = parse_object(ctx.body, what="document")
        if "_id" not in doc:
            doc["_id"] = uuid.uuid4().hex
        if not isinstance(doc["_id"], str):
            raise BadRequest("Document id must be a non-empty string.", error="illegal_docid")
        check_doc_id(doc["_id"])
        check_attachment_names(doc)
        dbobj = self.open_db(ctx, db, "write")
        self._check_content(ctx, db, doc)
        self.check_doc_write(ctx, dbobj, db, doc)
        result = _write_result(dbobj.put(doc), doc["_id"])
        self._written(ctx, db, [doc["_id"]])
        return json_response(result, 201, headers={"ETag": f'"{result.get("rev", "")}"'})

    def doc_delete(self, ctx: Ctx, db: str, docid: str) -> Response:
        """Delete a document: `rev` (or `If-Match`) names the revision to delete."""
        rev = rev_from(ctx.query, ctx.header("if-match"))
        dbobj = self.open_db(ctx, db, "write")
        current = _current(dbobj, docid)
        if rev is None:
            if current is None:
                raise NotFound("missing")
            raise Conflict("Document update conflict: give the rev to delete (?rev=...).")
        tombstone = {"_id": docid, "_rev": rev, "_deleted": True}
        self.check_doc_write(ctx, dbobj, db, tombstone, current, fetch_current=False)
        result = _write_result(dbobj.delete(docid, rev), docid)
        self._written(ctx, db, [docid])
        return json_response(result, 200, headers={"ETag": f'"{result.get("rev", "")}"'})

    # --- attachments --------------------------------------------------------------------
    def att_get(self, ctx: Ctx, db: str, docid: str, name: str) -> Response:
        """An attachment's raw bytes with its content type."""
        rev = ctx.query.raw("rev")
        dbobj = self.open_db(ctx, db, "read")
        if self.filters_reads and not self.readable(ctx, db, dbobj.get(docid, rev=rev)):
            raise NotFound("missing")
        data, content_type, digest = dbobj.get_attachment(docid, name, rev=rev)
        headers = {"Cache-Control": "must-revalidate"}
        if digest:
            headers["ETag"] = f'"{digest.split("-", 1)[-1]}"'
            if digest.startswith("md5-"):
                headers["Content-MD5"] = digest[4:]
        if ctx.header("if-none-match") and ctx.header("if-none-match") == headers.get("ETag"):
            return Response(status_code=304, headers=headers)
        media = content_type or "application/octet-stream"
        # Whatever type the writer claimed, the browser must not sniff or run it here.
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        if media.split(";")[0].strip().lower() not in _INLINE_TYPES:
            headers["Content-Disposition"] = "attachment"
        # The stored type exactly, as CouchDB sends it (`media_type` would add a charset).
        headers["Content-Type"] = media
        return Response(data, headers=headers)

    def att_put(self, ctx: Ctx, db: str, docid: str, name: str) -> Response:
        """Add or replace an attachment; body is the raw data, `Content-Type` its type."""
        check_doc_id(docid)
        check_attachment_name(name)
        content_type = ctx.header("content-type") or "application/octet-stream"
        rev = rev_from(ctx.query, ctx.header("if-match"))
        # Counted against the document's limit, as if sent inline (base64 is a third larger).
        self.doc_limits.check(db, {"_id": docid}, len(ctx.body) * 4 // 3)
        self._check_quota(ctx)
        dbobj = self.open_db(ctx, db, "write")
        current = _current(dbobj, docid)
        planned = dict(current or {"_id": docid})
        planned["_attachments"] = dict(planned.get("_attachments") or {})
        # The bytes go to the policy as they came (not base64), so it can judge the content
        # exactly as it judges an inline attachment's `data`.
        planned["_attachments"][name] = {
            "content_type": content_type,
            "length": len(ctx.body),
            "data": ctx.body,
        }
        if rev:
            planned["_rev"] = rev
        self.check_doc_write(ctx, dbobj, db, planned, current, fetch_current=False)
        result = dbobj.put_attachment(docid, name, ctx.body, content_type, rev=rev)
        result = _write_result(result, docid)
        return json_response(result, 201, headers={"ETag": f'"{result.get("rev", "")}"'})

    def att_delete(self, ctx: Ctx, db: str, docid: str, name: str) -> Response:
        """Remove an attachment from a document (`rev` required)."""
        rev = rev_from(ctx.query, ctx.header("if-match"))
        if rev is None:
            raise Conflict("Document update conflict: give the document's rev (?rev=...).")
        dbobj = self.open_db(ctx, db, "write")
        current = _current(dbobj, docid)
        planned = dict(current or {"_id": docid}, _rev=rev)
        planned["_attachments"] = {k: v for k, v in (planned.get("_attachments") or {}).items() if k != name}
        self.check_doc_write(ctx, dbobj, db, planned, current, fetch_current=False)
        result = _write_result(dbobj.delete_attachment(docid, name, rev=rev), docid)
        return json_response(result, 200, headers={"ETag": f'"{result.get("rev", "")}"'})


# Methods the sync endpoints answer; COPY and PATCH are served too so that they get
# CouchDB's JSON 405, not a plain-text one.
SYNC_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "PATCH")


class SyncDoor:
    """The one way into the sync handlers: the ASGI app of `/sync/{tenant_id}/...`.

    An application puts `SyncDispatch` inside its own edge middleware (security headers,
    rate limits, request log), so whatever wraps the application wraps the sync endpoints
    by construction, and only the rest goes on to the framework. A replication is hundreds
    of small requests, and the framework's layers (error and exception middleware, body
    limits, exit stacks, route matching) cost as much server CPU as the sync work itself
    on a pull of small documents; the handler needs none of them: it reads the raw request,
    authenticates it itself and answers every error in the one JSON shape.
    """

    _methods = frozenset(SYNC_METHODS)
    _allow = ", ".join(SYNC_METHODS)

    def __init__(self, api: SyncApi) -> None:
        self.api = api

    def tenant_of(self, scope: Any) -> str | None:
        """The tenant of a sync request this door serves, or None to leave it to the app."""
        if scope["type"] != "http":
            return None
        path = scope["path"]
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root) :]
        if not path.startswith("/sync/"):
            return None
        tenant = path[6:].partition("/")[0]
        return tenant or None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        tenant_id = self.tenant_of(scope)
        if tenant_id is None:
            response = json_response({"error": "not_found", "reason": "missing"}, 404)
        elif scope["method"] not in self._methods:
            response = json_response(
                {"error": "method_not_allowed", "reason": f"Only {self._allow} allowed"},
                405,
                headers={"Allow": self._allow},
            )
        else:
            response = await self._answer(scope, receive, tenant_id)
        await response(scope, receive, send)

    async def _answer(self, scope: Any, receive: Any, tenant_id: str) -> Response:
        try:
            return await self.api.handle(Request(scope, receive), tenant_id)
        except BranchlineError as exc:
            return json_response(exc.body(), exc.status, headers=exc.headers)
        except Exception:  # answered in the one error shape, and logged
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            return json_response({"error": "internal_server_error", "reason": UNEXPECTED_REASON}, 500)


class SyncDispatch:
    """`/sync/{tenant_id}/...` to the door, anything else (lifespan included) to `app`."""

    def __init__(self, door: SyncDoor, app: Callable[[Any, Any, Any], Awaitable[None]]) -> None:
        self.door = door
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.door.tenant_of(scope) is not None:
            await self.door(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# --- module helpers ----------------------------------------------------------------------
def _first(q: Query, *keys: str) -> Any:
    for key in keys:
        if q.has(key):
            return q.json(key)
    return None


def _write_result(result: dict[str, Any], docid: str) -> dict[str, Any]:
    out = {"ok": True, "id": result.get("id", docid), "rev": result.get("rev")}
    return out


def _current(dbobj: Database, docid: str) -> dict[str, Any] | None:
    """The stored winning revision, or None when missing or deleted."""
    try:
        return dbobj.get(docid)
    except NotFound:
        return None


def _currents(dbobj: Database, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = dbobj.all_docs(keys=list(dict.fromkeys(ids)), include_docs=True)["rows"]
    return {r["id"]: r["doc"] for r in rows if r.get("doc")}


def _is_tenant_root(request: Request, tenant_id: str) -> bool:
    """Whether the request is for `/sync/{tenant_id}` or `/sync/{tenant_id}/` itself."""
    path: str = request.scope["path"]
    if path.endswith("/"):
        path = path[:-1]
    return path.endswith("/sync/" + tenant_id)


def _path_segments(request: Request, tenant_id: str) -> list[str]:
    """The percent-decoded segments after `/sync/{tenant_id}/`, from the raw path.

    Kept in the request scope: a request looked at on the event loop first and then
    answered on a worker thread would otherwise parse its path twice.
    """
    cached = request.scope.get("branchline.segments")
    if cached is not None:
        return list(cached)
    segments = _parse_segments(request, tenant_id)
    request.scope["branchline.segments"] = tuple(segments)
    return segments


def _parse_segments(request: Request, tenant_id: str) -> list[str]:
    raw = request.scope.get("raw_path")
    if not raw:
        raw = request.scope["path"].encode("utf-8")
    parts = raw.split(b"/")
    tenant = tenant_id.encode()
    start = None
    for i in range(len(parts) - 1):
        if parts[i] == b"sync" and parts[i + 1] == tenant:
            start = i + 2
            break
    if start is None:  # pragma: no cover - the door serves only /sync/{tenant}/...
        raise NotFound("missing")
    segments = []
    for part in parts[start:]:
        try:
            segments.append(unquote_to_bytes(part).decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest("The request path is not valid UTF-8.") from None
    while segments and segments[-1] == "":
        segments.pop()
    return segments


def build_sync_door(
    get_store: Callable[[], Store],
    authenticate: Callable[[Request, str], Principal],
    policy: AccessPolicy,
    welcome_uuid: Callable[[str], str],
    authenticate_cached: Callable[[Request, str], Principal | None] | None = None,
    doc_limits: DocSizeLimits | None = None,
    quota: TenantQuota | None = None,
) -> SyncDoor:
    """The CouchDB-compatible sync API for every tenant, under `/sync/{tenant_id}/`.

    `authenticate(request, tenant_id)` returns the caller or raises `Unauthorized`;
    `policy` decides database and document access; `welcome_uuid(tenant_id)` is the
    stable server uuid PouchDB uses to name its replication checkpoints.
    `authenticate_cached(request, tenant_id)`, when given, returns the caller without any
    blocking work (credentials verified before) or None; with it, small reads are answered
    on the event loop (see `SyncApi._inline`).

    The CouchDB protocol is left out of the application's OpenAPI document (`api.app`
    describes it in the API's description): its paths hold slashes and document ids that
    OpenAPI's path parameters cannot express, and its answers are CouchDB's.
    """
    return SyncDoor(
        SyncApi(get_store, authenticate, policy, welcome_uuid, authenticate_cached, doc_limits, quota)
    )


__all__ = ["SyncApi", "SyncDispatch", "SyncDoor", "build_sync_door"]


def _body_too_large(limit: int) -> Callable[[int | None], str]:
    def reason(_declared: int | None) -> str:
        return (
            f"The request body is larger than {limit // (1024 * 1024)} MB; send fewer documents per "
            "request, and files through the attachments API."
        )

    return reason
