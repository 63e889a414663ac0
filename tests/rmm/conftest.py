"""Fixtures of the RMM tests: a fake NinjaOne and a fake Datto RMM on loopback ports."""

from __future__ import annotations

import pytest

from tests.rmm.fake_datto import FakeDatto
from tests.rmm.fake_ninjaone import FakeNinjaOne


@pytest.fixture
def ninja():
    fake = FakeNinjaOne().start()
    yield fake
    fake.stop()


@pytest.fixture
def datto():
    fake = FakeDatto().start()
    yield fake
    fake.stop()
