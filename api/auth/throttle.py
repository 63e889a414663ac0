"""Throttling of failed sign-ins, per (account, client address) and per client address.

Counting per account alone let anyone lock a victim out from anywhere: five wrong passwords
for their e-mail, and the victim's right password was refused too. So an account is only
locked for the address its failures came from (`pair:` keys), and an address that fails on
many accounts is locked for all of them (`addr:` keys); the owner signing in from elsewhere
is never refused. Each lockout of a pair is reported to the caller (`failure` answers it) so
the sign-in code can tell the account's owner.

The counting rules are small pure functions over a `Window` (the recent failures of one key
and the end of its lockout). Where the windows live is a `Counters` backend:

- `MemoryCounters`, in process memory: the embedded backend, where one process serves.
- `DocumentCounters`, documents in the system database: the couchdb backend, where several
  stateless instances serve one tenant behind a load balancer. Every instance counts into
  the same documents, so spreading guesses over instances gains nothing and a lockout holds
  on all of them (and survives a restart). Concurrent failures are never lost: a write with
  a stale `_rev` conflicts, and the change is applied again to the fresh document.

A window whose failures have all left the window is reset on its next use; windows nobody
uses again are removed by a bounded sweep that runs on a failed sign-in at most once a window
per process (on couchdb a deletion leaves CouchDB's usual small tombstone).

`build_throttle` picks the backend from the settings.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sync.errors import Conflict, NotFound, TooManyRequests
from sync.store import Database

from ..core.docs import by_prefix, get_or_none, retry_on_conflict, save

if TYPE_CHECKING:
    from ..core.context import AppContext

log = logging.getLogger("branchline.auth")

# Each lockout beyond the limit doubles, up to 2**MAX_DOUBLINGS times the base lockout.
MAX_DOUBLINGS = 6
DOC_PREFIX = "login_throttle:"
DOC_TYPE = "login_throttle"
SCHEMA_VERSION = 1
# Attempts at a read-modify-write before giving up on one change. Each conflict means another
# writer's change landed, so the count still grows under contention.
MAX_WRITE_ATTEMPTS = 20
# A clean-up sweep reads documents in batches, and at most SWEEP_BATCHES of them, so one
# sweep stays a bounded amount of work; the next sweep goes on where it stopped.
SWEEP_BATCH = 200
SWEEP_BATCHES = 10


# --- the counting rules -------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The recent failures of one key (oldest first), when its lockout ends (0: none) and
    when it stops mattering (its last failure has left the window and the lockout ended)."""

    failures: tuple[float, ...] = ()
    locked_until: float = 0.0
    expires: float = 0.0


def recent(w: Window | None, now: float, window_s: float) -> tuple[float, ...]:
    """The failures of `w` still inside the window ending at `now`."""
    if w is None:
        return ()
    return tuple(t for t in w.failures if t >= now - window_s)


def record_failure(w: Window | None, now: float, *, limit: int, window_s: float, lockout_s: float) -> Window:
    """`w` after one more failure at `now`; reaching `limit` in the window locks the key.

    Only the latest `limit + MAX_DOUBLINGS` failures are kept: older ones could not change
    the lockout, and a stored window stays small however long an attack goes on.
    """
    failures = (*recent(w, now, window_s), now)[-(limit + MAX_DOUBLINGS) :]
    locked_until = w.locked_until if w is not None else 0.0
    if len(failures) >= limit:
        # Each further lockout in the window doubles, so scripted guessing slows fast.
        extra = len(failures) - limit
        locked_until = now + lockout_s * (2 ** min(extra, MAX_DOUBLINGS))
    return Window(failures, locked_until, max(now + window_s, locked_until))


def retry_after(w: Window | None, now: float) -> int | None:
    """Whole seconds until the lockout of `w` ends (at least 1), or None when not locked."""
    if w is None or w.locked_until <= now:
        return None
    return max(1, math.ceil(w.locked_until - now))


