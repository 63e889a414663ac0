"""The one seq parser (`sync/seq.py`), against the cases both backends produce, and the
embedded store reading `since` with it."""

from __future__ import annotations

import pytest

from sync.embedded import EmbeddedStore
from sync.errors import BadRequest
from sync.seq import parse_since, seq_number


@pytest.mark.parametrize(
    ("seq", "number"),
    [
        (0, 0),
        (12, 12),
        ("12", 12),
        ("12-g1AAAAB4eJzLYWBgYMpgTmHgzcvPy09JdcjLz8gvLskBCeexAEmGBiD1HwiyMhiT", 12),
        (3.0, 3),
        (True, None),
        (False, None),
        ("now", None),
        ("abc-12", None),
        ("", None),
        (None, None),
        ([1, "x"], None),
        (2.5, None),
        ("²", None),
    ],
)
def test_the_number_a_seq_begins_with(seq, number):
    assert seq_number(seq) == number


@pytest.mark.parametrize(
    ("since", "start"), [(None, 0), ("", 0), ("now", 41), (-5, 0), (7, 7), ("7-opaque", 7)]
)
def test_since_is_where_a_feed_starts(since, start):
    assert parse_since(since, current=41) == start


@pytest.mark.parametrize("since", [True, "later", {"seq": 1}, "-3"])
def test_a_since_without_a_number_is_a_bad_request(since):
    with pytest.raises(BadRequest):
        parse_since(since, current=41)


@pytest.mark.parametrize("since", ["\u00b2", "\u0663-g1AA", True, "later", "-3"])
def test_the_embedded_feed_answers_400_to_a_since_without_an_ascii_number(tmp_path, since):
    """The embedded store reads `since` with the shared parser: "²" is a digit to Python
    but no number, and is a bad request rather than a crash."""
    store = EmbeddedStore(tmp_path)
    try:
        db = store.create_db("t_seq_sessions")
        with pytest.raises(BadRequest, match="since"):
            db.changes(since=since)
    finally:
        store.close()


def test_the_embedded_feed_resumes_after_an_opaque_seq(tmp_path):
    store = EmbeddedStore(tmp_path)
    try:
        db = store.create_db("t_seq_sessions")
        for i in range(3):
            db.put({"_id": f"d{i}"})
        assert [r["id"] for r in db.changes(since="1-g1AAAA")["results"]] == ["d1", "d2"]
        assert db.changes(since="now")["results"] == []
    finally:
        store.close()
