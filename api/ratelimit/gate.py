"""The general limits, checked on every request before anything else runs.

`RateLimited` is mixed into the application class ahead of `SyncFirst`, so the check sits in
front of the sync front door and the whole middleware stack alike: `/sync/` requests, which
skip the middleware, cannot skip it.

Who is counted:
- a valid access token: its user (one bucket per user, whatever the device or address);
- an API key: the key (as presented, hashed), and the address it comes from;
- anything else (no credentials, a password, an expired or forged token): the address.
Signed-in users are not counted per address: an MSP's engineers often share one office
address, and each of them replicating must not use up the others' quota.
"""
from __future__ import annotations

import base64
import hashlib
import threading
import time
from typing import Any, Callable

from sync.errors import Unauthorized
from sync.http_params import json_response

from ..auth.tokens import read_access_token
from .rules import Policy, Verdict, headers, refusal_reason
from .storage import MemoryBuckets

# Verified tokens kept (token -> user id and expiry), so a signature is checked once per token.
MAX_CACHED_TOKENS = 20_000


class RequestGate:
    def __init__(self, secret: str, *, per_user: Policy, per_key: Policy, per_address: Policy,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.secret = secret
        self.per_user = per_user
        self.per_key = per_key
        self.per_address = per_address
        self.clock = clock
        self.buckets = MemoryBuckets()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._tokens_lock = threading.Lock()

    def check(self, scope: Any):
        """None when the request may go on, else the 429 response to send."""
        now = self.clock()
        authorization = _header(scope, b"authorization")
        charges: list[tuple[str, Policy, str]] = []
        user = self._user_of(authorization) if authorization else None
        if user is not None:
            charges.append((f"user:{user}", self.per_user, "your account"))
        else:
            key = _api_key_of(authorization) if authorization else None
            if key is not None:
                digest = hashlib.sha256(key.encode()).hexdigest()[:32]
                charges.append((f"key:{digest}", self.per_key, "this API key"))
            client = scope.get("client")
            if client:
                charges.append((f"addr:{client[0]}", self.per_address, "your address"))
        for key, policy, what in charges:
            verdict = self.buckets.take(key, now, policy)
            if not verdict.allowed:
                return _refusal(policy, verdict, what)
        return None

    def _user_of(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or token.startswith("bl_"):
            return None
        with self._tokens_lock:
            hit = self._tokens.get(token)
        if hit is not None:
            return hit[0] if hit[1] > time.time() else None
        try:
            claims = read_access_token(self.secret, token)
        except Unauthorized:
            return None
        with self._tokens_lock:
            if len(self._tokens) >= MAX_CACHED_TOKENS:
                self._tokens.clear()
            self._tokens[token] = (f"{claims['tid']}:{claims['sub']}", float(claims["exp"]))
        return f"{claims['tid']}:{claims['sub']}"


class RateLimited:
    """Mix-in for the application class: every HTTP request passes `rate_gate` first."""

    rate_gate: RequestGate | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        gate = self.rate_gate
        if gate is not None and scope["type"] == "http":
            refused = gate.check(scope)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await super().__call__(scope, receive, send)  # type: ignore[misc]


def _refusal(policy: Policy, verdict: Verdict, what: str):
    return json_response({"error": "too_many_requests", "reason": refusal_reason(policy, verdict, what)},
                         429, headers=headers(policy, verdict))


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def _api_key_of(authorization: str) -> str | None:
    """The API key presented (Bearer `bl_...`, or Basic with user `apikey`), if any."""
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value.startswith("bl_"):
        return value
    if scheme == "basic" and value:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except Exception:  # noqa: BLE001 - malformed credentials are counted per address only
            return None
        if sep and user == "apikey":
            return password
    return None
