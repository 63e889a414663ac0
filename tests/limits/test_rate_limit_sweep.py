"""The rate-limit sweep deletes only counters whose window started more than a day ago."""

from __future__ import annotations

from api.ratelimit.rules import Policy
from api.ratelimit.storage import DocumentWindows
from api.ratelimit.sweep import STALE_SECONDS, sweep_stale_counters
from sync.embedded import EmbeddedStore

NOW = 1_800_000_000.0


def test_counters_idle_for_a_day_go_and_a_recounted_key_starts_afresh(tmp_path):
    store = EmbeddedStore(tmp_path)
    try:
        system = store.create_db("branchline_system")
        windows = DocumentWindows(system, "k" * 40)
        exports = Policy("exports", 2, 60)
        for key in ("tenant-a", "tenant-b"):
            assert windows.count(key, NOW - STALE_SECONDS - 120, exports).allowed
        assert windows.count("tenant-b", NOW - 30, exports).allowed  # b is in use
        system.put({"_id": "refresh:t:x", "type": "refresh_token", "expires_at": 0})  # not a counter
        assert sweep_stale_counters(system, now=NOW) == {"seen": 2, "deleted": 1}
        assert [r["id"] for r in system.all_docs()["rows"]] == sorted(
            [windows.doc_id("tenant-b"), "refresh:t:x"]
        )
        # The swept key counts from zero, as it would have once its windows had passed.
        assert windows.count("tenant-a", NOW, exports).remaining == 1
    finally:
        store.close()
