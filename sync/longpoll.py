"""Wake `_changes` longpoll and continuous requests when their database changes.

The store calls its listeners from whichever thread committed the write; waiting requests
live on an asyncio event loop. A waiting request must not hold a worker thread (a phone
holds a live replication open for hours), so each waiter is an `asyncio.Event` that the
store's thread sets through `loop.call_soon_threadsafe`.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any


class Waiter:
    """One request waiting for writes to one physical database.

    Register before reading the feed, so a write that lands between the read and the
    wait still wakes it (the event stays set until `wait` consumes it).
    """

    def __init__(self, notifier: "ChangeNotifier", db_name: str) -> None:
        self._notifier = notifier
        self.db_name = db_name
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    async def wait(self, timeout: float | None) -> bool:
        """True when the database changed, False when `timeout` (seconds) ran out first."""
        try:
            if timeout is None:
                await self.event.wait()
            else:
                await asyncio.wait_for(self.event.wait(), max(timeout, 0.0))
        except asyncio.TimeoutError:
            return False
        self.event.clear()
        return True

    def __enter__(self) -> "Waiter":
        self._notifier._add(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._notifier._remove(self)


class ChangeNotifier:
    """Fan-out from the store's write listener to the waiters of each database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = {}
        self._stores: list[Any] = []

    def attach(self, store: Any) -> None:
        """Listen to `store` once, however many requests call this."""
        with self._lock:
            if any(s is store for s in self._stores):
                return
            self._stores.append(store)
        store.add_listener(self.notify)

    def notify(self, db_name: str, update_seq: Any = None) -> None:
        """The store's listener: called from the writing thread after a commit."""
        with self._lock:
            waiters = list(self._waiters.get(db_name, ()))
        for w in waiters:
            try:
                w.loop.call_soon_threadsafe(w.event.set)
            except RuntimeError:
                # The waiter's loop has closed (server shutting down): nothing to wake.
                pass

    def waiting(self) -> int:
        """How many requests are waiting right now (for monitoring and tests)."""
        with self._lock:
            return sum(len(group) for group in self._waiters.values())

    def waiter(self, db_name: str) -> Waiter:
        return Waiter(self, db_name)

    def _add(self, w: Waiter) -> None:
        with self._lock:
            self._waiters.setdefault(w.db_name, set()).add(w)

    def _remove(self, w: Waiter) -> None:
        with self._lock:
            group = self._waiters.get(w.db_name)
            if group is not None:
                group.discard(w)
                if not group:
                    del self._waiters[w.db_name]
