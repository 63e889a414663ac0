"""Property tests of the revision-tree rules (winner, merge, stemming, rev ids)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, strategies as st

from sync import revtree
from sync.errors import BadRequest


@st.composite
def histories(draw, max_nodes=25):
    """A document's true edit history: `{rev: (parent, deleted)}` with branches and roots.

    Each new node either starts a new root (a disjoint branch, as two devices creating
    the same id would) or edits an existing node.
    """
    nodes: dict[str, tuple[str | None, bool]] = {}
    order: list[str] = []
    count = draw(st.integers(1, max_nodes))
    for n in range(count):
        if order and draw(st.integers(0, 9)) > 0:
            parent = order[draw(st.integers(0, len(order) - 1))]
            pos = revtree.rev_pos(parent) + 1
        else:
            parent, pos = None, 1
        # A small alphabet first, so equal positions often compare by id.
        rid = draw(st.sampled_from("abc")) + format(n, "x")
        rev = f"{pos}-{rid}"
        nodes[rev] = (parent, draw(st.booleans()))
        order.append(rev)
    return nodes


def true_leaves(history):
    parents = {p for p, _ in history.values()}
    return [r for r in history if r not in parents]


def full_path(history, rev):
    out = []
    cur = rev
    while cur is not None:
        out.append(cur)
        cur = history[cur][0]
    return out


def build(history, order=None):
    tree: revtree.Tree = {}
    for leaf in order or true_leaves(history):
        tree, _ = revtree.merge(tree, full_path(history, leaf), history[leaf][1])
    return tree


def key(tree, rev):
    return (not tree[rev][1], revtree.rev_pos(rev), rev.split("-", 1)[1])


@given(histories(), st.randoms())
def test_merge_order_does_not_matter(history, rnd):
    leaves = true_leaves(history)
    shuffled = list(leaves)
    rnd.shuffle(shuffled)
    assert build(history, leaves) == build(history, shuffled)


@given(histories())
def test_merged_tree_is_the_true_history(history):
    tree = build(history)
    assert set(tree) == set(history)
    assert {r: n[0] for r, n in tree.items()} == {r: p for r, (p, _) in history.items()}
    assert set(revtree.leaves(tree)) == set(true_leaves(history))


@given(histories(), st.data())
def test_merging_a_known_path_changes_nothing(history, data):
    tree = build(history)
    rev = data.draw(st.sampled_from(sorted(history)))
    path = full_path(history, rev)
    cut = data.draw(st.integers(1, len(path)))
    again, changed = revtree.merge(tree, path[:cut], data.draw(st.booleans()))
    assert not changed
    assert again == tree


@given(histories())
def test_winner_is_the_best_leaf(history):
    tree = build(history)
    winner = revtree.winning_rev(tree)
    leaves = revtree.leaves(tree)
    assert winner in leaves and leaves[0] == winner
    assert all(key(tree, winner) >= key(tree, leaf) for leaf in leaves)
    if any(not tree[leaf][1] for leaf in leaves):
        assert not tree[winner][1], "a live leaf must beat every deleted one"
    live, dead = revtree.conflicts(tree)
    assert sorted(live + dead + [winner]) == sorted(leaves)
    assert all(not tree[r][1] for r in live) and all(tree[r][1] for r in dead)


@given(histories(), st.randoms())
def test_winner_does_not_depend_on_arrival_order(history, rnd):
    leaves = true_leaves(history)
    rnd.shuffle(leaves)
    assert revtree.winning_rev(build(history, leaves)) == revtree.winning_rev(build(history))


@given(histories(), st.data())
def test_paths_graft_where_they_overlap_and_branch_where_not(history, data):
    """Truncated paths (as a replicator sends after stemming) keep their own links."""
    tree: revtree.Tree = {}
    sent = []
    for leaf in true_leaves(history):
        path = full_path(history, leaf)
        path = path[: data.draw(st.integers(1, len(path)))]
        tree, _ = revtree.merge(tree, path, history[leaf][1])
        sent.append(path)
    for path in sent:
        assert path[0] in revtree.leaves(tree) or any(tree[r][0] == path[0] for r in tree), (
            "a sent leaf is a leaf or has a child"
        )
        for child, parent in pairwise(path):
            assert tree[child][0] == parent
    # Every root is the oldest rev of some sent path: nothing was invented.
    roots = {r for r, n in tree.items() if n[0] is None}
    assert roots <= {p[-1] for p in sent}


@given(histories(), st.integers(1, 6))
def test_stemming_keeps_leaves_and_their_windows(history, limit):
    tree = build(history)
    stemmed = revtree.stem(tree, limit)
    assert set(revtree.leaves(stemmed)) == set(revtree.leaves(tree))
    assert revtree.winning_rev(stemmed) == revtree.winning_rev(tree)
    windows = {leaf: revtree.ancestry(tree, leaf)[:limit] for leaf in revtree.leaves(tree)}
    for leaf, window in windows.items():
        # The `limit` newest revs of every branch survive, with their links.
        assert revtree.ancestry(stemmed, leaf)[:limit] == window
    assert set(stemmed) == {rev for window in windows.values() for rev in window}
    assert revtree.stem(stemmed, limit) == stemmed


@given(histories(), st.integers(1, 6))
def test_stemming_keeps_links_between_surviving_revs(history, limit):
    """CouchDB's rule: a surviving rev keeps its parent whenever that parent survives."""
    tree = build(history)
    stemmed = revtree.stem(tree, limit)
    for rev, (parent, deleted) in stemmed.items():
        original_parent = tree[rev][0]
        assert parent == (original_parent if original_parent in stemmed else None)
        assert deleted == tree[rev][1]


