"""The sign-in throttle's counting rules and its two homes (memory, shared documents).

The document-backed throttle runs over a real embedded store, one freshly named database
per test; "instances" are separate `LoginThrottle` objects over that one database, as
several servers share one CouchDB.
"""

from __future__ import annotations

import secrets
import threading

import pytest

from api.auth import throttle as throttle_module
from api.auth.throttle import (
    DOC_PREFIX,
    MAX_DOUBLINGS,
    DocumentCounters,
    LoginThrottle,
    MemoryCounters,
    Window,
    record_failure,
    retry_after,
)
from sync.embedded import EmbeddedStore
from sync.errors import Conflict, TooManyRequests

LIMITS = {"per_account": 3, "per_address": 5, "window_s": 100.0, "lockout_s": 10.0}
EMAIL = "Alice@Example.com"
ADDRESS = "203.0.113.7"
SECRET = "test-secret-" + "x" * 32
KEY = LoginThrottle.pair_key(EMAIL, None)  # the account's failures from an unknown address


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    s = EmbeddedStore(tmp_path)
    yield s
    s.close()


@pytest.fixture
def db(store):
    name = f"throttle-{secrets.token_hex(6)}"
    return store.create_db(name)


@pytest.fixture
def clock():
    return Clock()


def make(clock, counters=None, **overrides):
    return LoginThrottle(**{**LIMITS, **overrides}, clock=clock, counters=counters)


@pytest.fixture(params=["memory", "documents"])
def counters(request, db):
    return MemoryCounters() if request.param == "memory" else DocumentCounters(db, SECRET)


def locked_for(throttle, account=EMAIL, address=None) -> int | None:
    try:
        throttle.check(account, address)
    except TooManyRequests as exc:
        assert exc.status == 429
        return int(exc.headers["Retry-After"])
    return None


# --- the pure rules -----------------------------------------------------------------------


def test_reaching_the_limit_in_the_window_locks_for_the_lockout():
    w = None
    for i in range(3):
        w = record_failure(w, 100.0 + i, limit=3, window_s=60, lockout_s=10)
    assert w.locked_until == 112.0
    assert retry_after(w, 102.0) == 10
    assert retry_after(w, 111.2) == 1  # rounded up, never 0
    assert retry_after(w, 112.0) is None


def test_failures_older_than_the_window_do_not_count():
    w = record_failure(None, 0.0, limit=3, window_s=60, lockout_s=10)
    w = record_failure(w, 10.0, limit=3, window_s=60, lockout_s=10)
    w = record_failure(w, 60.5, limit=3, window_s=60, lockout_s=10)  # the first left the window
    assert w.failures == (10.0, 60.5)
    assert retry_after(w, 60.5) is None


def test_each_failure_beyond_the_limit_doubles_the_lockout_up_to_a_cap():
    w = None
    lockouts = []
    for i in range(3 + MAX_DOUBLINGS + 3):
        w = record_failure(w, float(i), limit=3, window_s=1000, lockout_s=10)
        lockouts.append(w.locked_until - i)
    assert lockouts[2 : 2 + MAX_DOUBLINGS + 1] == [10 * 2**k for k in range(MAX_DOUBLINGS + 1)]
    assert set(lockouts[2 + MAX_DOUBLINGS :]) == {10 * 2**MAX_DOUBLINGS}
    # However long the attack, a window keeps only the failures that can matter.
    assert len(w.failures) == 3 + MAX_DOUBLINGS


def test_a_window_expires_when_its_last_failure_left_the_window_and_the_lockout_ended():
    w = record_failure(Window(), 5.0, limit=3, window_s=60, lockout_s=10)
    assert w.expires == 65.0
    w = Window((0.0, 1.0), 0.0)
    w = record_failure(w, 2.0, limit=3, window_s=60, lockout_s=1000)
    assert w.expires == 1002.0


# --- the throttle, over either home -------------------------------------------------------


def test_account_locks_at_the_limit_for_that_address_with_retry_after(counters, clock):
    t = make(clock, counters)
    for _ in range(2):
        assert t.failure(EMAIL, ADDRESS) is None
        assert locked_for(t, address=ADDRESS) is None
    assert t.failure(EMAIL, ADDRESS) == 10  # this failure started the lockout, and says so
    with pytest.raises(TooManyRequests) as err:
        t.check(EMAIL.lower(), ADDRESS)  # the account key ignores case, as e-mails do
    assert err.value.headers == {"Retry-After": "10"}
    assert err.value.reason.startswith("Too many failed attempts for this account from your address. Wait 10")
    # Other accounts, and this address's own limit, are untouched.
    assert locked_for(t, "bob@example.com", ADDRESS) is None
    clock.now += 10
    assert locked_for(t, address=ADDRESS) is None


