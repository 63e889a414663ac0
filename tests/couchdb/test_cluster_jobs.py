"""Two Branchline instances on one CouchDB run each scheduled job once per slot between them.

Both run the real app on the couchdb backend (pouchdb-server as CouchDB), with a short
scheduler lease (2 s) and the refresh-token sweep every second, so a few seconds show many
slots. The job records and the lease are read straight from CouchDB, as an operator would.
"""

from __future__ import annotations

import secrets
import time

import pytest

from sync.couchdb import CouchStore
from sync.naming import SYSTEM_DB
from tests.conftest import ServerProcess, wait_until

LEASE_SECONDS = 2.0
JOB = "job:refresh-token-sweep"  # the runs the test follows; the rate-limit sweep runs beside it


@pytest.fixture(scope="module")
def system(couchdb):
    store = CouchStore(couchdb.url, couchdb.user, couchdb.password)
    yield store.db(SYSTEM_DB)
    store.close()


@pytest.fixture(scope="module")
def pair(couchdb, tmp_path_factory):
    env = {
        **couchdb.env(),
        "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
        "BRANCHLINE_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
        "BRANCHLINE_CLEANUP_INTERVAL_SECONDS": "1",
    }
    a = ServerProcess(tmp_path_factory.mktemp("jobs-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("jobs-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def holder_pid(system) -> int | None:
    holder = system.get("lease:scheduler").get("holder")
    return int(holder.split(":")[1]) if holder else None


def runs(system) -> list[dict]:
    return system.get(JOB).get("history", [])


def assert_once_per_slot(history: list[dict]) -> None:
    slots = [h["slot"] for h in history]
    assert len(set(slots)) == len(slots), f"a slot ran twice: {slots}"
    assert slots == sorted(slots), slots
    assert all(h["ok"] for h in history), history


def test_jobs_run_once_per_slot_and_the_other_instance_takes_over_within_the_ttl(pair, system):
    a, b = pair
    now = time.time()
    expired = [
        {
            "_id": f"refresh:aaaaaa:old{i}",
            "type": "refresh_token",
            "tenant_id": "aaaaaa",
            "expires_at": int(now - 3 * 86400),
        }
        for i in range(3)
    ]
    live = {
        "_id": "refresh:aaaaaa:live",
        "type": "refresh_token",
        "tenant_id": "aaaaaa",
        "expires_at": int(now + 86400),
    }
    stale_counter = {
        "_id": "ratelimit:0123abcd",
        "type": "ratelimit",
        "schema_version": 1,
        "policy": "exports",
        "start": now - 2 * 86400,
        "count": 3,
        "previous": 0,
    }
    for doc in [*expired, live, stale_counter]:
        system.put(doc)

    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))

    def runs_since() -> list[dict]:
        return [h for h in runs(system) if h["started_at"] > since]

    wait_until(lambda: len(runs_since()) >= 4, timeout=30, message="four runs of the sweep")
    first = {a.proc.pid: a, b.proc.pid: b}[holder_pid(system)]
    other = b if first is a else a
    assert_once_per_slot(runs(system))
    history = runs_since()
    assert_once_per_slot(history)
    # Only the lease holder ran them; the sweep did its work once, on CouchDB.
    assert {h["by"].split(":")[1] for h in history} == {str(first.proc.pid)}
    assert sum(h["result"]["deleted"] for h in history) == 3
    assert system.get(live["_id"])["_id"] == live["_id"]
    # The other clean-up job shares the runner: the stale counter went, once.
    wait_until(
        lambda: system.get("job:rate-limit-sweep").get("history"),
        timeout=30,
        message="a run of the rate-limit sweep",
    )
    assert_once_per_slot(system.get("job:rate-limit-sweep")["history"])

    def counters_swept() -> int:
        return sum(h["result"]["deleted"] for h in system.get("job:rate-limit-sweep")["history"])

    wait_until(lambda: counters_swept() == 1, timeout=30, message="the stale counter swept")

    # The holder dies without a word: the other takes the lease once a TTL has passed.
    killed_at = time.monotonic()
    first.kill()
    wait_until(
        lambda: holder_pid(system) == other.proc.pid,
        timeout=LEASE_SECONDS * 10,
        message="the surviving instance to take the lease",
    )
    takeover = time.monotonic() - killed_at
    print(f"takeover after the holder was killed: {takeover:.2f} s (lease {LEASE_SECONDS} s)")
    # The survivor counts a TTL from when it first saw the holder's last renewal (up to a tick
    # after it) and takes over at its next tick: at most TTL + 2 ticks (a tick is TTL/3)
    # after the death, plus a second of slack for a loaded machine.
    assert takeover <= LEASE_SECONDS * 5 / 3 + 1.0, takeover
    wait_until(
        lambda: sum(h["by"].split(":")[1] == str(other.proc.pid) for h in runs(system)) >= 3,
        timeout=30,
        message="three runs on the surviving instance",
    )
    assert_once_per_slot(runs(system))

    # A clean shutdown gives the lease up: the restarted instance has it at its next tick.
    first.start()
    other.stop()  # returns once the process has exited, its lease given up on the way out
    stopped_at = time.monotonic()
    wait_until(
        lambda: holder_pid(system) == first.proc.pid,
        timeout=LEASE_SECONDS * 10,
        message="the restarted instance to take the released lease",
    )
    handover = time.monotonic() - stopped_at
    print(f"handover after a clean stop: {handover:.2f} s")
    assert handover < LEASE_SECONDS, handover
    wait_until(
        lambda: runs(system)[-1]["by"].split(":")[1] == str(first.proc.pid),
        timeout=30,
        message="a run on the restarted instance",
    )
    assert_once_per_slot(runs(system))
