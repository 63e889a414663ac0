"""The general limits, checked on every request before anything else runs.

The gate is a layer of the application's edge (`api/core/edge.py`), outside the one door
that sends `/sync/` to the sync endpoints and the rest to the framework: no request skips it.

Who is counted:
- a valid access token: its user (one budget per user, whatever the device or path);
- an API key, or Basic e-mail and password, that the server accepted before: those
  credentials (per key, or per user for a password);
- anything else (no credentials, a forged or expired token, credentials not yet accepted):
  the client address. Credentials become known when the server answers them with anything
  but 401, so made-up keys never leave the address's budget.
Signed-in users are not counted per address: an MSP's engineers often share one office
address, and each of them replicating must not use up the others' budget.

The app's own files (the PWA shell, its scripts and icons) are not counted: they are cheap
to serve, and a refused one would fail a service worker's install on every phone of an
office that updates at once.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from sync.http_params import json_response

from .rules import Policy, Verdict, headers, refusal_reason
from .storage import MemoryBuckets

# What is counted: the API, sync, and the server's other dynamic routes.
LIMITED_PREFIXES = ("/api/", "/sync/", "/share/", "/healthz", "/openapi.json", "/docs", "/redoc")

# Credentials remembered as accepted (digests), at most this many.
MAX_ACCEPTED = 20_000


class RequestGate:
    def __init__(
        self,
        token_subject: Callable[[str], str | None],
        *,
        per_user: Policy,
        per_key: Policy,
        per_address: Policy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # The auth feature's check of an access token (`api.auth.service.token_subject`),
        # whose cache verifies each token's signature once.
        self.token_subject = token_subject
        self.per_user = per_user
        self.per_key = per_key
        self.per_address = per_address
        self.clock = clock
        self.buckets = MemoryBuckets()
        self._accepted: set[str] = set()  # digests of API keys and Basic credentials
        self._accepted_lock = threading.Lock()

    def check(self, scope: Any) -> tuple[Any, str | None]:
        """(None, or the 429 response to send; the credentials to learn from the answer)."""
        now = self.clock()
        authorization = _header(scope, b"authorization")
        charge: tuple[str, Policy, str] | None = None
        learn: str | None = None
        user = self._user_of(authorization) if authorization else None
        if user is not None:
            charge = (f"user:{user}", self.per_user, "your account")
        elif authorization:
            credential = _credential_of(authorization)
            if credential is not None:
                kind, digest = credential
                if self._known(digest):
                    charge = (
                        (f"key:{digest}", self.per_key, "this API key")
                        if kind == "key"
                        else (f"basic:{digest}", self.per_user, "your account")
                    )
                else:
                    learn = digest
        if charge is None:
            client = scope.get("client")
            if not client:
                return None, learn
            charge = (f"addr:{client[0]}", self.per_address, "your address")
        key, policy, what = charge
        verdict = self.buckets.take(key, now, policy)
        if not verdict.allowed:
            return _refusal(policy, verdict, what), None
        return None, learn

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        """The application's request gate (`edge.GateLayer`): the `send` to go on
        with, or None once a refusal has been sent."""
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIXES):
            return send
        refused, learn = self.check(scope)
        if refused is not None:
            await refused(scope, receive, send)
            return None
        return _learning(send, self, learn) if learn is not None else send

    def _known(self, digest: str) -> bool:
        with self._accepted_lock:
            return digest in self._accepted

    def accept(self, digest: str) -> None:
        """These credentials were answered (not refused with 401): count them on their own."""
        with self._accepted_lock:
            if len(self._accepted) >= MAX_ACCEPTED:
                self._accepted.clear()
            self._accepted.add(digest)

    def _user_of(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or token.startswith("bl_"):
            return None
        return self.token_subject(token)


def _learning(send: Any, gate: RequestGate, digest: str) -> Any:
    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start" and message["status"] != 401:
            gate.accept(digest)
        await send(message)

    return wrapped


def _refusal(policy: Policy, verdict: Verdict, what: str):
    return json_response(
        {"error": "too_many_requests", "reason": refusal_reason(policy, verdict, what)},
        429,
        headers=headers(policy, verdict),
    )


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def _credential_of(authorization: str) -> tuple[str, str] | None:
    """("key" or "basic", a digest of the credentials) for an API key (Bearer `bl_...`, or
    Basic with user `apikey`) or Basic e-mail and password; None for anything else."""
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value.startswith("bl_"):
        return "key", _digest(value)
    if scheme == "basic" and value:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except Exception:  # noqa: BLE001 - malformed credentials are counted per address only
            return None
        if sep:
            return ("key", _digest(password)) if user == "apikey" else ("basic", _digest(value))
    return None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]
