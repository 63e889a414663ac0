"""One HTTP request to an RMM, checked and pinned like a PSA call (`api/integrations/transport.py`):
resolved first, refused when it points at a loopback, private, link-local or metadata
address (unless `BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true`), sent to the very address that was
checked, never redirected.

Unlike a PSA note, a script run must not happen twice, so failures are told apart by what
the RMM may have done: a connection that never opened is `network` (nothing reached the
RMM, safe to retry); no answer on a request that changes something (`changes=True`) is
`in_doubt` (the job may have started).
"""

from __future__ import annotations

from typing import Any

import httpx

from ..webhooks.ssrf import Resolver, TargetRefused, resolve_target
from .connector import RmmError


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    json: Any = None,
    data: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    allow_private: bool,
    resolver: Resolver,
    vendor: str,
    changes: bool = False,
) -> httpx.Response:
    try:
        target = resolve_target(url, allow_private=allow_private, resolver=resolver)
    except TargetRefused as exc:
        raise RmmError("refused", f"The {vendor} address is refused: {exc}") from None
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        return client.request(
            method,
            target.pinned_url,
            json=json,
            data=data,
            params=params,
            headers={**headers, "host": target.host_header},
            extensions=extensions,
        )
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise RmmError("network", f"Could not reach {vendor}: {type(exc).__name__}.") from None
    except httpx.HTTPError as exc:
        if changes:
            raise RmmError(
                "in_doubt",
                f"{vendor} did not answer the request that starts the job ({type(exc).__name__}); "
                f"the job may have started, so Branchline did not start it again: check the device's jobs "
                f"in {vendor}.",
            ) from None
        raise RmmError("network", f"{vendor} did not answer: {type(exc).__name__}.") from None


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def classify(response: httpx.Response, vendor: str, what: str) -> RmmError:
    """The error of a non-2xx answer: 401/403 keys, 404 missing, 429 throttled, 5xx outage."""
    status = response.status_code
    detail = _detail(response)
    if status in (401, 403):
        return RmmError(
            "auth",
            f"{vendor} refused the API credentials ({status}{detail}); check them in Integrations.",
            status=status,
        )
    if status == 404:
        return RmmError("not_found", f"{vendor} has no {what} ({status}{detail}).", status=status)
    if status == 429:
        return RmmError(
            "rate_limited",
            f"{vendor} is throttling requests (429); Branchline waits and tries again.",
            status=status,
            retry_after=retry_after(response.headers.get("retry-after")),
        )
    if status >= 500:
        return RmmError(
            "unavailable", f"{vendor} failed ({status}{detail}); Branchline tries again.", status=status
        )
    return RmmError("rejected", f"{vendor} refused the {what} ({status}{detail}).", status=status)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("error_description", "resultCode", "message", "error", "errorMessage"):
            if isinstance(body.get(key), str):
                return f": {body[key][:300]}"
    return ""
