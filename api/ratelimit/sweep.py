"""The scheduled sweep of stale rate-limit counters (couchdb backend).

`DocumentWindows` keeps one `ratelimit:` document per counted key (a tenant, a user, a
client address) in the system database, and nothing else ever removes one. A counter whose
window started more than `STALE_SECONDS` ago says nothing any more (the longest window is an
hour, and a sliding window looks back one window), so the sweep deletes it; the next
request of that key starts a fresh counter, exactly as it would have. It runs as a cluster
job (`api.jobs`); the embedded backend counts in memory and has nothing to sweep.
"""

from __future__ import annotations

import time
from typing import Any

from sync.store import Database

from ..jobs.sweep import delete_where
from .storage import DOC_PREFIX, DOC_TYPE

STALE_SECONDS = 86400


def stale(doc: dict[str, Any], now: float) -> bool:
    """Whether a counter's window started more than a day ago."""
    return doc.get("type") == DOC_TYPE and float(doc.get("start", now)) < now - STALE_SECONDS


def sweep_stale_counters(system: Database, now: float | None = None) -> dict[str, int]:
    """Delete the rate-limit counters idle for more than a day; counts of what was seen and deleted."""
    at = time.time() if now is None else now
    return delete_where(system, DOC_PREFIX, lambda doc: stale(doc, at))
