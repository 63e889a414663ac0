"""Who may read each session, remembered between requests (the header's owner and sharers).

Every event a feed sends, every event a device pushes and every wake-up of a live feed asks
who may read the event's session, which lives in the session's header. Read from the store
each time, that lookup was a third of the server's work with a team replicating at once
(benchmarks/load_team.py): the same two hundred headers read thousands of times a minute,
although they change a few times in a session's life.

So the answers are kept in an `ObservedCache` (sync/observed_cache.py: forgotten the moment
a header is written, before its writer gets the answer, so an owner's unshare is in force
for the very next request), one scope per tenant, one key per session. Events and other
documents never change who reads a session, so their writes drop nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from sync.naming import parse_physical, physical_name
from sync.observed_cache import ObservedCache

from .repository import parse_doc_id

Acl = tuple[str | None, frozenset[str]] | None

# Enough for every live session of a thousand busy tenants; an entry is a few hundred bytes.
MAX_ENTRIES = 50_000
TTL_S = 60.0


def _tenant_of_sessions_db(db_name: str) -> Hashable | None:
    parsed = parse_physical(db_name)
    return parsed.tenant_id if parsed is not None and parsed.name == "sessions" else None


def _header_sid(docid: str) -> tuple[str, ...]:
    sid, is_event = parse_doc_id(docid)
    return (sid,) if sid is not None and not is_event else ()


def _header_source(tenant_id: Hashable, sid: Hashable) -> tuple[str, str]:
    return physical_name(str(tenant_id), "sessions"), f"session:{sid}"


class HeaderAcls(ObservedCache[Acl]):
    """(tenant, session) -> the session's ACL, dropped when its header is written."""

    def __init__(
        self,
        *,
        max_entries: int = MAX_ENTRIES,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            _tenant_of_sessions_db,
            _header_sid,
            max_entries=max_entries,
            ttl_s=ttl_s,
            clock=clock,
            source=_header_source,
        )
