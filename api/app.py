"""The FastAPI application factory."""
from __future__ import annotations

import logging
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
/{db}`, `_changes` (normal, longpoll, continuous; `_doc_ids`, `_selector`, design-document and
`_view` filters), `_revs_diff`, `_bulk_docs`, `_bulk_get`, `_all_docs`, `_local/{id}`, documents,
attachments, `_revs_limit`, `_security`, and `_design/{ddoc}/_view/{view}` (map views with `_count`,
`_sum`, `_stats`); design documents' `validate_doc_update` runs on every write. Their JavaScript
runs in a sandbox (QuickJS) with CPU-time and memory limits. Errors are CouchDB's `{error, reason}`."""


class BranchlineApp(SyncFirst, FastAPI):
    """The application; `/sync/` requests skip the middleware stack (see `SyncFrontDoor`).

    Security headers are added out here, around the sync front door too.
    """

    security_headers: SecurityHeaders | None = None

    async def __call__(self, scope, receive, send) -> None:
        if self.security_headers is not None:
            send = self.security_headers.wrap(scope, send)
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, ctx: AppContext | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from .jobs.schedule import start_scheduler, stop_scheduler  # noqa: PLC0415
        from .exports.sandbox import close_pool  # noqa: PLC0415

        start_scheduler(app.state.ctx)
        yield
        close_pool(app.state.ctx)
        stop_scheduler(app.state.ctx)
        registry = app.state.ctx.extras.get("index_registry")
        if registry is not None:
            registry.close()
        app.state.ctx.store.close()

    app = BranchlineApp(title="Branchline", version="0.1.0", description=API_DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    install_docs(app)
    app.state.ctx = ctx or AppContext.create(settings)
    app.security_headers = SecurityHeaders(content_security_policy(storage_origins(
        settings.s3_bucket, settings.s3_endpoint, settings.s3_public_endpoint)))
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)

    from . import features  # noqa: PLC0415  (the one list of feature routers)

    features.install_hooks(app.state.ctx)
    features.install(app)
    install_pwa(app, settings.pwa_dist or default_dist())
    app.add_middleware(CompressionMiddleware)
    logging.getLogger("branchline").setLevel(settings.log_level.upper())
    return app