# --- where windows live -------------------------------------------------------------------

Change = Callable[[Window | None], Window | None]


class Counters(Protocol):
    """Storage of windows by key. `update` applies `change` atomically (None: forget the key)."""

    def read(self, key: str) -> Window | None: ...

    def update(self, key: str, change: Change) -> None: ...

    def sweep(self, now: float) -> int:
        """Forget some windows that expired before `now`; returns how many."""


class MemoryCounters:
    """Windows in this process's memory: forgotten on restart, unseen by other processes."""

    def __init__(self) -> None:
        self._windows: dict[str, Window] = {}
        self._lock = threading.Lock()

    def read(self, key: str) -> Window | None:
        with self._lock:
            return self._windows.get(key)

    def update(self, key: str, change: Change) -> None:
        with self._lock:
            new = change(self._windows.get(key))
            if new is None:
                self._windows.pop(key, None)
            else:
                self._windows[key] = new

    def sweep(self, now: float) -> int:
        with self._lock:
            gone = [k for k, w in self._windows.items() if w.expires < now]
            for k in gone:
                del self._windows[k]
        return len(gone)


class DocumentCounters:
    """Windows as documents in a shared database, one per key.

    The id is `login_throttle:` plus an HMAC of the key under the server secret, so neither an
    e-mail nor an address can be read from (or guessed into) the id; the document holds only
    the failure times, the lockout end and when it expires.
    """

    def __init__(self, db: Database, secret: str) -> None:
        self.db = db
        self._secret = secret.encode()
        self._sweep_from: str | None = None

    def doc_id(self, key: str) -> str:
        digest = hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()
        return DOC_PREFIX + digest[:40]

    def read(self, key: str) -> Window | None:
        return _window_of(get_or_none(self.db, self.doc_id(key)))

    def update(self, key: str, change: Change) -> None:
        docid = self.doc_id(key)

        def attempt() -> None:
            doc = get_or_none(self.db, docid)
            new = change(_window_of(doc))
            if new is None:
                if doc is not None:
                    self.db.delete(docid, doc["_rev"])
                return
            body = {
                "_id": docid,
                "type": DOC_TYPE,
                "schema_version": SCHEMA_VERSION,
                "scope": key.split(":", 1)[0],
                "failures": list(new.failures),
                "locked_until": new.locked_until,
                "expires_at": new.expires,
            }
            if doc is not None:
                body["_rev"] = doc["_rev"]
            save(self.db, body)

        # Another instance wrote first: the change is applied to its version.
        retry_on_conflict(
            attempt,
            busy=f"login throttle: gave up on {docid}",
            attempts=MAX_WRITE_ATTEMPTS,
            retry_on=(Conflict, NotFound),
            give_up=lambda: None,
            backoff_s=0.002,
        )

    def sweep(self, now: float) -> int:
        """Delete expired documents, a bounded number of batches, resuming where the last
        sweep stopped.

        A document changed since it was read keeps its place: the deletion conflicts and
        is skipped, so a sweep never erases a failure another instance just counted.
        """
        deleted = 0
        for _ in range(SWEEP_BATCHES):
            docs = by_prefix(self.db, DOC_PREFIX, limit=SWEEP_BATCH, startkey=self._sweep_from)
            self._sweep_from = docs[-1]["_id"] if len(docs) == SWEEP_BATCH else None
            dead = [
                {"_id": d["_id"], "_rev": d["_rev"], "_deleted": True}
                for d in docs
                if (w := _window_of(d)) is not None and w.expires < now
            ]
            if dead:
                deleted += sum(1 for r in self.db.bulk_docs(dead) if "error" not in r)
            if self._sweep_from is None:
                break
        return deleted


