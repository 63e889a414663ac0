"""The FastAPI application factory."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from sync.http import SyncFirst

from .apidocs import install_docs
from .core.body_limit import BodyLimitMiddleware
from .core.compression import CompressionMiddleware
from .core.context import AppContext
from .core.errors import install_error_handlers
from .core.security_headers import SecurityHeaders, content_security_policy, storage_origins
from .settings import Settings, get_settings
from .web import default_dist, install_pwa

API_DESCRIPTION = """Branchline's public API (v1). Errors are always JSON `{"error", "reason"}` with
the matching status. Authenticate with `Authorization: Bearer <access token>` (from
`/api/v1/auth/login`) or an API key (Bearer, or HTTP Basic with user `apikey`). Each tenant's
CouchDB-compatible sync databases live under `/sync/{tenant_id}/` (see `GET /api/v1/me`).

The sync endpoints are CouchDB's HTTP API, for PouchDB replication, and are not listed below
(their paths hold database names, document ids and attachment names that OpenAPI cannot
describe): the root (welcome), `_all_dbs`, `_uuids`, `_session`; per database `GET/PUT/DELETE
/{db}`, `_changes` (normal, longpoll, continuous; `_doc_ids` and `_selector` filters),
`_revs_diff`, `_bulk_docs`, `_bulk_get`, `_all_docs`, `_local/{id}`, documents, attachments,
`_revs_limit`, `_security`. Views and filter functions answer 501 `not_implemented`. Errors
are CouchDB's `{error, reason}`."""


class BranchlineApp(SyncFirst, FastAPI):
    """The application; `/sync/` requests skip the middleware stack (see `SyncFrontDoor`).

    Security headers are added out here, around the sync front door too.
    """

    security_headers: SecurityHeaders | None = None

    async def __call__(self, scope, receive, send) -> None:
        if self.security_headers is not None:
            send = self.security_headers.wrap(scope, send)
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
    ctx.workers.start_all()
    try:
        yield
    finally:
        ctx.workers.stop_all()
        if ctx.index_registry is not None:
            ctx.index_registry.close()
        ctx.store.close()


def create_app(settings: Settings | None = None, ctx: AppContext | None = None) -> FastAPI:
    settings = settings or get_settings()
    ctx = compose(settings, ctx)
    app = BranchlineApp(title="Branchline", version="0.1.0", description=API_DESCRIPTION,
                        lifespan=lifespan, docs_url=None, redoc_url=None)
    install_docs(app)
    app.state.ctx = ctx
    app.security_headers = SecurityHeaders(content_security_policy(storage_origins(
        settings.s3_bucket, settings.s3_endpoint, settings.s3_public_endpoint)))
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)

    from . import features  # noqa: PLC0415  (the one list of feature routers)

    features.install(app)
    install_pwa(app, settings.pwa_dist or default_dist())
    app.add_middleware(CompressionMiddleware)
    logging.getLogger("branchline").setLevel(settings.log_level.upper())
    return app
