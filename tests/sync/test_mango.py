"""Mango selector matching (the subset `_changes?filter=_selector` uses)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from sync.errors import BadRequest
from sync.mango import collate, compile_selector, matches, split_field

SESSION = {
    "_id": "session:1",
    "type": "session",
    "status": "open",
    "n": 5,
    "score": 2.5,
    "owner": {"id": "u1", "name": "Ann", "team": {"name": "ops"}},
    "tags": ["citrix", "vda"],
    "shared_with": [],
    "ticket": None,
    "closed": False,
    "a.b": "literal dot",
}


@pytest.mark.parametrize(
    "selector, expected",
    [
        ({"type": "session"}, True),
        ({"type": "tree"}, False),
        ({"type": {"$eq": "session"}}, True),
        ({"type": {"$ne": "tree"}}, True),
        ({"n": {"$gt": 4}}, True),
        ({"n": {"$gt": 5}}, False),
        ({"n": {"$gte": 5}}, True),
        ({"n": {"$lt": 5.5}}, True),
        ({"n": {"$lte": 4}}, False),
        ({"n": {"$gt": 1, "$lt": 10}}, True),
        ({"n": 5.0}, True),
        ({"status": {"$in": ["open", "done"]}}, True),
        ({"status": {"$nin": ["open", "done"]}}, False),
        ({"tags": {"$in": ["vda"]}}, True),
        ({"tags": {"$nin": ["vda"]}}, False),
        ({"tags": ["citrix", "vda"]}, True),
        ({"tags": ["vda", "citrix"]}, False),
        ({"owner.id": "u1"}, True),
        ({"owner.team.name": "ops"}, True),
        ({"owner": {"team": {"name": "ops"}}}, True),
        ({"owner": {"id": "u2"}}, False),
        ({"a\\.b": "literal dot"}, True),
        ({"tags.0": "citrix"}, True),
        ({"ticket": None}, True),
        ({"ticket": {"$exists": True}}, True),
        ({"missing": {"$exists": False}}, True),
        ({"missing": {"$exists": True}}, False),
        ({"missing": {"$ne": 1}}, False),
        ({"missing": {"$nin": [1]}}, False),
        ({"closed": False}, True),
        ({"closed": 0}, False),
        ({"n": True}, False),
        ({"owner.name": {"$regex": "^A"}}, True),
        ({"owner.name": {"$regex": "^a"}}, False),
        ({"n": {"$regex": "5"}}, False),
        ({"$and": [{"type": "session"}, {"n": 5}]}, True),
        ({"$and": [{"type": "session"}, {"n": 6}]}, False),
        ({"$or": [{"type": "tree"}, {"n": 5}]}, True),
        ({"$or": [{"type": "tree"}, {"n": 6}]}, False),
        ({"$not": {"type": "tree"}}, True),
        ({"$not": {"missing": 1}}, True),
        ({"$nor": [{"type": "tree"}, {"n": 6}]}, True),
        ({"n": {"$not": {"$gt": 10}}}, True),
        ({"n": {"$or": [{"$eq": 1}, {"$eq": 5}]}}, True),
        ({"tags": {"$size": 2}}, True),
        ({"tags": {"$all": ["vda", "citrix"]}}, True),
        ({"tags": {"$elemMatch": {"$regex": "^v"}}}, True),
        ({"shared_with": {"$allMatch": {"$eq": "x"}}}, False),
        ({"n": {"$type": "number"}}, True),
        ({"n": {"$mod": [2, 1]}}, True),
        ({"status": {"$gt": 5}}, True),  # strings sort after numbers
        ({"ticket": {"$lt": False}}, True),  # null sorts first
        ({}, True),
    ],
)
def test_selector_cases(selector, expected):
    assert matches(selector, SESSION) is expected


@pytest.mark.parametrize(
    "bad",
    [
        [],
        "type",
        {"$eq": 1},
        {"n": {"$bogus": 1}},
        {"n": {"$in": 1}},
        {"$and": {"a": 1}},
        {"$or": [1]},
        {"n": {"$regex": "("}},
        {"n": {"$exists": "yes"}},
        {"$not": [1]},
        {"n": {"$type": "date"}},
        {"n": {"$size": "2"}},
        {"n": {"$mod": [0, 1]}},
    ],
)
def test_malformed_selectors_are_bad_requests(bad):
    with pytest.raises(BadRequest):
        compile_selector(bad)


def test_object_equality_and_order_ignore_key_order():
    assert matches({"f": {"$eq": {"a": 1, "b": 2}}}, {"f": {"b": 2, "a": 1}})
    assert collate({"a": 1, "b": 2}, {"b": 2, "a": 1}) == 0


def test_split_field():
    assert split_field("a.b.c") == ("a", "b", "c")
    assert split_field("a\\.b.c") == ("a.b", "c")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(-5, 5, allow_nan=False)
    | st.text("ab", max_size=2),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text("ab", max_size=1), inner, max_size=2),
    max_leaves=5,
)
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text("ab", max_size=2)


@given(json_values, json_values, json_values)
def test_collation_is_a_total_order(a, b, c):
    assert collate(a, a) == 0
    assert collate(a, b) == -collate(b, a)
    if collate(a, b) <= 0 and collate(b, c) <= 0:
        assert collate(a, c) <= 0


@given(json_values, json_values)
def test_comparison_operators_agree_with_each_other(value, arg):
    doc = {"f": value}
    eq = matches({"f": {"$eq": arg}}, doc)
    gt = matches({"f": {"$gt": arg}}, doc)
    lt = matches({"f": {"$lt": arg}}, doc)
    assert [eq, gt, lt].count(True) == 1 or (eq and collate(value, arg) == 0)
    assert matches({"f": {"$gte": arg}}, doc) == (gt or collate(value, arg) == 0)
    assert matches({"f": {"$lte": arg}}, doc) == (lt or collate(value, arg) == 0)
    assert matches({"f": {"$ne": arg}}, doc) == (not eq)


@given(
    st.dictionaries(st.sampled_from("fgh"), scalars, max_size=3),
    st.sampled_from("fgh"),
    st.lists(scalars, max_size=3),
)
def test_in_is_an_or_of_equalities_and_nin_its_negation_when_present(doc, field, values):
    as_or = any(matches({field: v}, doc) for v in values)
    assert matches({field: {"$in": values}}, doc) == as_or
    if field in doc:
        assert matches({field: {"$nin": values}}, doc) == (not as_or)
    else:
        assert not matches({field: {"$nin": values}}, doc)


@given(
    st.dictionaries(st.sampled_from("fgh"), scalars, max_size=3),
    st.dictionaries(st.sampled_from("fgh"), scalars, min_size=1, max_size=2),
)
def test_not_inverts_and_implicit_and_equals_explicit_and(doc, selector):
    assert matches({"$not": selector}, doc) == (not matches(selector, doc))
    explicit = {"$and": [{k: v} for k, v in selector.items()]}
    assert matches(explicit, doc) == matches(selector, doc)
