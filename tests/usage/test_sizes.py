"""Sizes the operator types and the figures people read (`api/usage/sizes.py`), and the
percentage and warnings of the usage answer (`api/usage/service.py`), as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from api.usage.service import percent, warnings
from api.usage.sizes import format_size, parse_size

GIB = 1024**3


@pytest.mark.parametrize(
    "text,expected",
    [
        ("10GiB", 10 * GIB),
        ("10 GB", 10 * GIB),
        ("10g", 10 * GIB),
        ("512MB", 512 * 1024**2),
        ("1.5 GiB", int(1.5 * GIB)),
        ("1073741824", GIB),
        ("300kb", 300 * 1024),
        ("2T", 2 * 1024**4),
        ("unlimited", 0),
        ("None", 0),
        ("0", 0),
    ],
)
def test_sizes_operators_type(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "ten gigs", "10 XB", "-5GB", "1e9", "5 GiBs", "2000TB"])
def test_what_is_not_a_size_is_refused_with_an_example(text):
    with pytest.raises(ValueError, match=r"10GiB|petabyte"):
        parse_size(text)


@pytest.mark.parametrize(
    "n,shown", [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (3 * 1024**2, "3.0 MB"), (5 * GIB, "5.0 GB")]
)
def test_sizes_people_read(n, shown):
    assert format_size(n) == shown


@given(st.integers(min_value=0, max_value=1024**5))
def test_a_shown_size_reads_back_to_within_its_rounding(n):
    shown = format_size(n).replace(" ", "")
    assert abs(parse_size(shown) - n) <= max(0.05 * n, 1)


def test_the_warning_starts_at_80_percent_and_never_rounds_up_to_it():
    quota = 1000
    assert percent(799, quota) == 79.9 and warnings(79.9, quota, 799) == []
    assert percent(7999, 10_000) == 79.9  # 79.99%: shown as 79.9, not 80.0 without a warning
    assert [w["code"] for w in warnings(80.0, quota, 800)] == ["storage_high"]
    assert [w["code"] for w in warnings(100.0, quota, 1000)] == ["storage_full"]
    assert percent(5, None) is None and warnings(None, None, 5) == []


def test_a_nearly_full_quota_is_never_called_100_percent_full_while_writes_still_pass():
    """Regression: 99.9% was formatted with rounding, so the notice said "Storage is 100% full"
    while nothing was refused yet (only a full quota refuses new work)."""
    quota = 10_000
    pct = percent(9_995, quota)
    assert pct == 99.9
    [warning] = warnings(pct, quota, 9_995)
    assert warning["code"] == "storage_high" and "Storage is 99% full" in warning["message"]
    assert "Storage is 80% full" in warnings(percent(8_049, quota), quota, 8_049)[0]["message"]
