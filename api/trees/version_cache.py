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
# Memory is bounded by count and size: at most 128 versions of at most 256 KB of JSON each
# (32 MB). A larger version (2,000 richly written steps are about 2.4 MB) is read from the
# store every time, as before; a typical one is tens of KB.
MAX_ENTRIES = 128
MAX_TEXT = 256 * 1024
_TOO_LARGE = b""  # kept in place of a version over MAX_TEXT: read it from the store

VersionCache = ObservedCache[bytes | None]


def _scope(db_name: str) -> Hashable | None:
    parsed = parse_physical(db_name)
    return db_name if parsed is not None and parsed.name == "trees" else None


def _keys(docid: str) -> tuple[str, ...]:
    return (docid,) if docid.startswith(PREFIX) else ()


def make(store: Store) -> VersionCache | None:
    """The cache, told of `store`'s writes; None when the store cannot tell of them all."""
    # 60 s, as the other observed caches: what another process (the command line) writes is
    # not reported, and a version asked for before it existed is answered 404 until then.
    return VersionCache(
        _scope, _keys, max_entries=MAX_ENTRIES, ttl_s=60.0, id_prefix=PREFIX, source=_source
    ).attach(store)


def _source(db_name: Hashable, docid: Hashable) -> tuple[str, str]:
    return str(db_name), str(docid)


def version_doc(
    cache: VersionCache | None, db_name: str, docid: str, read: Callable[[], dict[str, Any] | None]
) -> dict[str, Any] | None:
    """The version document `read()` gives (after migration), from memory when held; a copy of
    its own for every caller."""
    if cache is None:
        return read()
    fresh: list[dict[str, Any] | None] = []  # the document when this call read it itself

    def fill() -> bytes | None:
        fresh.append(read())
        return _text(fresh[0])

    text = cache.get(db_name, docid, fill)
    if fresh:
        return fresh[0]  # read for this call: nobody else holds it
    if text is None:
        return None
    return read() if text == _TOO_LARGE else orjson.loads(text)


def _text(doc: dict[str, Any] | None) -> bytes | None:
    if doc is None:
        return None
    text = orjson.dumps(doc)
    return text if len(text) <= MAX_TEXT else _TOO_LARGE
