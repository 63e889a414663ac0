"""The view collation (sync/js/collate.py) and built-in reduces (sync/js/reduce.py), pure."""

from __future__ import annotations

import functools
import itertools
import random

import pytest
from hypothesis import given, strategies as st

from sync.js.collate import collate, collate_json, sort_key
from sync.js.reduce import ReduceError, builtin

# The order of CouchDB's documentation ("Views Collation"), where ICU and our approximation
# agree: case-insensitive first, lowercase before uppercase on a tie.
DOCUMENTED_ORDER = [
    None,
    False,
    True,
    1,
    2,
    3.0,
    4,
    "a",
    "A",
    "aa",
    "b",
    "B",
    "ba",
    "bb",
    ["a"],
    ["b"],
    ["b", "c"],
    ["b", "c", "a"],
    ["b", "d"],
    ["b", "d", "e"],
    {"a": 1},
    {"a": 2},
    {"b": 1},
    {"b": 2},
    {"b": 2, "a": 1},
    {"b": 2, "c": 2},
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


def test_documented_order():
    shuffled = random.Random(7).sample(DOCUMENTED_ORDER, len(DOCUMENTED_ORDER))
    assert sorted(shuffled, key=sort_key) == DOCUMENTED_ORDER
    for a, b in itertools.pairwise(DOCUMENTED_ORDER):
        assert collate(a, b) == -1 and collate(b, a) == 1


def test_numbers_compare_by_value_and_json_text_collates_alike():
    assert collate(1, 1.0) == 0
    assert collate_json("1", "1.0") == 0
    assert collate_json('"b"', '"A"') == 1
    assert collate_json("[2024, 1]", "[2024, {}]") == -1


@given(json_values, json_values)
def test_collate_is_antisymmetric(a, b):
    assert collate(a, b) == -collate(b, a)


@given(st.lists(json_values, max_size=8))
def test_sorting_by_key_agrees_with_pairwise_collation(values):
    by_key = sorted(values, key=sort_key)
    by_cmp = sorted(values, key=functools.cmp_to_key(collate))
    assert [sort_key(v) for v in by_key] == [sort_key(v) for v in by_cmp]


def test_builtin_reduces():
    assert builtin("_count", [1, "x", None]) == 3
    assert builtin("_sum", [1, 2.5, 3]) == 6.5
    assert builtin("_sum", [[1, 2], [3], 1]) == [5, 2]
    assert builtin("_stats", [2, 4]) == {"sum": 6, "count": 2, "min": 2, "max": 4, "sumsqr": 20}
    with pytest.raises(ReduceError):
        builtin("_sum", ["x"])
    with pytest.raises(ReduceError):
        builtin("_stats", [{"nope": 1}])