def _window_of(doc: dict[str, Any] | None) -> Window | None:
    # A document of another schema version is treated as empty and replaced on the next
    # failure: a counter is worth less than a sign-in that fails on a shape it cannot read.
    if doc is None or doc.get("schema_version") != SCHEMA_VERSION:
        return None
    return Window(
        tuple(float(t) for t in doc.get("failures", ())),
        float(doc.get("locked_until", 0.0)),
        float(doc.get("expires_at", 0.0)),
    )


# --- the throttle -------------------------------------------------------------------------


class LoginThrottle:
    """Failed sign-ins counted per (account, address) and per address, over a `Counters`
    backend. `per_account` is the limit of one account from one address."""

    def __init__(
        self,
        *,
        per_account: int,
        per_address: int,
        window_s: float,
        lockout_s: float,
        clock: Callable[[], float] = time.monotonic,
        counters: Counters | None = None,
    ) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._clock = clock
        self.counters: Counters = counters if counters is not None else MemoryCounters()
        self._next_sweep = clock() + window_s
        self._sweep_lock = threading.Lock()

    @staticmethod
    def pair_key(account: str, address: str | None) -> str:
        # No address (a client the server cannot place): all such clients share one count.
        return f"pair:{account.lower()}|{address or ''}"

    def _keys(self, account: str | None, address: str | None) -> list[tuple[str, int]]:
        keys = []
        if account:
            keys.append((self.pair_key(account, address), self.per_account))
        if address:
            keys.append((f"addr:{address}", self.per_address))
        return keys

    def check(self, account: str | None, address: str | None) -> None:
        """Raise 429 with Retry-After when this account is locked for this address, or the
        address is locked altogether."""
        now = self._clock()
        for key, _limit in self._keys(account, address):
            wait = retry_after(self.counters.read(key), now)
            if wait is not None:
                what = "this account from your address" if key.startswith("pair:") else "your address"
                raise TooManyRequests(
                    f"Too many failed attempts for {what}. Wait {wait} seconds and try again, "
                    "or ask an admin to reset the password.",
                    headers={"Retry-After": str(wait)},
                )

    def failure(self, account: str | None, address: str | None) -> int | None:
        """Count one failure against the account from this address, and against the address.
        Answers how many seconds the account is now locked for from this address when this
        failure locked it (None otherwise)."""
        now = self._clock()
        locked = None
        for key, limit in self._keys(account, address):
            self.counters.update(key, self._failure_change(now, limit))
            if key.startswith("pair:"):
                locked = retry_after(self.counters.read(key), now)
        self._maybe_sweep(now)
        return locked

    def success(self, account: str | None, address: str | None) -> None:
        """A correct password: the failures of this account from this address are forgotten
        (the address's own count stays: a sign-in to the attacker's own account must not
        reset the guessing on others')."""
        if account:
            self.counters.update(self.pair_key(account, address), lambda _w: None)

    def _failure_change(self, now: float, limit: int) -> Change:
        def change(w: Window | None) -> Window:
            return record_failure(w, now, limit=limit, window_s=self.window_s, lockout_s=self.lockout_s)

        return change

    def _maybe_sweep(self, now: float) -> None:
        # Failures are what create windows, so clean up at their pace: at most once a window
        # per process, a bounded amount of work each time.
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.window_s
            self.counters.sweep(now)
        except Exception:
            log.exception("login throttle: clean-up sweep failed")
        finally:
            self._sweep_lock.release()


def build_throttle(ctx: AppContext) -> LoginThrottle:
    """The throttle for this deployment: shared documents when several instances or processes
    serve it (couchdb; embedded with `processes` > 1), else memory."""
    s = ctx.settings
    limits: dict[str, Any] = {
        "per_account": s.login_max_failures_per_account,
        "per_address": s.login_max_failures_per_address,
        "window_s": s.login_failure_window_seconds,
        "lockout_s": s.login_lockout_seconds,
    }
    if s.several_instances:
        # Wall-clock time, since the windows are compared across processes and machines.
        return LoginThrottle(**limits, clock=time.time, counters=DocumentCounters(ctx.system, ctx.secret))
    return LoginThrottle(**limits)
