"""An OAuth 2.0 access token kept per connector configuration, fetched again when it expires
or the RMM says it is no longer valid (401)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..webhooks.ssrf import Resolver
from .transport import classify, send

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


class BearerApi:
    """An RMM's REST API reached with an OAuth bearer token (NinjaOne, Datto RMM).

    Subclasses set `client`, `allow_private`, `resolver` and `_key` (a hash of the
    credentials), and say how a token is fetched (`_token`) and where a path lives (`_url`).
    """

    vendor: str
    client: httpx.Client
    allow_private: bool
    resolver: Resolver
    _key: str

    def _token(self) -> tuple[str, float]:
        raise NotImplementedError

    def _url(self, path: str) -> str:
        raise NotImplementedError

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        changes: bool = False,
    ) -> httpx.Response:
        """The API's answer; a 401 fetches a fresh token once (expired or revoked early), any
        other answer of 300 or more is raised as an `RmmError` naming `what` was asked."""
        for attempt in (1, 2):
            token = cached(self._key, self._token)
            r = send(
                self.client,
                method,
                self._url(path),
                headers={"authorization": f"Bearer {token}", "accept": "application/json"},
                json=json_body,
                params=params,
                allow_private=self.allow_private,
                resolver=self.resolver,
                vendor=self.vendor,
                changes=changes,
            )
            if r.status_code == 401 and attempt == 1:
                forget(self._key)
                continue
            if r.status_code >= 300:
                raise classify(r, self.vendor, what)
            return r
        raise AssertionError("unreachable")
