"""Physical database names are built and read in one place (`sync/naming.py`, issue 23 point 3).

Four readers of `t_{tenant}_{name}` disagreed: backups split on the first `_` whatever the
tenant id, the header merger matched any name ending in `_sessions`, and the CouchDB design
documents had their own copy. Every reader now goes through `parse_physical`.
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from api.backups.service import _tenant_groups
from api.sessions.service import HeaderMerger
from sync.couchdb_ddocs import logical_of as ddoc_logical_of
from sync.naming import (
    SYSTEM_DB,
    TenantDbName,
    logical_name,
    logical_of,
    parse_physical,
    physical_name,
    tenant_of,
)

tenants = st.from_regex(r"[a-z0-9]{6,32}", fullmatch=True)
logicals = st.from_regex(r"[a-z][a-z0-9_$()+-]{0,63}", fullmatch=True)


@given(tenants, logicals)
def test_a_physical_name_reads_back_as_the_tenant_and_database_it_was_built_from(tenant_id, name):
    physical = physical_name(tenant_id, name)
    assert parse_physical(physical) == TenantDbName(tenant_id, name)
    assert tenant_of(physical) == tenant_id
    assert logical_of(physical) == name == logical_name(tenant_id, physical)
    assert ddoc_logical_of(physical) == name


@pytest.mark.parametrize(
    "name",
    [
        SYSTEM_DB,
        "t_",
        "t_abc_sessions",
        "t_ABCDEF12_sessions",
        "x_abcdef12_trees",
        "t_abcdef12_",
        "t_abcdef12_Trees",
    ],
)
def test_names_outside_any_tenant_belong_to_none(name):
    assert parse_physical(name) is None and tenant_of(name) is None
    assert logical_of(name) == name


def test_every_reader_agrees_on_which_databases_are_a_tenants_sessions():
    names = [
        SYSTEM_DB,
        physical_name("abcdef12", "sessions"),
        physical_name("abcdef12", "my_sessions"),
        "t_abc_sessions",
    ]
    assert [HeaderMerger.follows(n) for n in names] == [False, True, False, False]
    assert _tenant_groups(names) == {
        "system": [SYSTEM_DB],
        "abcdef12": names[1:3],
        "other": ["t_abc_sessions"],
    }
