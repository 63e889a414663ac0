"""Security headers on every answer: pages, API, sync, errors and the placeholder alike.

Applied in the application's edge (`api/core/edge.py`), around the one door that sends
`/sync/` to the sync endpoints and the rest to the framework, so both get them. A response
that sets one of these headers itself (the API docs page, with its own script hash) keeps
its own value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders

# One year, the value browsers' preload lists ask for; sent only on HTTPS answers (a
# browser ignores it over plain HTTP, and a local http:// install must stay reachable).
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(
    connect_origins: tuple[str, ...] = (), frame_ancestors: tuple[str, ...] = ()
) -> str:
    """The policy of the PWA (and of every other answer).

    Scripts only from this origin (Vite emits no inline script; the service worker and its
    registration are files); images may be `blob:` and `data:` (attachments and screenshots
    queued on the device are shown from blobs); requests go to this origin, plus the object
    storage devices upload attachments to through pre-signed URLs (`connect_origins`).
    No framing, unless `frame_ancestors` names the origins that may (see `SecurityHeaders`).
    """
    connect = " ".join(("'self'", *connect_origins))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob: data:",
            "font-src 'self'",
            f"connect-src {connect}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors " + (" ".join(frame_ancestors) or "'none'"),
        )
    )


def storage_origins(
    s3_bucket: str | None, s3_endpoint: str | None, s3_public_endpoint: str | None
) -> tuple[str, ...]:
    """Origins devices upload attachments to, from the storage settings (none for the folder)."""
    if not s3_bucket:
        return ()
    endpoint = s3_public_endpoint or s3_endpoint
    if not endpoint:
        return ("https://*.amazonaws.com",)
    parts = urlsplit(endpoint)
    return (f"{parts.scheme}://{parts.netloc}",)


# Answers that are data, never a page to show in a frame, whatever `embed_csp` allows.
NEVER_FRAMED = ("/api/", "/sync/", "/share/", "/docs", "/openapi.json")


class SecurityHeaders:
    """Adds the headers to the `http.response.start` message of every HTTP answer.

    With `embed_csp` (BRANCHLINE_EMBED_ORIGINS set), the app's own pages carry that policy
    instead, whose `frame-ancestors` lets a PSA show them in a pod or insight, and no
    X-Frame-Options (it cannot name origins; browsers that know `frame-ancestors` ignore it).
    """

    def __init__(self, csp: str, embed_csp: str | None = None) -> None:
        self.common: tuple[tuple[str, str], ...] = (
            ("content-security-policy", csp),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            # For browsers that predate `frame-ancestors`.
            ("x-frame-options", "DENY"),
        )
        # The same headers with the framing policy swapped in and X-Frame-Options left out.
        self.embeddable: tuple[tuple[str, str], ...] | None = (
            None
            if embed_csp is None
            else tuple(
                ("content-security-policy", embed_csp) if name == "content-security-policy" else (name, value)
                for name, value in self.common
                if name != "x-frame-options"
            )
        )

    def wrap(self, scope: Any, send: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        if scope["type"] != "http":
            return send
        https = scope.get("scheme") == "https"
        chosen = self.common
        if self.embeddable is not None and not str(scope.get("path", "")).startswith(NEVER_FRAMED):
            chosen = self.embeddable

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in chosen:
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        return send_with_headers
