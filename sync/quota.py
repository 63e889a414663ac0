"""Tenant storage quotas: the bytes a tenant's databases take, against a limit.

Usage is the sum of `sizes.file` over the tenant's databases (SQLite files with their
write-ahead log on the embedded backend, CouchDB's own figure on couchdb), remembered for a
few seconds per tenant: measuring on every write would cost more than the write. A team
can therefore pass its quota by what it writes within that time, which the rate and
document size limits bound. Deleting is never refused, so a full team can make room.

The limit is the instance's default (`BRANCHLINE_TENANT_QUOTA_BYTES`) unless the operator
set one for the tenant (`branchline tenant quota`): the server reads that through
`override_of`, a callback the api layer installs (this package knows nothing of where
it is stored), and remembers it with the measurement, so an override set on the command
line holds within `cache_seconds` on every instance.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import PayloadTooLarge
from .naming import logical_name, tenant_prefix
from .store import Store

_PRUNE_AT = 256  # remembered tenants before the expired ones are dropped

# The tenant's own limit in bytes (0: no quota), or None when the default applies.
OverrideLookup = Callable[[str], "int | None"]


@dataclass(frozen=True)
class Measurement:
    """One measurement of a tenant's databases and the limit that applied then."""

    at: float  # the quota's clock (monotonic), for the cache
    measured_at: float  # Unix time, for people ("measured 12 s ago")
    databases: dict[str, tuple[int, int]] = field(default_factory=dict)  # logical name: (bytes, docs)
    limit: int = 0  # bytes; 0: no quota
    overridden: bool = False  # the limit is the operator's, set for this tenant

    @property
    def used(self) -> int:
        return sum(size for size, _ in self.databases.values())


class TenantQuota:
    def __init__(
        self,
        quota_bytes: int,
        *,
        cache_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        override_of: OverrideLookup | None = None,
    ) -> None:
        self.quota_bytes = quota_bytes
        self.cache_seconds = cache_seconds
        self.override_of = override_of
        self._clock = clock
        self._used: dict[str, Measurement] = {}
        self._lock = threading.Lock()

    def check(self, store: Store, tenant_id: str) -> None:
        """Raise 413 `quota_exceeded` when the tenant's databases already fill its quota."""
        if self.quota_bytes <= 0 and self.override_of is None:
            return
        m = self.measure(store, tenant_id)
        if m.limit > 0 and m.used >= m.limit:
            raise PayloadTooLarge(quota_message(m), error="quota_exceeded")

    def used(self, store: Store, tenant_id: str) -> int:
        return self.measure(store, tenant_id).used

    def forget(self, tenant_id: str) -> None:
        """Measure the tenant afresh at its next check (its limit was just changed here)."""
        with self._lock:
            self._used.pop(tenant_id, None)

    def measure(self, store: Store, tenant_id: str) -> Measurement:
        """The tenant's databases and limit, measured at most once per `cache_seconds`."""
        now = self._clock()
        with self._lock:
            hit = self._used.get(tenant_id)
        if hit is not None and now - hit.at < self.cache_seconds:
            return hit
        prefix = tenant_prefix(tenant_id)
        databases: dict[str, tuple[int, int]] = {}
        for name in store.list_dbs():
            if not name.startswith(prefix):
                continue
            info = store.db(name).info()
            logical = logical_name(tenant_id, name) or name
            databases[logical] = (int(info.get("sizes", {}).get("file", 0)), int(info.get("doc_count", 0)))
        override = self.override_of(tenant_id) if self.override_of is not None else None
        m = Measurement(
            at=now,
            measured_at=time.time(),
            databases=databases,
            limit=self.quota_bytes if override is None else override,
            overridden=override is not None,
        )
        with self._lock:
            if len(self._used) >= _PRUNE_AT:
                # A thousand tenants each measured once must not stay in memory for good.
                self._used = {t: hit for t, hit in self._used.items() if now - hit.at < self.cache_seconds}
            self._used[tenant_id] = m
        return m


def quota_message(m: Measurement) -> str:
    """Why a write was refused: the figures, whose quota it is, and what to do."""
    whose = (
        "the quota the instance operator set for your team (branchline tenant quota)"
        if m.overridden
        else "the instance's default quota per team (BRANCHLINE_TENANT_QUOTA_BYTES)"
    )
    return (
        f"Your team's storage is full: its databases take {format_size(m.used)} of its "
        f"{format_size(m.limit)} quota, "
        f"{whose}. Delete sessions, clients or trees you no longer need (deleting still works; "
        "Team admin > Usage shows what takes the space), or ask the operator of your Branchline "
        "server to raise the quota with `branchline tenant quota`."
    )


def format_size(n: int) -> str:
    """`512 B`, `3.0 KB`, `1.5 MB`, `10.0 GB`: binary units (1 KB = 1024 bytes), one decimal."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} TB"
