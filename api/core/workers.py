"""The background workers of one application, started and stopped by its lifespan.

A feature that runs anything in the background (a thread, a scheduler, a process pool)
registers it here from its start-up hook rather than starting it itself: the application's
lifespan starts every worker after start-up and stops them all at shutdown, in reverse
order, so that after shutdown no thread of ours is left running (a daemon thread would be
killed mid-write at exit, and tests would leak one per app they make).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

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


class WokenThread:
    """A worker that is one daemon thread running `_loop`, woken by the store's writes.

    `_on_write` is added as a store listener on the first start (once: a restarted worker
    keeps it), sets `_wake` for what concerns it; `_loop` waits on `_wake` and ends when
    `_stop` is set. `stop()` sets both and waits for the thread. Subclasses call
    `_init_thread(store)` from their `__init__`, and may add work at start (`_starting`,
    before the thread) and after stop (`_stopped`, once the thread has ended).
    """

    thread_name = "branchline-worker"
    join_timeout_s = 60.0

    def _init_thread(self, store: Any) -> None:
        self._store = store
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listening = False

    def start(self) -> None:
        if self._thread is not None:
            return
        if not self._listening:
            self._store.add_listener(self._on_write)
            self._listening = True
        self._stop.clear()
        self._starting()
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(self.join_timeout_s)
        self._stopped()

    def _starting(self) -> None:
        """Before the thread starts."""

    def _stopped(self) -> None:
        """After the thread has ended (or the wait for it ran out)."""

    def _on_write(self, db_name: str, _seq: Any = None) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        raise NotImplementedError
