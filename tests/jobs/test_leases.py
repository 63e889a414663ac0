"""Leases over a real store database: taken and renewed with revisions, expired by TTL.

The same `DocumentLease` runs on CouchDB in production (tests/couchdb/test_cluster_jobs.py);
here it runs on the embedded store, whose revision checks answer 409 exactly as CouchDB does.
A fake monotonic clock stands for time passing, so expiry is tested without waiting.
"""

from __future__ import annotations

import threading

import pytest

from api.core.leases import DocumentLease, LocalLease, Observation, decide
from sync.embedded import EmbeddedStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def system(tmp_path):
    store = EmbeddedStore(tmp_path)
    yield store.create_db("branchline_system")
    store.close()


def test_decide_waits_a_whole_ttl_on_one_unchanged_revision_before_taking_over():
    doc = {"_id": "lease:x", "_rev": "3-a", "holder": "other", "ttl_seconds": 30}
    assert decide(None, "me", None, 0, 30) == ("create", None)
    assert decide({**doc, "holder": "me"}, "me", None, 0, 30) == ("renew", None)
    assert decide({**doc, "holder": None}, "me", None, 0, 30) == ("take", None)
    assert decide(doc, "me", None, 5, 30) == ("wait", Observation("3-a", 5))
    assert decide(doc, "me", Observation("3-a", 5), 34.9, 30) == ("wait", Observation("3-a", 5))
    assert decide(doc, "me", Observation("3-a", 5), 35, 30) == ("take", None)
    # A renewal (new revision) restarts the count.
    assert decide({**doc, "_rev": "4-b"}, "me", Observation("3-a", 5), 40, 30) == (
        "wait",
        Observation("4-b", 40),
    )


def test_one_holder_at_a_time_and_the_other_takes_over_after_the_ttl(system):
    clock = Clock()
    a = DocumentLease(system, "scheduler", "instance-a", 30, clock=clock)
    b = DocumentLease(system, "scheduler", "instance-b", 30, clock=clock)
    assert a.hold() and a.held()
    assert not b.hold() and not b.held()
    # A renews every third of the TTL: B never sees one revision last a whole TTL.
    for _ in range(6):
        clock.now += 10
        assert a.hold()
        assert not b.hold()
    # A dies right after its last renewal, which B saw at once: B takes over once it has
    # watched that one revision for a whole TTL, and not before.
    clock.now += 29.9
    assert not b.hold()
    clock.now += 0.1
    assert b.hold() and b.held()
    assert system.get("lease:scheduler")["holder"] == "instance-b"
    # A comes back: its renewal finds B's lease and it stands by.
    assert not a.hold() and not a.held()


def test_a_holder_counts_its_lease_valid_for_one_ttl_from_its_last_write(system):
    clock = Clock()
    a = DocumentLease(system, "scheduler", "instance-a", 30, clock=clock)
    assert a.hold()
    clock.now += 29.9
    assert a.held()
    clock.now += 0.1
    assert not a.held()  # by now another instance may have taken it


def test_a_released_lease_is_taken_at_once(system):
    clock = Clock()
    a = DocumentLease(system, "scheduler", "instance-a", 30, clock=clock)
    b = DocumentLease(system, "scheduler", "instance-b", 30, clock=clock)
    assert a.hold() and not b.hold()
    a.release()
    assert not a.held()
    assert b.hold()


def test_two_instances_racing_for_a_free_lease_get_one_holder(system):
    clock = Clock()
    leases = [DocumentLease(system, "race", f"instance-{i}", 30, clock=clock) for i in range(8)]
    gate = threading.Barrier(len(leases))
    results: dict[str, bool] = {}

    def contend(lease: DocumentLease) -> None:
        gate.wait()
        results[lease.holder] = lease.hold()

    threads = [threading.Thread(target=contend, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    winners = [h for h, won in results.items() if won]
    assert len(winners) == 1, results
    assert system.get("lease:race")["holder"] == winners[0]


def test_the_embedded_backends_lease_is_always_held():
    lease = LocalLease("scheduler", "only-process")
    assert lease.hold() and lease.held()
    lease.release()
    assert lease.held()
