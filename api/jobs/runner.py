"""The job runner: named jobs, each run once per slot across every instance of the cluster.

Every instance runs a `JobRunner` thread. Each tick (a third of the lease's time to live)
it takes or renews the scheduler lease (`api.core.leases`); only the holder looks for due
jobs. A job is due when its trigger (APScheduler's cron or interval triggers, which every
instance evaluates alike) has fired since the slot recorded in the job's document
`job:{id}` in the system database. The holder claims the slot by writing that document with
the `_rev` it read: if another instance claimed it first (a lease handed over in the
middle of a tick), CouchDB answers 409 and this one leaves the slot alone. So each slot
runs at most once across the cluster, even while two instances both believe they lead.

A slot missed by more than the job's `grace` (every instance was down) is skipped; several
missed slots run once (the latest). A job still running when its next slot comes is not
started twice: the slot waits for it. Each run is recorded in the job document (`last_run`
and a short `history`: slot, instance, start, end, outcome), which is where an operator
looks to see what ran where.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from sync.errors import Conflict, NotFound
from sync.store import Database

from ..core import timeutil
from ..core.docs import retry_on_conflict
from ..core.leases import Lease

log = logging.getLogger("branchline.jobs")

JOB_PREFIX = "job:"
SCHEMA_VERSION = 1
HISTORY = 20  # runs kept in a job document
_STEP = timedelta(microseconds=1)
# Interval slots count from this instant, so every instance computes the same ones.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ClusterJob:
    """A named job: what runs (returning a small JSON-able summary) and when."""

    id: str
    name: str
    trigger: BaseTrigger
    run: Callable[[], Any]
    grace: timedelta = field(default=timedelta(hours=1))


def latest_slot(trigger: BaseTrigger, now: datetime, grace: timedelta) -> datetime | None:
    """The latest time, at most `now` and no earlier than `now - grace`, the trigger fires at.

    Triggers are asked for their next time after a point in time only (never after a
    previous run), so every instance computes the same slots.
    """
    slot: datetime | None = None
    moment = trigger.get_next_fire_time(None, now - grace)
    while moment is not None and moment <= now:
        slot = moment
        moment = trigger.get_next_fire_time(None, moment + _STEP)
    return slot


def iso(moment: datetime) -> str:
    """A slot or an instant as stored in job documents (UTC, whole seconds: slots are)."""
    return timeutil.iso(int(moment.timestamp() * 1000))


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


class JobRunner:
    """Holds (or waits for) the scheduler lease and runs due jobs while holding it."""

    def __init__(
        self,
        db: Database,
        lease: Lease,
        jobs: list[ClusterJob],
        *,
        tick: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.lease = lease
        self.jobs = {job.id: job for job in jobs}
        self.tick = tick
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running: dict[str, threading.Thread] = {}

    @property
    def holder(self) -> str:
        return self.lease.holder

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="branchline-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop ticking, give running jobs `timeout` seconds, then give the lease up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.join_running(timeout)
        try:
            self.lease.release()
        except Exception:  # noqa: BLE001  (the store may be gone at shutdown; the TTL ends it)
            log.warning("jobs: could not release the scheduler lease; it expires by itself")

    def join_running(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for each job this instance started to finish."""
        for thread in list(self._running.values()):
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick_once()
            except Exception:
                log.exception("jobs: tick failed; trying again in %.1f s", self.tick)
            self._stop.wait(self.tick)

    def tick_once(self) -> list[str]:
        """One tick: renew or take the lease, then start every due job; the ids started."""
        if not self.lease.hold():
            return []
        started = []
        for job in self.jobs.values():
            if self._stop.is_set() or not self.lease.held():
                break
            running = self._running.get(job.id)
            if running is not None and running.is_alive():
                continue
            slot = self._claim(job)
            if slot is not None:
                thread = threading.Thread(
                    target=self._run, args=(job, slot), daemon=True, name=f"branchline-job-{job.id}"
                )
                self._running[job.id] = thread
                thread.start()
                started.append(job.id)
        return started

    def _claim(self, job: ClusterJob) -> datetime | None:
        """The slot this instance now owns for `job`, or None (nothing due, or claimed elsewhere)."""
        now = self._clock()
        doc_id = JOB_PREFIX + job.id
        try:
            doc: dict[str, Any] | None = self.db.get(doc_id)
        except NotFound:
            doc = None
        if doc is None:
            # First sight of this job: its first run is the next slot, not one already past.
            try:
                self.db.put(
                    {
                        "_id": doc_id,
                        "type": "job",
                        "schema_version": SCHEMA_VERSION,
                        "name": job.name,
                        "last_slot": iso(now),
                        "history": [],
                    }
                )
            except Conflict:
                pass
            return None
        slot = latest_slot(job.trigger, now, job.grace)
        if slot is None or slot <= parse_iso(doc["last_slot"]):
            return None
        doc.update(
            name=job.name,
            last_slot=iso(slot),
            running={"slot": iso(slot), "by": self.holder, "started_at": iso(now)},
        )
        try:
            self.db.put(doc)
        except Conflict:
            return None  # another instance claimed this slot first
        return slot

    def _run(self, job: ClusterJob, slot: datetime) -> None:
        started = self._clock()
        record: dict[str, Any] = {"slot": iso(slot), "by": self.holder, "started_at": iso(started)}
        try:
            record["result"] = job.run()
            record["ok"] = True
            log.info("jobs: %s ran for slot %s on %s", job.id, record["slot"], self.holder)
        except Exception as exc:
            record.update(ok=False, error=f"{type(exc).__name__}: {exc}")
            log.exception("jobs: %s failed for slot %s", job.id, record["slot"])
        record["finished_at"] = iso(self._clock())
        self._record(job, record)

    def _record(self, job: ClusterJob, record: dict[str, Any]) -> None:
        def attempt() -> None:
            doc = self.db.get(JOB_PREFIX + job.id)
            doc["last_run"] = record
            doc["history"] = [*doc.get("history", []), record][-HISTORY:]
            if (doc.get("running") or {}).get("slot") == record["slot"]:
                doc.pop("running", None)
            self.db.put(doc)

        try:
            retry_on_conflict(attempt, busy=f"the record of job {job.id} kept changing")
        except Exception:
            log.exception("jobs: could not record the run of %s", job.id)
