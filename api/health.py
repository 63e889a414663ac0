"""Route: health."""
from __future__ import annotations

from fastapi import APIRouter

from .core.deps import CtxDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(ctx: CtxDep) -> dict:
    """Liveness and readiness: the store answers. No authentication, no tenant data."""
    ctx.system.info()
    return {"status": "ok", "backend": ctx.settings.backend, "version": "0.1.0"}
