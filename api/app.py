"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from sync.http import SyncDispatch, SyncDoor

from .apidocs import install_docs
from .auth.passwords import FAST_HASHING_VARIABLE, fast_hashing
from .core.body_limit import BodyLimitMiddleware
from .core.compression import CompressionMiddleware
from .core.context import AppContext
from .core.direct import DirectRoutes
from .core.edge import ASGIApp, RequestStats, build_edge
from .core.errors import install_error_handlers
from .core.gc_tuning import tune_after_startup
from .core.security_headers import SecurityHeaders, content_security_policy, storage_origins
from .core.version import VERSION
from .ratelimit.deps import request_gate
from .settings import Settings, get_settings
from .sync_mount import start_sync_history, sync_door
from .web import default_dist, install_pwa

API_DESCRIPTION = """Branchline's public API (v1). Errors are always JSON `{"error", "reason"}` with
the matching status. Authenticate with `Authorization: Bearer <access token>` (from
`/api/v1/auth/login`) or an API key (Bearer, or HTTP Basic with user `apikey`). Each tenant's
CouchDB-compatible sync databases live under `/sync/{tenant_id}/` (see `GET /api/v1/me`).

The sync endpoints are CouchDB's HTTP API, for PouchDB replication, and are not listed below
(their paths hold database names, document ids and attachment names that OpenAPI cannot
describe): the root (welcome), `_all_dbs`, `_uuids`, `_session`; per database `GET/PUT/DELETE
/{db}`, `_changes` (normal, longpoll, continuous; `_doc_ids`, `_selector`, design-document and
`_view` filters), `_revs_diff`, `_bulk_docs`, `_bulk_get`, `_all_docs`, `_local/{id}`, documents,
attachments, `_revs_limit`, `_security`, and `_design/{ddoc}/_view/{view}` (map views with `_count`,
`_sum`, `_stats`); design documents' `validate_doc_update` runs on every write. Their JavaScript
runs in a sandbox (QuickJS) with CPU-time and memory limits. Errors are CouchDB's `{error, reason}`."""


class BranchlineApp(FastAPI):
    """The application. Every request enters through `edge` (`api/core/edge.py`): the
    request log, security headers and rate limits, then the one door that sends `/sync/`
    to the sync endpoints and the rest to FastAPI's own stack."""

    edge: ASGIApp | None = None
    sync_door: SyncDoor | None = None
    direct_routes: DirectRoutes
    request_stats: RequestStats | None = None

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if self.edge is None:
            await super().__call__(scope, receive, send)
        else:
            await self.edge(scope, receive, send)

    async def framework(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        """FastAPI's own stack: middleware, error handlers, routes (everything but /sync/)."""
        await super().__call__(scope, receive, send)


def compose(settings: Settings, ctx: AppContext | None = None) -> AppContext:
    """The application's parts, built in this one place: the context, then every feature's
    part of it (`features.install_hooks`), then the check that nothing required is missing
    (a missing sync policy stops start-up here)."""
    from . import features  # noqa: PLC0415  (the one list of features)

    ctx = ctx or AppContext.create(settings)
    features.install_hooks(ctx)
    ctx.require_parts()
    return ctx


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Starts the background workers the features registered; at shutdown stops them all
    (so no thread of ours outlives the app), then closes the indexes and the store."""
    ctx: AppContext = app.state.ctx
    if fast_hashing():
        logging.getLogger("branchline").warning(
            "%s is set: passwords are hashed at Argon2's smallest cost, which is for the test "
            "suite only. Unset it on any server that holds real accounts.",
            FAST_HASHING_VARIABLE,
        )
    close_history = start_sync_history(ctx)
    ctx.workers.start_all()
    tune_after_startup()  # start-up objects out of the collector's way (api/core/gc_tuning.py)
    try:
        yield
    finally:
        ctx.workers.stop_all()
        if ctx.index_registry is not None:
            ctx.index_registry.close()
        ctx.store.close()
        close_peers = getattr(ctx.store, "close_peers", None)
        if close_peers is not None:
            close_peers()
        close_history()  # last: a process stopped this far stopped cleanly


def create_app(settings: Settings | None = None, ctx: AppContext | None = None) -> BranchlineApp:
    settings = settings or get_settings()
    ctx = compose(settings, ctx)
    app = BranchlineApp(
        title="Branchline",
        version=VERSION,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.state.ctx = ctx
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    app.direct_routes = DirectRoutes(ctx, app.framework)

    from . import features  # noqa: PLC0415  (the one list of feature routers)

    features.install(app)
    install_pwa(app, settings.pwa_dist or default_dist())
    app.add_middleware(CompressionMiddleware)
    # The direct routes inside the same REST middleware, in the same order.
    app.direct_routes.wrap(BodyLimitMiddleware)
    app.direct_routes.wrap(CompressionMiddleware)
    app.sync_door = sync_door(ctx)
    app.request_stats = RequestStats()
    uploads = storage_origins(settings.s3_bucket, settings.s3_endpoint, settings.s3_public_endpoint)
    headers = SecurityHeaders(
        content_security_policy(uploads),
        content_security_policy(uploads, settings.frame_ancestors) if settings.frame_ancestors else None,
    )
    app.edge = build_edge(
        SyncDispatch(app.sync_door, app.direct_routes),
        headers=headers,
        gate=request_gate(ctx),
        stats=app.request_stats,
    )
    logging.getLogger("branchline").setLevel(settings.log_level.upper())
    return app
