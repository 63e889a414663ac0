"""The tenant quota remembers measurements briefly, and not for every tenant forever."""

from __future__ import annotations

import pytest

from sync.embedded import EmbeddedStore
from sync.errors import PayloadTooLarge
from sync.naming import physical_name
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


def test_an_override_replaces_the_default_and_is_read_once_per_measurement(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.create_db(physical_name("tenanta", "clients"))
    store.create_db(physical_name("tenantb", "clients"))
    now = [0.0]
    overrides = {"tenanta": 1}  # one byte: tenanta is full
    asked: list[str] = []

    def override_of(tenant_id: str) -> int | None:
        asked.append(tenant_id)
        return overrides.get(tenant_id)

    quota = TenantQuota(10**9, cache_seconds=30, clock=lambda: now[0], override_of=override_of)
    with pytest.raises(PayloadTooLarge) as refused:
        quota.check(store, "tenanta")
    assert refused.value.error == "quota_exceeded"
    assert "of its 1 B quota, the quota the instance operator set for your team" in refused.value.reason
    assert "branchline tenant quota" in refused.value.reason
    quota.check(store, "tenantb")  # the default: far from full
    m = quota.measure(store, "tenanta")
    assert m.overridden and m.limit == 1 and set(m.databases) == {"clients"}
    assert not quota.measure(store, "tenantb").overridden
    assert asked == ["tenanta", "tenantb"]  # remembered with the measurement

    overrides["tenanta"] = 0  # the operator lifts it: no quota at all
    with pytest.raises(PayloadTooLarge):
        quota.check(store, "tenanta")  # within the cache time the old limit still holds...
    quota.forget("tenanta")
    quota.check(store, "tenanta")  # ...measured again, it is gone
    assert quota.measure(store, "tenanta").limit == 0
    store.close()
