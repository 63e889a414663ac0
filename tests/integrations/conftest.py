"""Fixtures of the PSA connector tests: a fake ConnectWise and a fake Autotask on loopback ports."""

from __future__ import annotations

import pytest

from tests.integrations.fake_autotask import AT_PORT, FakeAutotask
from tests.integrations.fake_connectwise import FakeConnectWise


@pytest.fixture
def cw():
    fake = FakeConnectWise(members=[{"identifier": "jdoe", "primaryEmail": "nobody@example.invalid"}]).start()
    yield fake
    fake.stop()


@pytest.fixture
def at():
    """A fresh fake Autotask on the port the module's server discovers zones at (AT_PORT)."""
    fake = FakeAutotask(
        port=AT_PORT,
        resources=[{"id": 29682885, "email": "nobody@example.invalid", "isActive": True}],
        roles=[{"id": 1, "resourceID": 29682885, "roleID": 29683461, "isDefault": True, "isActive": True}],
    ).start()
    yield fake
    fake.stop()
