"""The one list of features the application mounts (routers and start-up hooks)."""
from __future__ import annotations

from fastapi import FastAPI

from .apikeys.endpoints import router as apikeys_router
from .attachments.endpoints import router as attachments_router
from .auth.endpoints import router as auth_router
from .clients.endpoints import router as clients_router
from .exports.endpoints import router as exports_router
from .health import router as health_router
from .insights.endpoints import router as insights_router
from .ratelimit.deps import install as install_rate_limits
from .sessions.endpoints import router as sessions_router
from .starter.endpoints import router as starter_router
from .sync_mount import install_sync
from .tenants.endpoints import router as tenants_router
from .trees.endpoints import router as trees_router
from .users.endpoints import router as users_router


def install(app: FastAPI) -> None:
    for router in (health_router, auth_router, users_router, apikeys_router, tenants_router, trees_router,
                   starter_router, sessions_router, clients_router, exports_router, attachments_router,
                   insights_router):
        app.include_router(router)
    install_sync(app)
    install_rate_limits(app)


def install_hooks(ctx) -> None:
    """Start-up hooks of features that react to events such as a new tenant."""
    from .core.derived import register_part  # noqa: PLC0415
    from .starter.service import on_tenant_created as load_starter  # noqa: PLC0415
    from .trees import library, suggestions  # noqa: PLC0415

    hooks = ctx.extras.setdefault("tenant_created_hooks", [])
    if load_starter not in hooks:
        hooks.append(load_starter)
    register_part(ctx, library.index_part())
    register_part(ctx, suggestions.index_part())
    from .insights.service import index_part as insights_part  # noqa: PLC0415

    register_part(ctx, insights_part(ctx))
    from .sessions.service import install as install_sessions  # noqa: PLC0415

    install_sessions(ctx)  # the sessions listing part, SessionsPolicy for /sync, header merges
    from .attachments.service import install as install_attachments  # noqa: PLC0415

    install_attachments(ctx)  # the reader exports embed images with
    from .exports.formats import configure_image_cache  # noqa: PLC0415

    configure_image_cache(ctx.settings.data_dir / "cache" / "pdf-images")
