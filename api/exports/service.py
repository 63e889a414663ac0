"""Exports: a session, read through the sessions feature, rendered in the format asked for.

Tenant defaults (`exportcfg:`) and template overrides (`exporttpl:`) live in the system
database (`repository.py`); the rendering itself is pure (`render.py`, `formats.py`).
Attachment bytes come from whatever reader the attachments feature registers in
`ctx.attachment_reader` (`(ctx, tenant_id, attachment_id) -> bytes | None`);
without one, attachments are listed but not embedded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, NotFound

from ..brand import service as brand_service
from ..core.context import AppContext
from ..tenants.repository import get_tenant
from ..users.repository import get_user
from . import formats, repository as repo, templates as tpl
from .render import DEFAULT_OPTIONS, build_export_model
from .sandbox import pool_for

FORMATS = ("markdown", "text", "html", "pdf", "json", "connectwise")
MEDIA = {
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "text": ("text/plain; charset=utf-8", "txt"),
    "html": ("text/html; charset=utf-8", "html"),
    "pdf": ("application/pdf", "pdf"),
    "json": ("application/json", "json"),
    "connectwise": ("application/json", "connectwise.json"),
}
SAMPLE_BUNDLE = Path(__file__).parent / "sample_session.json"
# What a template is checked against as `brand` (None for a tenant without one, which a
# template must also handle: the built-in ones test `{% if brand %}`).
SAMPLE_BRAND = {
    "name": "Example MSP",
    "color": "#1d4ed8",
    "on_color": "#ffffff",
    "logo": "data:,",
    "footer": "Prepared by Example MSP",
}


@dataclass
class ExportResult:
    body: bytes
    media_type: str
    filename: str
    used_fallback: bool = False


def tenant_options(ctx: AppContext, tenant_id: str) -> dict[str, bool]:
    doc = repo.get_settings_doc(ctx.system, tenant_id)
    stored = doc.get("options", {}) if doc else {}
    return {k: bool(stored.get(k, v)) for k, v in DEFAULT_OPTIONS.items()}


def save_tenant_options(ctx: AppContext, who: Principal, options: dict[str, bool | None]) -> dict[str, bool]:
    merged = {**tenant_options(ctx, who.tenant_id), **{k: v for k, v in options.items() if v is not None}}
    repo.put_settings(ctx.system, who.tenant_id, merged, who.user_id)
    return merged


def _template_source(ctx: AppContext, tenant_id: str, fmt: str) -> str | None:
    if fmt not in tpl.OVERRIDABLE:
        return None
    doc = repo.get_template_doc(ctx.system, tenant_id, fmt)
    return doc.get("source") if doc else None


def _names(ctx: AppContext, tenant_id: str, state: dict, header: dict) -> dict[str, str]:
    ids = {header.get("owner_id")}
    for item in [*state.get("path", []), *state.get("custom_steps", []), *state.get("tried", [])]:
        ids.add(item.get("user_id"))
    for notes in state.get("notes", {}).values():
        ids.update(n.get("user_id") for n in notes)
    names = {}
    for uid in ids:
        if isinstance(uid, str) and uid:
            user = get_user(ctx.system, tenant_id, uid)
            if user and isinstance(user.get("display_name"), str):
                names[uid] = user["display_name"]
    return names


def attachment_fetcher(ctx: AppContext, tenant_id: str, session_id: str):
    reader = ctx.attachment_reader
    if reader is None:
        return None
    # Scoped to the session: an event naming another session's attachment id must not pull
    # that file into this export.
    return lambda attachment_id: reader(ctx, tenant_id, attachment_id, session_id=session_id)


def session_model(
    ctx: AppContext, who: Principal, session_id: str, overrides: dict[str, bool | None]
) -> tuple[dict, dict]:
    """The view model of a session the caller may read, with the tenant's defaults applied."""
    from ..sessions.service import get_session_bundle  # noqa: PLC0415  (sessions import exports' callers)

    bundle = get_session_bundle(ctx, who, session_id)
    options = {**tenant_options(ctx, who.tenant_id), **{k: v for k, v in overrides.items() if v is not None}}
    tenant = get_tenant(ctx.system, who.tenant_id)
    names = _names(ctx, who.tenant_id, bundle["state"], bundle["header"])
    return build_export_model(bundle, options, tenant, names), bundle["state"]


