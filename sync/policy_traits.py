"""What an access policy lets the sync layer skip, declared by the policy itself.

A replication is hundreds of small requests; the sync layer answers them faster when it
knows a policy's rules cannot depend on what it would skip (document bodies in a feed, the
stored document on a write, a worker thread for a check that never blocks). Those shortcuts
are safe only where the policy's own class says so: a class declares `sync_traits`, and a
declaration inherited from a parent class does not count, because a subclass that changes a
rule (its own `can_read`, say) must state again what still holds. A policy that declares
nothing is asked everything, with full documents, on a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PolicyTraits:
    # `can_read` is true of every document of a database the caller may read: feeds need no
    # document bodies to screen rows.
    reads_every_document: bool = False
    # `check_write` never looks at the stored document (`current`): writes need not fetch it.
    writes_judged_without_stored_doc: bool = False
    # `check_db` is pure computation: it may run on the event loop.
    db_checks_never_block: bool = False
    # `extra_changes_ids` is always empty: no document becomes readable after the fact.
    no_late_documents: bool = False


ASKS_EVERYTHING = PolicyTraits()


def policy_traits(policy: Any) -> PolicyTraits:
    """The traits `policy`'s own class declares (`sync_traits`), else none at all."""
    declared = type(policy).__dict__.get("sync_traits")
    return declared if isinstance(declared, PolicyTraits) else ASKS_EVERYTHING
