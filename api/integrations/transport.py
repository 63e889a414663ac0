"""One HTTP request to a PSA, checked and pinned like a webhook delivery (`api/webhooks/ssrf.py`).

PSA addresses come from an admin's setting (ConnectWise's site URL) or from the vendor's
answer (Autotask's zone URL), so every request is resolved first, refused when it points at
a loopback, private, link-local or metadata address (unless
`BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true`), sent to the very address that was checked, and
never redirected. Network failures become a retryable `PsaError`; any HTTP answer is
returned for the connector to read.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..webhooks.ssrf import Resolver, TargetRefused, resolve_target
from .connector import PsaError


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: Any = None,
    allow_private: bool,
    resolver: Resolver,
    vendor: str,
) -> httpx.Response:
    try:
        target = resolve_target(url, allow_private=allow_private, resolver=resolver)
    except TargetRefused as exc:
        raise PsaError("refused", f"The {vendor} address is refused: {exc}") from None
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        return client.request(
            method,
            target.pinned_url,
            json=body,
            headers={**headers, "host": target.host_header},
            extensions=extensions,
        )
    except httpx.TimeoutException:
        raise PsaError("network", f"{vendor} did not answer in time.") from None
    except httpx.HTTPError as exc:
        raise PsaError("network", f"Could not reach {vendor}: {type(exc).__name__}: {exc}"[:500]) from None


def retry_after(value: str | None) -> float | None:
    """Seconds of a `Retry-After` header (the delta form vendors send); None when absent or odd."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