def test_an_account_locked_from_one_address_is_not_locked_from_another(counters, clock):
    # The attack: anyone, anywhere, five wrong passwords for the victim's e-mail.
    t = make(clock, counters)
    for _ in range(LIMITS["per_account"] + MAX_DOUBLINGS + 2):
        t.failure(EMAIL, ADDRESS)
    assert locked_for(t, address=ADDRESS) is not None
    assert locked_for(t, address="198.51.100.23") is None
    assert locked_for(t, address=None) is None


def test_address_locks_at_its_own_limit(counters, clock):
    t = make(clock, counters)
    for i in range(5):
        t.failure(f"user{i}@example.com", ADDRESS)
    with pytest.raises(TooManyRequests) as err:
        t.check("someone-else@example.com", ADDRESS)
    assert "for your address" in err.value.reason
    assert locked_for(t, "someone-else@example.com", "198.51.100.1") is None


def test_success_clears_the_account_from_that_address_but_not_the_address(counters, clock):
    t = make(clock, counters, per_address=3)
    for _ in range(2):
        t.failure(EMAIL, ADDRESS)
    t.success(EMAIL, ADDRESS)
    t.failure(EMAIL, ADDRESS)  # a fresh count for the account: 1, not 3
    assert counters.read(LoginThrottle.pair_key(EMAIL, ADDRESS)).failures == (clock.now,)
    with pytest.raises(TooManyRequests):
        t.check(None, ADDRESS)  # the address saw 3
    t.failure(EMAIL, None)
    t.success(EMAIL, None)
    t.success(EMAIL, None)  # nothing left to clear: still fine
    assert locked_for(t) is None


def test_a_window_older_than_the_window_is_reset_on_next_use(counters, clock):
    t = make(clock, counters)
    t.failure(EMAIL, None)
    t.failure(EMAIL, None)
    clock.now += LIMITS["window_s"] + 1
    t.failure(EMAIL, None)
    assert locked_for(t) is None
    assert counters.read(KEY).failures == (clock.now,)


def test_sweep_forgets_expired_windows_only(counters, clock):
    def fail(key):
        counters.update(key, lambda w: record_failure(w, clock.now, limit=3, window_s=100, lockout_s=10))

    fail("acct:old@example.com")
    clock.now += 101
    fail("acct:new@example.com")
    assert counters.sweep(clock.now) == 1
    assert counters.read(LoginThrottle.pair_key("old@example.com", None)) is None
    assert counters.read("acct:new@example.com") is not None


def test_failures_sweep_expired_windows_at_most_once_a_window(counters, clock):
    t = make(clock, counters)
    t.failure("old@example.com", None)
    clock.now += LIMITS["window_s"] + 1
    t.failure("new@example.com", None)  # first failure a window after start: sweeps
    assert counters.read(LoginThrottle.pair_key("old@example.com", None)) is None
    t.failure("old@example.com", None)
    clock.now += LIMITS["window_s"] / 2 + 1
    t.failure("new@example.com", None)  # expired by now, but the last sweep was recent
    assert counters.read(LoginThrottle.pair_key("old@example.com", None)) is not None


# --- shared documents ---------------------------------------------------------------------


def test_document_ids_reveal_neither_the_email_nor_the_address(db, clock):
    t = make(clock, DocumentCounters(db, SECRET))
    t.failure(EMAIL, ADDRESS)
    rows = db.all_docs(include_docs=True)["rows"]
    assert len(rows) == 2
    for row in rows:
        assert row["id"].startswith(DOC_PREFIX)
        text = repr(row["doc"]).lower()
        assert "alice" not in text and "example" not in text and ADDRESS not in text
        assert row["doc"]["type"] == "login_throttle" and row["doc"]["schema_version"] == 1
    # Another server secret gives other ids: they cannot be precomputed from a list of e-mails.
    other = DocumentCounters(db, "another-secret-" + "y" * 32)
    assert other.doc_id(KEY) != DocumentCounters(db, SECRET).doc_id(KEY)


def test_failures_spread_over_two_instances_lock_both(db, clock):
    a = make(clock, DocumentCounters(db, SECRET))
    b = make(clock, DocumentCounters(db, SECRET))
    a.failure(EMAIL, None)
    b.failure(EMAIL, None)
    assert locked_for(a) is None and locked_for(b) is None
    a.failure(EMAIL, None)
    assert locked_for(a) == 10 and locked_for(b) == 10
    # A success on one clears the account for both.
    clock.now += 10
    b.success(EMAIL, None)
    a.failure(EMAIL, None)
    assert locked_for(a) is None and locked_for(b) is None


