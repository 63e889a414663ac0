"""Group commit: writers to one database queue in memory, and one of them commits them together.

SQLite has one writer per file. Threads that each begin their own write transaction end up
sleeping in SQLite's busy handler (in steps of up to 100 ms) and commit one by one, each
commit an fsync of the WAL. Here a writer that finds the database idle becomes the leader
and commits its own work; writers that arrive while a commit runs wait in a queue, and when
the leader is done the oldest of them becomes the next leader and commits everything queued
in one transaction. Each caller still gets its own outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from ..nonblocking import WouldBlock

Item = TypeVar("Item")
Result = TypeVar("Result")

# `apply` gets the queued items in arrival order and answers one outcome per item (its
# result, or the exception that item alone raised) and what to run once the group is
# answered (the change listeners: run after the next leader has taken over, so a listener
# that writes to the same database queues behind it instead of waiting for itself). If
# `apply` itself raises, every item of the group fails with that exception (nothing of the
# group was committed).
Apply = Callable[[list[Item]], tuple[list["Result | BaseException"], "Callable[[], None] | None"]]


class _Request(Generic[Item, Result]):
    __slots__ = ("done", "item", "outcome", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.outcome: Result | BaseException | None = None
        self.done = False
        # Made only for a writer that queues: one that finds the database idle (nearly every
        # write from the event loop) never waits, and an Event is a lock and a condition.
        self.wake: threading.Event | None = None


class GroupCommit(Generic[Item, Result]):
    """The write queue of one database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Request[Item, Result]] = []
        self._busy = False
        # For tests and benchmarks: how many groups were committed, and the largest.
        self.groups = 0
        self.largest = 0

    def queued(self) -> int:
        """Writers waiting for the running commit to finish."""
        with self._lock:
            return len(self._queue)

    def busy(self) -> bool:
        """Whether a writer is committing (or writers are queued) right now."""
        with self._lock:
            return self._busy

    def submit(self, item: Item, apply: Apply[Item, Result], *, wait: bool = True) -> Result:
        """Commit `item` (alone or with others queued meanwhile) and answer its outcome.

        With `wait=False` (the event loop, which must never wait), a database that is
        being written raises `WouldBlock` instead of queueing.
        """
        request: _Request[Item, Result] = _Request(item)
        with self._lock:
            if not self._busy:
                self._busy = True
                group = [request]
            elif not wait:
                raise WouldBlock()
            else:
                request.wake = wake = threading.Event()
                self._queue.append(request)
                group = []
        if not group:
            wake.wait()
            if not request.done:
                # Promoted: the previous leader is done and this is the oldest writer queued.
                with self._lock:
                    group, self._queue = self._queue, []
        if group:
            self._lead(group, apply)
        outcome = request.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]  # done and not an exception: a Result

    def _lead(self, group: list[_Request[Item, Result]], apply: Apply[Item, Result]) -> None:
        after: Callable[[], None] | None = None
        try:
            outcomes, after = apply([r.item for r in group])
            if len(outcomes) != len(group):
                # Checked here, not by zip: a writer left without an outcome would wait forever.
                raise RuntimeError(
                    f"a group commit answered {len(outcomes)} outcomes for {len(group)} writes"
                )
        except BaseException as exc:  # noqa: BLE001  (handed to every writer of the group)
            outcomes = [exc] * len(group)
        for r, outcome in zip(group, outcomes, strict=True):
            r.outcome = outcome
            r.done = True
        with self._lock:
            self.groups += 1
            self.largest = max(self.largest, len(group))
            following = self._queue[0] if self._queue else None
            if following is None:
                self._busy = False
        for r in group:
            if r.wake is not None:
                r.wake.set()
        if following is not None and following.wake is not None:  # queued: it has one
            following.wake.set()
        if after is not None:
            after()
