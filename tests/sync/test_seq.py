"""The one seq parser (`sync/seq.py`), against the cases both backends produce."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from sync.errors import BadRequest
from sync.seq import parse_since, seq_number


@pytest.mark.parametrize(("seq", "number"), [
    (0, 0), (12, 12), ("12", 12), ("12-g1AAAAB4eJzLYWBgYMpgTmHgzcvPy09JdcjLz8gvLskBCeexAEmGBiD1HwiyMhiT", 12),
    (3.0, 3), (True, None), (False, None), ("now", None), ("abc-12", None), ("", None), (None, None),
    ([1, "x"], None), (2.5, None), ("²", None),
])
def test_the_number_a_seq_begins_with(seq, number):
    assert seq_number(seq) == number


@pytest.mark.parametrize(("since", "start"), [(None, 0), ("", 0), ("now", 41), (-5, 0), (7, 7), ("7-opaque", 7)])
def test_since_is_where_a_feed_starts(since, start):
    assert parse_since(since, current=41) == start


@pytest.mark.parametrize("since", [True, "later", {"seq": 1}, "-3"])
def test_a_since_without_a_number_is_a_bad_request(since):
    with pytest.raises(BadRequest):
        parse_since(since, current=41)


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.text(alphabet=st.characters(max_codepoint=127), max_size=12),
                 st.floats(allow_nan=False), st.just("now")))
def test_the_embedded_stores_parser_agrees_until_it_switches_to_this_one(since):
    from sync.embedded import parse_seq

    try:
        expected: int | str = parse_seq(since, 41)
    except BadRequest:
        expected = "bad_request"
    try:
        got: int | str = parse_since(since, 41)
    except BadRequest:
        got = "bad_request"
    assert got == expected
