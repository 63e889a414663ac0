"""Values read from stored documents, kept in memory and dropped the moment one is written.

For lookups every request makes of documents that rarely change (who may read a session,
the caller's account): read from the store each time they were a large share of the
server's work with a whole team syncing at once. The store tells the cache of every
committed write, in the writing thread and before the writer gets its answer
(`Store.observe_writes`), so what a writer changed is in force for the very next request.
A store that cannot promise that (CouchDB, which other instances write too) gets no cache:
`ObservedCache.attach` answers None and callers read the store as before.

A lookup that misses reads outside the cache's lock. A document committed while that read
ran could make it return the old value; such a read is not kept (the scope's generation
moved on while it ran). Entries also expire after `ttl_s`: a second process writing the
same files (the command line) is not seen by the store, and this bounds how long anything
it changed is answered from memory. A read must start its own snapshot (never run inside
another read of the same database), or it could see a state older than the generation it
started under.

Values are shared between callers: they must be treated as read-only.

Several server processes on one embedded data folder (`sync/embedded/peers.py`) learn of
each other's writes a moment late. A cache then needs `source(scope, key)`: the database and
a document id of the group its value depends on (`partition`); it answers from memory only
while the store says every write to that group has reached it (`coherence`). A cache without
a `source` is not kept there, as on CouchDB.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from .store import Store

V = TypeVar("V")

# Which scope (e.g. a tenant) a database's writes concern, or None: not this cache's.
ScopeOf = Callable[[str], "Hashable | None"]
# Which keys of the scope a written document id concerns (empty: none).
KeysOf = Callable[[str], "Iterable[Hashable]"]
# The database and a document id of the group that (scope, key)'s value is read from.
SourceOf = Callable[[Hashable, Hashable], tuple[str, str]]
# Ids with these prefixes are one group per database (a cache reads them all together):
# design documents (validators), and the app's `treemeta:` sidecars (a tenant's tree scoping,
# api/teams/scopes.py). Listed here, not registered by the cache's module, so that every
# process groups them alike whatever it imported.
_GROUPED = ("_design/", "treemeta:")


def partition(docid: str) -> str:
    """The group of documents a cached value depends on: the id up to its second colon.

    `session:{sid}` and its events `session:{sid}:ev:{id}` are one group, `user:{id}` its
    own; ids starting with a `_GROUPED` prefix are one group.
    """
    for prefix in _GROUPED:
        if docid.startswith(prefix):
            return prefix
    first = docid.find(":")
    if first < 0:
        return docid
    second = docid.find(":", first + 1)
    return docid if second < 0 else docid[:second]


class ObservedCache(Generic[V]):
    """(scope, key) -> value, dropped when the store reports a write that concerns the key."""

    def __init__(
        self,
        scope_of: ScopeOf,
        keys_of: KeysOf,
        *,
        max_entries: int = 50_000,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        id_prefix: str | None = None,
        source: SourceOf | None = None,
    ) -> None:
        self._scope_of = scope_of
        self._source = source
        # The store, when other processes write it too (see the module's text), and the
        # counters each key's group is read from (hashing names costs more than the lookup).
        self._shared: Any = None
        self._slots: dict[tuple[Hashable, Hashable], Any] = {}
        self._keys_of = keys_of
        # Only ids with this prefix can concern a key: the others are passed over without a
        # call to `keys_of` (a replicated batch writes hundreds of ids none of which matter).
        self._id_prefix = id_prefix
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Hashable, Hashable], tuple[V, float]] = OrderedDict()
        # Per scope: moves on whenever a write concerned one of its keys.
        self._generation: dict[Hashable, int] = {}
        self._epoch = 0  # moves on when everything is forgotten (`clear`)
        self._max = max_entries
        self._ttl = ttl_s
        self._clock = clock
        self.hits = 0
        self.misses = 0

    def attach(self, store: Store) -> ObservedCache[V] | None:
        """This cache, told of `store`'s writes; None when the store cannot tell of them all."""
        if getattr(store, "shared", False):
            if self._source is None:
                return None
            self._shared = store
        return self if store.observe_writes(self.written, self.clear) else None

    def _token(self, scope: Hashable, key: Hashable) -> Hashable | None:
        slots = self._slots.get((scope, key))
        if slots is None:
            assert self._source is not None
            if len(self._slots) >= self._max:
                self._slots.clear()
            slots = self._slots[(scope, key)] = self._shared.coherence_slots(*self._source(scope, key))
        token: Hashable | None = self._shared.coherence_of(slots)
        return token

    def get(self, scope: Hashable, key: Hashable, read: Callable[[], V]) -> V:
        """The value from memory, or else from `read()` (kept unless a write raced it)."""
        entry_key = (scope, key)
        token: Hashable | None = None
        if self._shared is not None:
            token = self._token(scope, key)
            if token is None:  # another process's write has not reached this one yet
                return read()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(entry_key)
            if entry is not None and entry[1] > now:
                self._entries.move_to_end(entry_key)
                self.hits += 1
                return entry[0]
            generation = self._generation.get(scope, 0), self._epoch
            self.misses += 1
        value = read()
        if token is not None and self._token(scope, key) != token:
            return value  # another process wrote the group while it was read
        with self._lock:
            if (self._generation.get(scope, 0), self._epoch) == generation:
                self._entries[entry_key] = (value, now + self._ttl)
                self._entries.move_to_end(entry_key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        return value

    def peek(self, scope: Hashable, key: Hashable) -> tuple[bool, V | None]:
        """(True, the value) when it is in memory and fresh; (False, None) otherwise. Never reads."""
        if self._shared is not None and self._token(scope, key) is None:
            return False, None
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is None or entry[1] <= self._clock():
                return False, None
            return True, entry[0]

    def written(self, db_name: str, ids: list[str] | None) -> None:
        """The store's write observer: forget what `ids` concern (all of the scope's entries
        when `ids` is None: the database was created or deleted)."""
        scope = self._scope_of(db_name)
        if scope is None:
            return
        if ids is None:
            with self._lock:
                self._generation[scope] = self._generation.get(scope, 0) + 1
                for entry_key in [k for k in self._entries if k[0] == scope]:
                    del self._entries[entry_key]
            return
        if self._id_prefix is not None:
            ids = [docid for docid in ids if docid.startswith(self._id_prefix)]
        keys = [key for docid in ids for key in self._keys_of(docid)]
        if not keys:
            return
        with self._lock:
            self._generation[scope] = self._generation.get(scope, 0) + 1
            for key in keys:
                self._entries.pop((scope, key), None)

    def clear(self) -> None:
        """Forget everything (the store lost track of other processes' writes)."""
        with self._lock:
            self._epoch += 1
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
