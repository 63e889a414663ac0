"""The background workers of one application, started and stopped by its lifespan.

A feature that runs anything in the background (a thread, a scheduler, a process pool)
registers it here from its start-up hook rather than starting it itself: the application's
lifespan starts every worker after start-up and stops them all at shutdown, in reverse
order, so that after shutdown no thread of ours is left running (a daemon thread would be
killed mid-write at exit, and tests would leak one per app they make).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("branchline")


class Worker(Protocol):
    """Something that runs in the background while the application serves."""

    @property
    def name(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None:
        """Ask it to end and wait until its threads (or processes) have ended."""


@dataclass
class CallbackWorker:
    """A worker made of two functions, for code that already has start and stop calls."""

    name: str
    on_start: Callable[[], object]
    on_stop: Callable[[], object]

    def start(self) -> None:
        self.on_start()

    def stop(self) -> None:
        self.on_stop()


@dataclass
class Workers:
    """The registered workers, in registration order."""

    items: list[Worker] = field(default_factory=list)
    started: bool = False

    def add(self, worker: Worker) -> None:
        if any(w.name == worker.name for w in self.items):
            raise ValueError(f"A worker named {worker.name!r} is registered already; give each its own name.")
        self.items.append(worker)
        if self.started:
            worker.start()

    def start_all(self) -> None:
        self.started = True
        for worker in self.items:
            worker.start()

    def stop_all(self) -> None:
        """Stop every worker, the last started first; one failing to stop does not keep
        the others running."""
        self.started = False
        for worker in reversed(self.items):
            try:
                worker.stop()
            except Exception:  # shutdown goes on with the others
                log.exception("stopping the background worker %s failed", worker.name)
