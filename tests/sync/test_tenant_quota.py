"""The tenant quota remembers measurements briefly, and not for every tenant forever."""

from __future__ import annotations

from sync.embedded import EmbeddedStore
from sync.quota import TenantQuota


def test_the_quota_forgets_tenants_it_measured_long_ago(tmp_path):
    store = EmbeddedStore(tmp_path)
    now = [0.0]
    quota = TenantQuota(10**9, cache_seconds=30, clock=lambda: now[0])
    for i in range(1000):
        quota.used(store, f"tenant{i}")
        now[0] += 1.0
    # At most the tenants measured within the last 30 s, plus those since the last prune.
    assert len(quota._used) <= 256 + 30
    store.close()
