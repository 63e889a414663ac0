"""Throttling of failed sign-ins, per account and per client address.

Kept in process memory: enough for the embedded single-process default. Several instances
behind a load balancer each throttle on their own, which multiplies the allowance by the
instance count (noted for the CouchDB-backend issue).
"""
from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

from sync.errors import TooManyRequests


class LoginThrottle:
    def __init__(self, *, per_account: int, per_address: int, window_s: float, lockout_s: float,
                 clock=time.monotonic) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def _keys(self, account: str | None, address: str | None) -> list[tuple[str, int]]:
        keys = []
        if account:
            keys.append((f"acct:{account.lower()}", self.per_account))
        if address:
            keys.append((f"addr:{address}", self.per_address))
        return keys

    def check(self, account: str | None, address: str | None) -> None:
        """Raise 429 with Retry-After when the account or the address is locked out."""
        now = self._clock()
        with self._lock:
            for key, _limit in self._keys(account, address):
                until = self._locked_until.get(key, 0)
                if until > now:
                    wait = max(1, math.ceil(until - now))
                    what = "this account" if key.startswith("acct:") else "your address"
                    raise TooManyRequests(
                        f"Too many failed sign-ins for {what}. Wait {wait} seconds and try again, "
                        "or ask an admin to reset the password.",
                        headers={"Retry-After": str(wait)},
                    )

    def failure(self, account: str | None, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key, limit in self._keys(account, address):
                q = self._failures[key]
                q.append(now)
                while q and q[0] < now - self.window_s:
                    q.popleft()
                if len(q) >= limit:
                    # Each further lockout in the window doubles, so scripted guessing slows fast.
                    extra = len(q) - limit
                    self._locked_until[key] = now + self.lockout_s * (2 ** min(extra, 6))

    def success(self, account: str | None) -> None:
        if not account:
            return
        with self._lock:
            key = f"acct:{account.lower()}"
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)
