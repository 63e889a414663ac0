"""The sync layer's shortcuts follow what a policy's own class declares, never what it inherits."""

from __future__ import annotations

from typing import Any

from sync.access import Principal, RolePolicy
from sync.http import SyncApi
from sync.policy_traits import ASKS_EVERYTHING, PolicyTraits, policy_traits


class Narrower(RolePolicy):
    """Changes a rule and declares nothing: it inherits RolePolicy's declaration, which must not count."""

    def can_read(self, principal: Principal, db: str, doc: dict[str, Any]) -> bool:
        return doc.get("owner") == principal.user_id


class Declared(Narrower):
    sync_traits = PolicyTraits(db_checks_never_block=True, writes_judged_without_stored_doc=True)


def _api(policy: Any) -> SyncApi:
    return SyncApi(lambda: None, lambda request, tenant: None, policy, lambda tenant: "u")  # type: ignore[arg-type,return-value]


def test_a_subclass_that_declares_nothing_is_asked_everything():
    assert policy_traits(RolePolicy()).reads_every_document
    assert policy_traits(Narrower()) == ASKS_EVERYTHING
    api = _api(Narrower())
    assert api.filters_reads and api.write_needs_current
    assert not api.quick_db_checks and not api.quick_changes


def test_a_declaration_is_taken_as_given():
    api = _api(Declared())
    assert api.filters_reads and not api.write_needs_current
    assert api.quick_db_checks and not api.quick_changes
    role = _api(RolePolicy())
    assert not role.filters_reads and not role.write_needs_current and role.quick_changes
