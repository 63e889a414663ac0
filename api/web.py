"""Serving the built PWA at `/`, with deep links falling back to the app shell."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse

from .core.errors import error_response

_RESERVED = ("/api/", "/sync/", "/docs", "/openapi.json", "/healthz", "/redoc")

_PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Branchline</title></head>
<body style="font-family:system-ui;margin:3rem auto;max-width:36rem;line-height:1.5">
<h1>Branchline</h1><p>The server is running, but the web app has not been built yet.
Run <code>make run</code> from the project folder to build it. The API is at <a href="/docs">/docs</a>.</p>
</body></html>"""


def default_dist() -> Path:
    return Path(__file__).resolve().parent.parent / "pwa" / "dist"


def install_pwa(app: FastAPI, dist: Path) -> None:
    dist = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    def pwa(path: str, request: Request):
        if request.url.path.startswith(_RESERVED):
            return error_response(404, "not_found", f"No route for GET {request.url.path}. See /docs for the API.")
        index = dist / "index.html"
        if not index.exists():
            return HTMLResponse(_PLACEHOLDER)
        target = (dist / path).resolve()
        if path and target.is_file() and dist in target.parents:
            headers = {}
            if target.name in ("sw.js", "registerSW.js", "manifest.webmanifest") or target.suffix == ".html":
                headers["Cache-Control"] = "no-cache"  # so a new version of the app is picked up
            elif "/assets/" in f"/{path}":
                headers["Cache-Control"] = "public, max-age=31536000, immutable"  # hashed names
            return FileResponse(target, headers=headers)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