def test_a_lockout_survives_a_restart(db, clock):
    make(clock, DocumentCounters(db, SECRET)).failure(EMAIL, None)
    for _ in range(2):
        make(clock, DocumentCounters(db, SECRET)).failure(EMAIL, None)
    assert locked_for(make(clock, DocumentCounters(db, SECRET))) == 10


class InterleavingDatabase:
    """The shared database, with another instance's write landing inside this one's
    read-modify-write: right before this instance's first `times` writes, `interleave` runs,
    as a concurrent request on another server would."""

    def __init__(self, db, interleave, times: int = 1) -> None:
        self._db = db
        self._interleave = interleave
        self._left = times
        self.conflicts = 0

    def __getattr__(self, name):
        return getattr(self._db, name)

    def _write(self, method, *args, **kw):
        if self._left:
            self._left -= 1
            self._interleave()
        try:
            return getattr(self._db, method)(*args, **kw)
        except Conflict:
            self.conflicts += 1
            raise

    def put(self, doc, **kw):
        return self._write("put", doc, **kw)

    def delete(self, docid, rev):
        return self._write("delete", docid, rev)

    def bulk_docs(self, docs, **kw):
        return self._write("bulk_docs", docs, **kw)


def test_concurrent_failures_on_two_instances_are_both_counted(db, clock):
    b = make(clock, DocumentCounters(db, SECRET), per_account=100)
    racing = InterleavingDatabase(db, lambda: b.failure(EMAIL, None), times=2)
    a = make(clock, DocumentCounters(racing, SECRET), per_account=100)
    a.failure(EMAIL, None)  # B writes between A's read and A's write: twice
    assert racing.conflicts == 2
    assert len(a.counters.read(KEY).failures) == 3


def test_concurrent_failure_and_success_on_two_instances(db, clock):
    b = make(clock, DocumentCounters(db, SECRET))
    for _ in range(2):
        b.failure(EMAIL, None)
    # A's success races B's failure: B's lands first, A retries and still clears the account.
    racing = InterleavingDatabase(db, lambda: b.failure(EMAIL, None))
    a = make(clock, DocumentCounters(racing, SECRET))
    a.success(EMAIL, None)
    assert racing.conflicts == 1
    assert locked_for(a) is None and locked_for(b) is None
    # And a failure after the success starts again from one (a deleted document is re-created).
    a.failure(EMAIL, None)
    assert len(b.counters.read(KEY).failures) == 1


def test_many_threads_on_two_instances_lose_no_failure(db, clock):
    instances = [make(clock, DocumentCounters(db, SECRET), per_account=1000) for _ in range(2)]
    per_thread, threads = 10, 8
    start = threading.Barrier(threads)

    def guess(t):
        start.wait()
        for _ in range(per_thread):
            t.failure(EMAIL, None)

    workers = [threading.Thread(target=guess, args=(instances[i % 2],)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(instances[0].counters.read(KEY).failures) == per_thread * threads


def test_sweep_keeps_a_window_updated_since_it_was_read(db, clock):
    shared = DocumentCounters(db, SECRET)
    t = make(clock, shared)
    t.failure(EMAIL, None)
    clock.now += LIMITS["window_s"] + 1
    # Another instance counts a new failure while the sweep is deciding: the deletion
    # conflicts, and the new failure stays.
    racing = DocumentCounters(InterleavingDatabase(db, lambda: t.failure(EMAIL, None)), SECRET)
    assert racing.sweep(clock.now) == 0
    assert shared.read(KEY).failures == (clock.now,)


def test_a_sweep_goes_through_several_batches_and_resumes_where_it_stopped(db, clock, monkeypatch):
    monkeypatch.setattr(throttle_module, "SWEEP_BATCH", 3)
    monkeypatch.setattr(throttle_module, "SWEEP_BATCHES", 2)
    shared = DocumentCounters(db, SECRET)
    t = make(clock, shared)
    for i in range(10):
        t.failure(f"user{i}@example.com", None)
    clock.now += LIMITS["window_s"] + 1
    assert shared.sweep(clock.now) == 6  # two batches of three
    assert shared.sweep(clock.now) == 4  # the rest, then back to the start
    assert db.all_docs()["rows"] == []


def test_a_document_of_an_unknown_schema_version_counts_as_empty(db, clock):
    shared = DocumentCounters(db, SECRET)
    docid = shared.doc_id(KEY)
    db.put({"_id": docid, "type": "login_throttle", "schema_version": 99, "locked_until": clock.now + 1000})
    t = make(clock, shared)
    assert locked_for(t) is None
    t.failure(EMAIL, None)
    assert db.get(docid)["schema_version"] == 1
    assert len(shared.read(KEY).failures) == 1
