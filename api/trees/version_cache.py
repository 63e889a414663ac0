"""Published tree versions held in memory for the steps recorded over the API.

Every step (`POST /sessions/{id}/events`) folds the session over its pinned version, and
reading that document from the store was an eighth of the step's work with a team writing at
once. A version is immutable (only the server writes it, once), so it is kept as the JSON text
the store would answer and parsed anew for each caller: nobody shares, or can change, another
request's copy. `ObservedCache` drops an entry when the store reports a write to it and gives
no cache on CouchDB, where other instances write too; there each step reads the store as before.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import orjson

from sync.naming import parse_physical
from sync.observed_cache import ObservedCache
from sync.store import Store

PREFIX = "treever:"
# A version of a large tree is a few MB (2,000 richly written steps are about 2.4 MB); the
# versions sessions are running on at once are far fewer than this.
MAX_ENTRIES = 256

VersionCache = ObservedCache[bytes | None]


def _scope(db_name: str) -> Hashable | None:
    parsed = parse_physical(db_name)
    return db_name if parsed is not None and parsed.name == "trees" else None


def _keys(docid: str) -> tuple[str, ...]:
    return (docid,) if docid.startswith(PREFIX) else ()


def make(store: Store) -> VersionCache | None:
    """The cache, told of `store`'s writes; None when the store cannot tell of them all."""
    return VersionCache(_scope, _keys, max_entries=MAX_ENTRIES, ttl_s=600.0, id_prefix=PREFIX).attach(store)


def version_doc(
    cache: VersionCache | None, db_name: str, docid: str, read: Callable[[], dict[str, Any] | None]
) -> dict[str, Any] | None:
    """The version document `read()` gives (after migration), from memory when held; a copy of
    its own for every caller."""
    if cache is None:
        return read()
    text = cache.get(db_name, docid, lambda: _text(read()))
    return None if text is None else orjson.loads(text)


def _text(doc: dict[str, Any] | None) -> bytes | None:
    return None if doc is None else orjson.dumps(doc)
