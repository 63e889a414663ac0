"""The refresh-token sweep deletes only tokens expired for more than a day."""

from __future__ import annotations

from api.auth.token_sweep import EXPIRED_KEEP_SECONDS, sweep_expired_refresh_tokens
from sync.embedded import EmbeddedStore

NOW = 1_800_000_000.0


def test_only_refresh_tokens_expired_for_more_than_a_day_go(tmp_path):
    store = EmbeddedStore(tmp_path)
    try:
        system = store.create_db("branchline_system")
        for i in range(3):
            system.put(
                {
                    "_id": f"refresh:t1:old{i}",
                    "type": "refresh_token",
                    "expires_at": NOW - EXPIRED_KEEP_SECONDS - 1,
                }
            )
        system.put({"_id": "refresh:t1:recent", "type": "refresh_token", "expires_at": NOW - 60})
        system.put({"_id": "refresh:t1:live", "type": "refresh_token", "expires_at": NOW + 60})
        system.put({"_id": "rtfamily:t1:f", "type": "refresh_family", "expires_at": 0})
        assert sweep_expired_refresh_tokens(system, now=NOW) == {"seen": 5, "deleted": 3}
        left = [r["id"] for r in system.all_docs()["rows"]]
        assert left == ["refresh:t1:live", "refresh:t1:recent", "rtfamily:t1:f"]
        assert sweep_expired_refresh_tokens(system, now=NOW) == {"seen": 2, "deleted": 0}
    finally:
        store.close()
