"""Serving the built PWA at `/`, with deep links falling back to the app shell, each file
in the smallest precompressed copy the browser accepts (see `api.core.compression`)."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from .core.compression import choose_encoding
from .core.errors import allowed_methods, error_response, method_not_allowed

_RESERVED = ("/api/", "/sync/", "/share/", "/docs", "/openapi.json", "/healthz", "/redoc")

_PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Branchline</title></head>
<body style="font-family:system-ui;margin:3rem auto;max-width:36rem;line-height:1.5">
<h1>Branchline</h1><p>The server is running, but the web app has not been built yet.
Run <code>make run</code> from the project folder to build it. The API is at <a href="/docs">/docs</a>.</p>
</body></html>"""


# The suffix pwa/scripts/precompress.mjs gives each coding's copy of a file.
_SUFFIXES = {"br": ".br", "gzip": ".gz"}
# Types Python's table may lack or name differently across versions.
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".webmanifest": "application/manifest+json"}


def media_type(path: Path) -> str:
    kind, coding = mimetypes.guess_type(path.name)
    if coding:  # a compressed copy asked for by its own name is opaque bytes, not the script
        return "application/octet-stream"
    return _TYPES.get(path.suffix) or kind or "application/octet-stream"


def file_response(path: Path, accept_encoding: str | None, headers: dict[str, str]) -> FileResponse:
    """`path`, or its precompressed copy in the coding the browser prefers, with the
    original's Content-Type. Files that have copies always say `Vary: Accept-Encoding`,
    so a cache never hands a br copy to a browser that asked for none."""
    copies = [c for c, suffix in _SUFFIXES.items() if path.with_name(path.name + suffix).is_file()]
    if not copies:
        return FileResponse(path, media_type=media_type(path), headers=headers)
    headers = {**headers, "Vary": "Accept-Encoding"}
    coding = choose_encoding(accept_encoding, copies)
    if coding is None:
        return FileResponse(path, media_type=media_type(path), headers=headers)
    return FileResponse(
        path.with_name(path.name + _SUFFIXES[coding]),
        media_type=media_type(path),
        headers={**headers, "Content-Encoding": coding},
    )


def _branded_manifest(request: Request, default: Path) -> Response | None:
    """On a tenant's verified custom domain, its own manifest (name, colour, icons); None
    elsewhere, where the built one is served as it is."""
    from .brand import service as brand  # noqa: PLC0415  (features import web's callers)

    system = request.app.state.ctx.system
    tenant_id = brand.tenant_for_domain(system, request.headers.get("host", ""))
    if tenant_id is None or not default.is_file():
        return None
    body = brand.manifest(system, tenant_id, json.loads(default.read_text(encoding="utf-8")))
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type=_TYPES[".webmanifest"],
        headers={"Cache-Control": "no-cache", "Vary": "Host"},
    )


def default_dist() -> Path:
    return Path(__file__).resolve().parent.parent / "pwa" / "dist"


def install_pwa(app: FastAPI, dist: Path) -> None:
    dist = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    def pwa(path: str, request: Request):
        if request.url.path.startswith(_RESERVED):
            if allowed_methods(request):  # e.g. GET on a POST-only API route
                return method_not_allowed(request)
            return error_response(
                404, "not_found", f"No route for GET {request.url.path}. See /docs for the API."
            )
        index = dist / "index.html"
        if not index.exists():
            return HTMLResponse(_PLACEHOLDER)
        if path == "manifest.webmanifest":
            branded = _branded_manifest(request, dist / path)
            if branded is not None:
                return branded
        target = (dist / path).resolve()
        if path and target.is_file() and dist in target.parents:
            headers = {}
            if target.name in ("sw.js", "registerSW.js", "manifest.webmanifest") or target.suffix == ".html":
                headers["Cache-Control"] = "no-cache"  # so a new version of the app is picked up
            elif "/assets/" in f"/{path}":
                headers["Cache-Control"] = "public, max-age=31536000, immutable"  # hashed names
            return file_response(target, request.headers.get("accept-encoding"), headers)
        return file_response(index, request.headers.get("accept-encoding"), {"Cache-Control": "no-cache"})

    pwa.reserved = _RESERVED  # type: ignore[attr-defined]  # see `allowed_methods`
