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


def content_security_policy(connect_origins: tuple[str, ...] = ()) -> str:
    """The policy of the PWA (and of every other answer).

    Scripts only from this origin (Vite emits no inline script; the service worker and its
    registration are files); images may be `blob:` and `data:` (attachments and screenshots
    queued on the device are shown from blobs); requests go to this origin, plus the object
    storage devices upload attachments to through pre-signed URLs (`connect_origins`).
    No framing anywhere: nothing of Branchline is meant to be embedded.
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
            "frame-ancestors 'none'",
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


class SecurityHeaders:
    """Adds the headers to the `http.response.start` message of every HTTP answer."""

    def __init__(self, csp: str) -> None:
        self.common = (
            ("content-security-policy", csp),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            # For browsers that predate `frame-ancestors`.
            ("x-frame-options", "DENY"),
        )

    def wrap(self, scope: Any, send: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        if scope["type"] != "http":
            return send
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.common:
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        return send_with_headers
