"""ULIDs for event ids (api/sessions/ids.py); pwa/src/shared/ulid.test vectors are the same."""

from __future__ import annotations

import pytest

from api.sessions import ids as ids_module
from api.sessions.ids import encode_ulid, ulid, ulid_time


@pytest.fixture(autouse=True)
def fresh_generator(monkeypatch):
    # The generator is monotonic per process: an id made earlier in this process (by any test)
    # with today's clock would otherwise carry over into these fixed past timestamps.
    monkeypatch.setattr(ids_module, "_last_ms", -1)
    monkeypatch.setattr(ids_module, "_last_random", 0)


def test_time_part_matches_the_ulid_specification_example():
    # The specification's example ULID 01ARYZ6S41TSV4RRFFQ69G5FAV was made at 1469918176385.
    assert encode_ulid(1469918176385, 2**79 + 7)[:10] == "01ARYZ6S41"
    assert ulid_time("01ARYZ6S41TSV4RRFFQ69G5FAV") == 1469918176385


def test_shared_vectors_with_the_typescript_ulid():
    assert encode_ulid(0, 0) == "0" * 26
    assert encode_ulid(2**48 - 1, 2**80 - 1) == "7" + "Z" * 25
    assert encode_ulid(1732600000000, 12345) == "01JDKG3VG00000000000000C1S"


def test_ids_made_in_one_millisecond_stay_in_order():
    ids = [ulid(1732600000000) for _ in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {ulid_time(i) for i in ids} == {1732600000000}


def test_a_clock_stepping_back_does_not_break_the_order():
    first = ulid(1732600005000)
    second = ulid(1732600000000)
    assert second > first


@pytest.mark.parametrize("bad", [-1, 2**48])
def test_time_out_of_range_is_refused(bad):
    with pytest.raises(ValueError):
        encode_ulid(bad, 0)
