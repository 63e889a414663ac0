"""An OAuth 2.0 access token kept per connector configuration, fetched again when it expires
or the RMM says it is no longer valid (401)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_lock = threading.Lock()
_tokens: dict[str, tuple[str, float]] = {}


def cached(key: str, fetch: Callable[[], tuple[str, float]]) -> str:
    """The token for `key` (a hash of the credentials), fetched when absent or about to expire."""
    with _lock:
        found = _tokens.get(key)
    if found is not None and found[1] > time.monotonic() + 30:
        return found[0]
    token, expires_in = fetch()
    with _lock:
        _tokens[key] = (token, time.monotonic() + expires_in)
    return token


def forget(key: str) -> None:
    with _lock:
        _tokens.pop(key, None)
