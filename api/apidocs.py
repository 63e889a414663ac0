"""The interactive API docs at `/docs`, served entirely from this server.

FastAPI's default page loads Swagger UI from a CDN, so it is blank offline or on a network
that blocks it, and it needs a policy that trusts a third party's scripts. Here the assets
come from the `swagger-ui-py` package (Swagger UI 5, which reads OpenAPI 3.1) and the page's
one inline script is allowed by its hash, not by `'unsafe-inline'`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from .core.errors import error_response

ASSETS_URL = "/docs/assets"
# The only files served from the package: the page needs these three.
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def assets_dir() -> Path:
    import swagger_ui  # noqa: PLC0415  (only the docs need it)

    return Path(swagger_ui.__file__).resolve().parent / "static"


def page_policy(html: str) -> str:
    """A CSP for one docs page: the page's inline scripts by hash, Swagger UI's own needs.

    Swagger UI sets inline styles and shows `data:` images; everything else stays as strict
    as the app's policy.
    """
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _with_policy(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = page_policy(bytes(response.body).decode())
    return response


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` (and its OAuth2 redirect page) from local assets; `/redoc` points there.

    The app must be created with `docs_url=None, redoc_url=None`.
    """
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = "/docs/oauth2-redirect"

    @lru_cache(maxsize=1)
    def page() -> bytes:
        return bytes(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - API docs",
                swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
                oauth2_redirect_url=oauth2_redirect,
            ).body
        )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return _with_policy(HTMLResponse(page()))

    @app.get(oauth2_redirect, include_in_schema=False)
    def docs_oauth2_redirect() -> HTMLResponse:
        return _with_policy(get_swagger_ui_oauth2_redirect_html())

    @app.get(ASSETS_URL + "/{name}", include_in_schema=False)
    def docs_asset(name: str):
        if name not in _ASSETS:
            return error_response(404, "not_found", f"No docs asset {name!r}; the docs page is at /docs.")
        return FileResponse(
            assets_dir() / name, media_type=_ASSETS[name], headers={"Cache-Control": "public, max-age=86400"}
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=308)
