"""Fixtures of the PSA connector tests: a fake ConnectWise on a loopback port."""

from __future__ import annotations

import pytest

from tests.integrations.fake_connectwise import FakeConnectWise


@pytest.fixture
def cw():
    fake = FakeConnectWise(members=[{"identifier": "jdoe", "primaryEmail": "nobody@example.invalid"}]).start()
    yield fake
    fake.stop()
