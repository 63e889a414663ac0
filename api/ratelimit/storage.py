"""Where limit state lives.

- `MemoryBuckets`: the general per-caller buckets, in this process. They are consulted on
  every request, sync included, so they must cost microseconds: on the couchdb backend each
  instance keeps its own (N instances behind a load balancer allow up to N times the rate,
  which still bounds a flood; a CouchDB round trip per request would double sync latency).
- `MemoryWindows` / `DocumentWindows`: the counters of expensive work (registrations,
  exports, PDF, uploads). Those requests are rare and cost far more than one small document
  write, so on couchdb every instance counts into the same documents of the system
  database (as the login throttle does) and the limit holds across instances.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from typing import Any, Protocol

from sync.errors import Conflict, NotFound
from sync.store import Database

from ..core.docs import get_or_none, retry_on_conflict, save
from .rules import Bucket, Counter, Policy, Verdict, count, full_at, take

log = logging.getLogger("branchline.ratelimit")

DOC_PREFIX = "ratelimit:"
DOC_TYPE = "ratelimit"
SCHEMA_VERSION = 1
MAX_WRITE_ATTEMPTS = 20
# Buckets kept before full ones (callers idle long enough to have their whole quota back,
# so forgetting them changes nothing) are dropped.
MAX_BUCKETS = 50_000


class MemoryBuckets:
    def __init__(self) -> None:
        self._buckets: dict[str, tuple[Bucket, Policy]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float, p: Policy) -> Verdict:
        with self._lock:
            held = self._buckets.get(key)
            bucket, verdict = take(held[0] if held else None, now, p)
            self._buckets[key] = (bucket, p)
            if len(self._buckets) > MAX_BUCKETS:
                self._forget_full(now)
        return verdict

    def _forget_full(self, now: float) -> None:
        for k in [k for k, (b, p) in self._buckets.items() if full_at(b, p) <= now]:
            del self._buckets[k]


class Windows(Protocol):
    def count(self, key: str, now: float, p: Policy) -> Verdict: ...


class MemoryWindows:
    def __init__(self) -> None:
        self._counters: dict[str, Counter] = {}
        self._lock = threading.Lock()

    def count(self, key: str, now: float, p: Policy) -> Verdict:
        with self._lock:
            counter, verdict = count(self._counters.get(key), now, p)
            self._counters[key] = counter
            if len(self._counters) > MAX_BUCKETS:
                # Counters whose windows both ended say nothing any more.
                for k in [k for k, c in self._counters.items() if c.start + 2 * p.window <= now]:
                    del self._counters[k]
        return verdict


class DocumentWindows:
    """One document per key in a shared database; the id is an HMAC of the key, so neither a
    tenant id nor an address can be read from it. A write with a stale `_rev` conflicts and
    the request is counted again on the fresh document: no count is lost."""

    def __init__(self, db: Database, secret: str) -> None:
        self.db = db
        self._secret = secret.encode()

    def doc_id(self, key: str) -> str:
        return DOC_PREFIX + hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()[:40]

    def count(self, key: str, now: float, p: Policy) -> Verdict:
        docid = self.doc_id(key)

        def attempt() -> Verdict:
            doc = get_or_none(self.db, docid)
            counter, verdict = count(_counter_of(doc), now, p)
            if not verdict.allowed:
                return verdict
            body: dict[str, Any] = {
                "_id": docid,
                "type": DOC_TYPE,
                "schema_version": SCHEMA_VERSION,
                "policy": p.name,
                "start": counter.start,
                "count": counter.count,
                "previous": counter.previous,
            }
            if doc is not None:
                body["_rev"] = doc["_rev"]
            save(self.db, body)
            return verdict

        # Under that much contention, refusing is the safer answer for expensive work.
        return retry_on_conflict(
            attempt,
            busy=f"rate limit: gave up counting {docid}",
            attempts=MAX_WRITE_ATTEMPTS,
            retry_on=(Conflict, NotFound),
            give_up=lambda: Verdict(False, 0, 1),
            backoff_s=0.002,
        )


def _counter_of(doc: dict[str, Any] | None) -> Counter | None:
    if doc is None or doc.get("schema_version") != SCHEMA_VERSION:
        return None
    return Counter(float(doc.get("start", 0.0)), int(doc.get("count", 0)), int(doc.get("previous", 0)))