def export_session(
    ctx: AppContext,
    who: Principal,
    session_id: str,
    fmt: str,
    overrides: dict[str, bool | None],
    cancel: threading.Event | None = None,
) -> ExportResult:
    """The session exported in `fmt`, with its media type and download file name. A tenant
    template renders in the sandbox pool; `cancel` (client gone) stops it."""
    if fmt not in FORMATS:
        raise BadRequest(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.")
    model, state = session_model(ctx, who, session_id, overrides)
    media, ext = MEDIA[fmt]
    filename = f"{model['filename']}.{ext}"
    source = _template_source(ctx, who.tenant_id, fmt)
    fetch = attachment_fetcher(ctx, who.tenant_id, session_id)
    renderer = _sandboxed(ctx, who.tenant_id, cancel) if source is not None else None
    if fmt == "markdown":
        return ExportResult(formats.render_markdown(model).encode(), media, filename)
    if fmt == "text":
        return ExportResult(formats.render_text(model).encode(), media, filename)
    if fmt == "json":
        return ExportResult(formats.render_json(model, state), media, filename)
    if fmt == "html":
        brand = brand_service.get_brand(ctx.system, who.tenant_id)
        out = formats.render_html(model, fetch, source, renderer, brand)
        return ExportResult(out.body.encode(), media, filename, out.used_fallback)
    if fmt == "pdf":
        brand = brand_service.get_brand(ctx.system, who.tenant_id)
        logo = brand_service.logo_bytes(ctx.system, who.tenant_id)
        out = formats.render_pdf(model, fetch, source, renderer, brand, logo[0] if logo else None)
        return ExportResult(out.body, media, filename, out.used_fallback)
    out = formats.render_connectwise(model, source, renderer)
    return ExportResult(
        json.dumps(out.body, ensure_ascii=False, indent=2).encode(), media, filename, out.used_fallback
    )


# --- tenant templates -----------------------------------------------------------------------


def _check_format(fmt: str) -> None:
    if fmt not in tpl.OVERRIDABLE:
        raise BadRequest(
            f"Only the {', '.join(tpl.OVERRIDABLE)} templates can be overridden; "
            f"{fmt!r} is not one of them (Markdown and text stay built in so the "
            "app renders them offline exactly as the server does)."
        )


def get_template(ctx: AppContext, who: Principal, fmt: str) -> dict[str, Any]:
    """The tenant's template for `fmt`, or the built-in one (`custom: false`)."""
    _check_format(fmt)
    doc = repo.get_template_doc(ctx.system, who.tenant_id, fmt)
    if doc:
        return {
            "format": fmt,
            "custom": True,
            "source": doc["source"],
            "updated_at": doc.get("updated_at"),
            "updated_by": doc.get("updated_by"),
        }
    return {
        "format": fmt,
        "custom": False,
        "source": tpl.builtin_source(fmt),
        "updated_at": None,
        "updated_by": None,
    }


@lru_cache(maxsize=1)
def sample_models() -> tuple[dict, dict]:
    """Two models a template must render: a full session and an empty one."""
    bundle = json.loads(SAMPLE_BUNDLE.read_text(encoding="utf-8"))
    full = build_export_model(
        bundle, bundle.get("options"), bundle.get("tenant"), bundle.get("engineer_names")
    )
    empty = build_export_model(
        {"header": None, "events": [], "tree": bundle["tree"], "client": None}, {}, None, {}
    )
    return full, empty


def _sandboxed(ctx: AppContext, tenant_id: str, cancel: threading.Event | None) -> formats.TenantRenderer:
    return partial(pool_for(ctx).render, tenant_id=tenant_id, cancel=cancel)


def check_template(fmt: str, source: str, renderer: formats.TenantRenderer | None = None) -> None:
    """Compile `source` in the sandbox and render it against sample sessions (a dry run under
    the same limits as an export); a problem is a 400 naming the line and the error."""
    render = renderer or formats.render_in_process
    try:
        for model in sample_models():
            images = {a["id"]: "data:," for h in model["steps"] for a in h["attachments"] if a["is_image"]}
            render(fmt, source, {"m": model, "images": images, "brand": SAMPLE_BRAND})
    except tpl.TemplateProblem as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise BadRequest(
            f"The {fmt} template was not saved: {where}{exc.message}. Fix it and save again.",
            details={"line": exc.line, "message": exc.message},
        ) from None


def put_template(
    ctx: AppContext, who: Principal, fmt: str, source: str, cancel: threading.Event | None = None
) -> dict[str, Any]:
    _check_format(fmt)
    check_template(fmt, source, _sandboxed(ctx, who.tenant_id, cancel))
    repo.put_template(ctx.system, who.tenant_id, fmt, source, who.user_id)
    return get_template(ctx, who, fmt)


def delete_template(ctx: AppContext, who: Principal, fmt: str) -> None:
    _check_format(fmt)
    if not repo.delete_template(ctx.system, who.tenant_id, fmt):
        raise NotFound(f"This tenant has no {fmt} template of its own; the built-in one is in use.")