def test_stemming_an_ancestor_kept_by_a_short_branch_stays_linked():
    # 1-a -> 2-b -> 3-c -> 4-d, and 1-a -> 2-e. With limit 3, 1-a survives through 2-e's
    # window and 2-b through 4-d's, so 4-d keeps a history of four (as CouchDB does).
    tree: revtree.Tree = {}
    tree, _ = revtree.merge(tree, ["4-d", "3-c", "2-b", "1-a"], False)
    tree, _ = revtree.merge(tree, ["2-e", "1-a"], False)
    assert revtree.stem(tree, 3) == tree
    stemmed = revtree.stem(tree, 2)
    assert stemmed == {
        "4-d": ["3-c", False],
        "3-c": [None, False],
        "2-e": ["1-a", False],
        "1-a": [None, False],
    }


def test_stemming_a_single_branch_limits_its_history():
    tree: revtree.Tree = {}
    tree, _ = revtree.merge(tree, [f"{n}-x{n}" for n in range(10, 0, -1)], False)
    stemmed = revtree.stem(tree, 3)
    assert revtree.revisions(stemmed, "10-x10") == {"start": 10, "ids": ["x10", "x9", "x8"]}


@given(histories())
def test_stemming_above_depth_is_a_no_op(history):
    tree = build(history)
    assert revtree.stem(tree, revtree.depth(tree)) == tree
    assert revtree.stem(tree, 1000) == tree


@given(histories(), st.integers(1, 4), st.data())
def test_resending_full_history_after_stemming_does_not_fork(history, limit, data):
    tree = revtree.stem(build(history), limit)
    leaf = data.draw(st.sampled_from(true_leaves(history)))
    merged, _ = revtree.merge(tree, full_path(history, leaf), history[leaf][1])
    assert revtree.stem(merged, limit) == tree


@given(histories(), st.data())
def test_revisions_round_trip_through_path_from_revisions(history, data):
    tree = build(history)
    rev = data.draw(st.sampled_from(sorted(tree)))
    revs = revtree.revisions(tree, rev)
    assert revtree.path_from_revisions(rev, revs) == revtree.ancestry(tree, rev)


@given(histories(), st.data())
def test_descendant_leaves_are_exactly_the_leaves_below(history, data):
    tree = build(history)
    rev = data.draw(st.sampled_from(sorted(tree)))
    below = revtree.descendant_leaves(tree, rev)
    expected = [leaf for leaf in revtree.leaves(tree) if rev in revtree.ancestry(tree, leaf)]
    assert below == expected


body_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(st.text("abcxyz", min_size=1, max_size=4), body_values, max_size=4),
    st.booleans(),
    st.one_of(st.none(), st.just("3-abc")),
)
def test_new_rev_is_deterministic_and_positioned(body, deleted, parent):
    rev = revtree.new_rev(parent, deleted, body)
    assert rev == revtree.new_rev(parent, deleted, dict(reversed(list(body.items()))))
    pos, rid = revtree.parse_rev(rev)
    assert pos == (4 if parent else 1)
    assert len(rid) == 32 and int(rid, 16) >= 0
    assert rev != revtree.new_rev(parent, not deleted, body)
    assert rev != revtree.new_rev(parent, deleted, {**body, "_changed": 1, "zz": 1})


def test_values_json_cannot_hold_are_refused():
    with pytest.raises(BadRequest):
        revtree.new_rev(None, False, {"big": 2**70})


def test_new_rev_ignores_underscore_members_but_not_attachments():
    base = revtree.new_rev(None, False, {"a": 1})
    assert revtree.new_rev(None, False, {"a": 1, "_id": "x"}) == base
    assert revtree.new_rev(None, False, {"a": 1}, [("f", "md5-x")]) != base


@pytest.mark.parametrize("bad", ["", "abc", "0-abc", "-1-abc", "1-", "1_abc", None, 3])
def test_parse_rev_refuses_malformed(bad):
    with pytest.raises(BadRequest):
        revtree.parse_rev(bad)


def test_path_from_revisions_follows_revisions_and_refuses_impossible_history():
    # `_revisions` decides when `_rev` disagrees with it, as in CouchDB (issue 21, point 3).
    assert revtree.path_from_revisions("3-c", {"start": 2, "ids": ["c", "b"]}) == ["2-c", "1-b"]
    assert revtree.path_from_revisions(None, {"start": 1, "ids": ["a"]}) == ["1-a"]
    with pytest.raises(BadRequest):
        revtree.path_from_revisions("2-c", {"start": 2, "ids": ["c", "b", "a"]})
    assert revtree.path_from_revisions("2-c", None) == ["2-c"]


def test_dumps_loads_round_trip():
    tree = {"1-a": [None, False], "2-b": ["1-a", True]}
    assert revtree.loads(revtree.dumps(tree)) == tree
