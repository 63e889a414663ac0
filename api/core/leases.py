"""Leases: which instance of a cluster does a piece of work that must happen once.

On the couchdb backend any number of instances share one CouchDB, so a scheduled job must
not run on each of them. A lease is one document in the system database, `lease:{name}`,
naming its holder. It is taken and renewed only with revisions: a PUT carries the `_rev` that
was read, so when two instances race, CouchDB accepts one write and answers the other 409,
and that one knows it does not hold the lease. The holder renews every third of the lease's
time to live; an instance that stops renewing (it died, or lost the network) loses the lease
once the others have seen the same revision for a whole TTL.

Expiry is judged on the observer's own monotonic clock (how long it has watched one
revision stay unchanged), never by comparing wall clocks of two machines, so clock skew
between instances cannot hand the lease over early. The holder counts its lease as valid
for one TTL from the moment it started its last successful write, which always ends before
any observer's count does.

The embedded backend is one process: `LocalLease` is always held, behind the same interface.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sync.errors import Conflict, NotFound
from sync.store import Database

from .timeutil import iso

LEASE_PREFIX = "lease:"
SCHEMA_VERSION = 1

Decision = Literal["create", "renew", "take", "wait"]


class Lease(Protocol):
    """A named lease this instance may hold."""

    name: str
    holder: str

    def hold(self) -> bool:
        """Take or renew the lease; True when this instance holds it afterwards."""
        ...

    def held(self) -> bool:
        """Whether this instance may still act as the holder (without asking the store)."""
        ...

    def release(self) -> None:
        """Give the lease up at once (a clean shutdown), so another instance need not wait."""
        ...


@dataclass(frozen=True)
class Observation:
    """A revision of someone else's lease and when (monotonic seconds) it was first seen."""

    rev: str
    since: float


def decide(
    doc: dict[str, Any] | None, holder: str, seen: Observation | None, now: float, ttl: float
) -> tuple[Decision, Observation | None]:
    """What to do about the lease document `doc`, and what to remember of it.

    `seen` is this instance's previous observation of another holder's revision; the lease
    is expired when that same revision has been seen for at least the lease's TTL.
    """
    if doc is None:
        return "create", None
    if doc.get("holder") == holder:
        return "renew", None
    if doc.get("holder") is None:  # released on a clean shutdown
        return "take", None
    rev = str(doc["_rev"])
    if seen is None or seen.rev != rev:
        return "wait", Observation(rev, now)
    lease_ttl = float(doc.get("ttl_seconds") or ttl)
    if now - seen.since >= lease_ttl:
        return "take", None
    return "wait", seen


class DocumentLease:
    """A lease kept as a document in a database every instance shares."""

    def __init__(
        self, db: Database, name: str, holder: str, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self._clock = clock
        self._seen: Observation | None = None
        self._valid_until = 0.0
        self._rev: str | None = None

    @property
    def doc_id(self) -> str:
        return LEASE_PREFIX + self.name

    def hold(self) -> bool:
        started = self._clock()
        try:
            doc: dict[str, Any] | None = self.db.get(self.doc_id)
        except NotFound:
            doc = None
        decision, self._seen = decide(doc, self.holder, self._seen, started, self.ttl)
        if decision == "wait":
            self._valid_until = 0.0
            return False
        return self._write(doc, started)

    def _write(self, doc: dict[str, Any] | None, started: float) -> bool:
        now = iso()
        fresh: dict[str, Any] = {
            "_id": self.doc_id,
            "type": "lease",
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "holder": self.holder,
            "ttl_seconds": self.ttl,
            "acquired_at": now if doc is None or doc.get("holder") != self.holder else doc.get("acquired_at"),
            "renewed_at": now,
        }
        if doc is not None:
            fresh["_rev"] = doc["_rev"]
        try:
            self._rev = str(self.db.put(fresh)["rev"])
        except Conflict:
            # Another instance wrote first: it holds the lease (or renewed it) now.
            self._valid_until = 0.0
            return False
        self._valid_until = started + self.ttl
        return True

    def held(self) -> bool:
        return self._clock() < self._valid_until

    def release(self) -> None:
        if not self.held() or self._rev is None:
            return
        self._valid_until = 0.0
        try:
            self.db.put(
                {
                    "_id": self.doc_id,
                    "_rev": self._rev,
                    "type": "lease",
                    "schema_version": SCHEMA_VERSION,
                    "name": self.name,
                    "holder": None,
                    "ttl_seconds": self.ttl,
                    "released_at": iso(),
                }
            )
        except Conflict:
            pass  # someone took it over already: nothing left to give up


class LocalLease:
    """The embedded backend's lease: one process serves, so it always holds it."""

    def __init__(self, name: str, holder: str) -> None:
        self.name = name
        self.holder = holder

    def hold(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        return None
