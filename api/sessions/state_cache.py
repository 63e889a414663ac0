"""Sessions as last read or written by this process, so recording a step does not read the
whole session again (`POST /api/v1/sessions/{id}/events`).

Each step posted over the API answers the session's new state, which is a fold over every
event. Read from the store each time, that was half the handler's work once a session held a
few hundred events (benchmarks/post_event.py: `load_session` 40% of the server's CPU, the
fold 10%). Here the header and events of a session stay in memory after a POST, and the next
POST starts from them.

What keeps that honest is the store's write observer (`Store.observe_writes`: called after
every commit, before any writer gets its answer), as for `ObservedCache`. Any write to a
session's header or events, by a device's push, another request or the merger, drops the
session's entry. A POST keeps its result only if, between opening its `Watch` and closing
it, the observer saw exactly the writes the POST made itself; anything else (a device pushed
an event meanwhile) means the result may already be old, and nothing is kept. So an entry
is always equal to what a read of the store would give at that moment.

Entries are shared, read-only values: callers build new lists and documents from them
(`[*events, new_event]`, `merge.apply_edit`), never change them in place. Memory is bounded
by the number of events held. The least recently used session makes room, but only once it
has been left alone for `IDLE_S`: a team stepping through more (or longer) sessions than fit
asks them in turn, and evicting the least recent would evict, turn after turn, the very next
one asked, so that no step found its session held (the closed-loop benchmark fell from 1,470
to 940 steps/s once its sessions outgrew the budget). The session that does not fit is then
the one not held. A store that cannot report
every write (CouchDB, where other instances write) gets no cache: `SessionStates.attach`
answers None and every POST reads the store.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sync.naming import parse_physical, physical_name
from sync.store import Store

from .repository import parse_doc_id

Key = tuple[str, str]  # (tenant id, session id)

# About 1 KB per event as Python objects: 20,000 events is some 20 MB, enough for the open
# sessions of a 500-engineer team at a few dozen events each.
MAX_EVENTS = 20_000
# How long a held session must have gone unused before a newer one may push it out.
IDLE_S = 60.0


@dataclass(frozen=True)
class Folded:
    """The fold of a held session's events (`FoldProgress`, which the next step carries
    forward by one event), and what else it was folded over (`basis`: the tree version, the
    header's start, the client context), which must still hold for it to be used."""

    progress: Any  # FoldProgress (fold.py); changed in place by whoever took it
    basis: tuple[Any, ...]


@dataclass(frozen=True)
class Cached:
    header: dict[str, Any]
    events: tuple[dict[str, Any], ...]
    # Unlike the rest, not shared: taken by one request at a time (`SessionStates.take_fold`).
    fold: Folded | None = None


@dataclass(eq=False)
class Watch:
    """Writes to one session counted while a request works on it."""

    key: Key
    writes: int = 0
    hit: Cached | None = field(default=None)
    # The store's coherence token when the watch opened (other processes writing the same
    # files); None when they do not, or when one of their writes had not reached us yet.
    token: tuple[int, int] | None = field(default=None)


class SessionStates:
    """(tenant, session) -> the session's header and events, dropped on any write to them."""

    def __init__(
        self, *, max_events: int = MAX_EVENTS, idle_s: float = IDLE_S, clock: Any = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, Cached] = OrderedDict()
        self._used: dict[Key, float] = {}  # when each entry was last kept or found
        self._held = 0  # events in all entries
        self._max_events = max_events
        self._idle_s = idle_s
        self._clock = clock
        self._watches: dict[Key, list[Watch]] = {}
        self._coherence: Any = None  # the store's, when other processes write it too
        self.hits = 0
        self.misses = 0

    def attach(self, store: Store) -> SessionStates | None:
        """This cache, told of `store`'s writes; None when the store cannot tell of them all."""
        if getattr(store, "shared", False):
            self._coherence = store.coherence  # type: ignore[attr-defined]
        return self if store.observe_writes(self.written, self.clear) else None

    def _token(self, key: Key) -> tuple[int, int] | None:
        db = physical_name(key[0], "sessions")
        token: tuple[int, int] | None = self._coherence(db, f"session:{key[1]}")
        return token

    def clear(self) -> None:
        """Forget every session (the store lost track of other processes' writes)."""
        with self._lock:
            self._entries.clear()
            self._used.clear()
            self._held = 0
            for watches in self._watches.values():
                for w in watches:
                    w.writes += 1_000_000

    @contextmanager
    def watch(self, tenant_id: str, sid: str) -> Iterator[Watch]:
        """Count the writes to this session while the block runs; `w.hit` is the entry held
        when the watch opened (None: read the store)."""
        key = (tenant_id, sid)
        w = Watch(key)
        shared = self._coherence is not None
        if shared:
            w.token = self._token(key)
        with self._lock:
            self._watches.setdefault(key, []).append(w)
            # While another process's write to the session is on its way, read the store.
            entry = None if shared and w.token is None else self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self._used[key] = self._clock()
                self.hits += 1
            else:
                self.misses += 1
            w.hit = entry
        try:
            yield w
        finally:
            with self._lock:
                watches = self._watches.get(key, [])
                if w in watches:
                    watches.remove(w)
                if not watches:
                    self._watches.pop(key, None)

    def take_fold(self, w: Watch) -> Folded | None:
        """The fold held with `w.hit`, for this request alone: it is taken out of the entry
        (applying an event changes it), and comes back only with the next `keep`."""
        with self._lock:
            entry = self._entries.get(w.key)
            if entry is None or entry is not w.hit or entry.fold is None:
                return None
            self._entries[w.key] = Cached(entry.header, entry.events)
            return entry.fold

    def keep(
        self,
        w: Watch,
        header: dict[str, Any],
        events: list[dict[str, Any]],
        *,
        own_writes: int,
        fold: Folded | None = None,
    ) -> bool:
        """Hold this state (and the fold of exactly these events, if given) if the only
        writes seen during `w` were the caller's `own_writes` (then it is what the store
        holds now). True when kept."""
        if header.get("_conflicts"):
            return False
        value = Cached(header, tuple(events), fold)
        if self._coherence is not None:
            # Kept only if no other process wrote the session since the watch opened: its
            # counter moved by this request's own commits alone, and all of them are applied.
            now = self._token(w.key)
            if w.token is None or now is None or now[0] != w.token[0] or now[1] - w.token[1] > own_writes:
                return False
        with self._lock:
            if w.writes != own_writes or len(value.events) > self._max_events:
                return False
            now = self._clock()
            self._drop(w.key)
            self._entries[w.key] = value
            self._used[w.key] = now
            self._held += len(value.events)
            while self._held > self._max_events and self._entries:
                oldest = next(iter(self._entries))
                if oldest != w.key and now - self._used.get(oldest, now) < self._idle_s:
                    self._drop(w.key)  # every session held is in use: this one is not held
                    return False
                self._drop(oldest)
        return True

    def written(self, db_name: str, ids: list[str] | None) -> None:
        """The store's write observer."""
        parsed = parse_physical(db_name)
        if parsed is None or parsed.name != "sessions":
            return
        tenant = parsed.tenant_id
        if ids is None:  # the database was created or deleted
            with self._lock:
                for key in [k for k in self._entries if k[0] == tenant]:
                    self._drop(key)
                for key, watches in self._watches.items():
                    if key[0] == tenant:
                        for w in watches:
                            w.writes += 1_000_000  # never equal to a request's own writes
            return
        per_session = Counter(sid for sid, _ in map(parse_doc_id, ids) if sid is not None)
        if not per_session:
            return
        with self._lock:
            for sid, count in per_session.items():
                key = (tenant, sid)
                self._drop(key)
                for w in self._watches.get(key, ()):
                    w.writes += count

    def _drop(self, key: Key) -> None:
        self._used.pop(key, None)
        old = self._entries.pop(key, None)
        if old is not None:
            self._held -= len(old.events)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
