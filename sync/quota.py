"""Tenant storage quotas: the bytes a tenant's databases take, against a limit.

Usage is the sum of `sizes.file` over the tenant's databases (SQLite files with their
write-ahead log on the embedded backend, CouchDB's own figure on couchdb), remembered for a
few seconds per tenant: measuring on every write would cost more than the write. A team
can therefore pass its quota by what it writes within that time, which the rate and
document size limits bound. Deleting is never refused, so a full team can make room.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import PayloadTooLarge
from .naming import tenant_prefix
from .store import Store

_PRUNE_AT = 256  # remembered tenants before the expired ones are dropped


class TenantQuota:
    def __init__(
        self, quota_bytes: int, *, cache_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.quota_bytes = quota_bytes
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._used: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def check(self, store: Store, tenant_id: str) -> None:
        """Raise 413 `quota_exceeded` when the tenant's databases already fill its quota."""
        if self.quota_bytes <= 0:
            return
        used = self.used(store, tenant_id)
        if used >= self.quota_bytes:
            raise PayloadTooLarge(
                f"Your team's storage is full: its databases take {_mb(used)} of the {_mb(self.quota_bytes)} "
                "quota (BRANCHLINE_TENANT_QUOTA_BYTES). Delete what you no longer need (deleting still "
                "works), or ask the operator to raise the quota.",
                error="quota_exceeded",
            )

    def used(self, store: Store, tenant_id: str) -> int:
        now = self._clock()
        with self._lock:
            hit = self._used.get(tenant_id)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        prefix = tenant_prefix(tenant_id)
        total = sum(
            int(store.db(name).info().get("sizes", {}).get("file", 0))
            for name in store.list_dbs()
            if name.startswith(prefix)
        )
        with self._lock:
            if len(self._used) >= _PRUNE_AT:
                # A thousand tenants each measured once must not stay in memory for good.
                self._used = {t: hit for t, hit in self._used.items() if now - hit[0] < self.cache_seconds}
            self._used[tenant_id] = (now, total)
        return total


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"
