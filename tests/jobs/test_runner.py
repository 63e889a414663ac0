"""The job runner: each slot of a job runs once across instances, even when two lead at once.

Runners share a real store database (the embedded one here, CouchDB in
tests/couchdb/test_cluster_jobs.py) and a fake wall clock, so slots come without waiting.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from api.core.leases import LocalLease
from api.jobs.runner import ClusterJob, JobRunner, latest_slot
from sync.embedded import EmbeddedStore

T0 = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


class WallClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def system(tmp_path):
    store = EmbeddedStore(tmp_path)
    yield store.create_db("branchline_system")
    store.close()


def every(seconds: int) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=UTC)


def test_latest_slot_is_the_same_for_every_instance_and_respects_the_grace():
    nightly = CronTrigger.from_crontab("30 2 * * *", timezone="UTC")
    at = datetime(2026, 12, 3, 2, 45, tzinfo=UTC)
    assert latest_slot(nightly, at, timedelta(hours=1)) == datetime(2026, 12, 3, 2, 30, tzinfo=UTC)
    assert latest_slot(nightly, at + timedelta(hours=1), timedelta(hours=1)) is None  # missed by too much
    assert latest_slot(every(60), T0 + timedelta(seconds=59.5), timedelta(minutes=5)) == T0
    assert latest_slot(every(60), T0, timedelta(minutes=5)) == T0


def test_each_slot_runs_exactly_once_even_when_both_instances_believe_they_lead(system):
    """The worst case of a lease handover: two runners holding a lease at the same moment.
    The claim (a write with the `_rev` read) still lets only one of them run each slot."""
    clock = WallClock()
    runs: Counter[str] = Counter()
    lock = threading.Lock()

    def job_body() -> dict:
        with lock:
            runs[clock.now.isoformat()] += 1
        return {}

    job = ClusterJob("probe", "probe", every(1), job_body, grace=timedelta(seconds=1))
    runners = [
        JobRunner(system, LocalLease("scheduler", f"instance-{i}"), [job], tick=1, clock=clock)
        for i in range(2)
    ]
    for r in runners:
        r.tick_once()  # first sight: records the job, runs nothing already past
    assert not runs
    gate = threading.Barrier(len(runners))
    for _ in range(40):
        clock.now += timedelta(seconds=1)

        def tick(runner: JobRunner) -> None:
            gate.wait()
            runner.tick_once()

        threads = [threading.Thread(target=tick, args=(r,)) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        for r in runners:
            r.join_running(10)
    assert len(runs) == 40 and set(runs.values()) == {1}, runs
    doc = system.get("job:probe")
    history = doc["history"]
    assert len(history) == 20 and len({h["slot"] for h in history}) == 20
    assert {h["by"] for h in history} <= {"instance-0", "instance-1"}


def test_a_failing_run_is_recorded_and_the_next_slot_runs_as_usual(system):
    clock = WallClock()
    outcomes = iter([RuntimeError("disk full"), {"deleted": 3}])

    def body() -> dict:
        out = next(outcomes)
        if isinstance(out, Exception):
            raise out
        return out

    runner = JobRunner(
        system,
        LocalLease("scheduler", "solo"),
        [ClusterJob("sweep", "sweep", every(60), body, grace=timedelta(minutes=1))],
        tick=1,
        clock=clock,
    )
    runner.tick_once()
    for _ in range(2):
        clock.now += timedelta(seconds=60)
        assert runner.tick_once() == ["sweep"]
        runner.join_running(10)
        assert runner.tick_once() == []  # the same slot never runs twice
    history = system.get("job:sweep")["history"]
    assert [h["ok"] for h in history] == [False, True]
    assert history[0]["error"] == "RuntimeError: disk full" and history[1]["result"] == {"deleted": 3}


def test_a_job_still_running_is_not_started_again_and_missed_slots_coalesce(system):
    clock = WallClock()
    release = threading.Event()
    started: list[datetime] = []

    def slow() -> dict:
        started.append(clock.now)
        release.wait(10)
        return {}

    runner = JobRunner(
        system,
        LocalLease("scheduler", "solo"),
        [ClusterJob("slow", "slow", every(60), slow, grace=timedelta(minutes=10))],
        tick=1,
        clock=clock,
    )
    runner.tick_once()
    clock.now += timedelta(seconds=60)
    assert runner.tick_once() == ["slow"]
    for _ in range(3):  # three more slots pass while the first run goes on
        clock.now += timedelta(seconds=60)
        assert runner.tick_once() == []
    release.set()
    runner.join_running(10)
    assert runner.tick_once() == ["slow"]  # the latest missed slot, once
    runner.join_running(10)
    assert len(started) == 2
    assert system.get("job:slow")["last_slot"] == "2026-12-03T10:04:00Z"


def test_a_runner_without_the_lease_runs_nothing(system):
    class Lost:
        name, holder = "scheduler", "standby"

        def hold(self) -> bool:
            return False

        def held(self) -> bool:
            return False

        def release(self) -> None:
            return None

    clock = WallClock()
    ran: list[int] = []
    runner = JobRunner(
        system, Lost(), [ClusterJob("x", "x", every(1), lambda: ran.append(1))], tick=1, clock=clock
    )
    for _ in range(3):
        clock.now += timedelta(seconds=1)
        assert runner.tick_once() == []
    assert not ran
