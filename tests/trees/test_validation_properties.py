"""Property tests of validate_tree: trees valid by construction, then broken on purpose."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from api.trees.validation import CODES, validate_tree

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def valid_trees(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid tree: a branching skeleton whose leaves are resolutions, plus loops.

    Every non-resolution node is built with its children below it, so each node reaches a
    resolution; extra loop edges (an action's `skipped`, extra choice options) may point
    anywhere already built, which never takes that away. Placeholders only use variables
    asked by an input node on the path that built the node.
    """
    budget = draw(st.integers(min_value=1, max_value=40))
    nodes: dict[str, Any] = {}
    counter = iter(range(10_000))

    def new_id() -> str:
        return f"n{next(counter)}-{draw(st.sampled_from(['a', 'b_c', 'x9']))}"

    def sentence(known: list[str]) -> str:
        if known and draw(st.booleans()):
            return f"Checked {{{{input.{draw(st.sampled_from(known))}}}}} at {{{{client.name}}}}."
        return "Checked it."

    def build(depth: int, known: list[str]) -> str:
        node_id = new_id()
        if depth > 6 or len(nodes) >= budget or draw(st.integers(0, 4)) == 0:
            outcome = draw(st.sampled_from(["resolved", "escalated", "unresolved"]))
            nodes[node_id] = {
                "type": "resolution",
                "outcome": outcome,
                "title": "End",
                "summary": sentence(known),
            }
            if outcome == "escalated":
                nodes[node_id]["handover"] = "Tried the steps above."
            return node_id
        kind = draw(st.sampled_from(["question", "choice", "action", "input"]))
        node: dict[str, Any] = {"type": kind, "title": sentence(known)}
        nodes[node_id] = node  # placed before its children so the ids read top-down
        if kind == "question":
            node["next"] = {a: build(depth + 1, known) for a in ("yes", "no")}
            node["log"] = {a: sentence(known) for a in ("yes", "no")}
        elif kind == "action":
            node["next"] = {a: build(depth + 1, known) for a in ("done", "failed")}
            node["log"] = {a: sentence(known) for a in ("done", "failed")}
            if draw(st.booleans()):
                node["next"]["skipped"] = draw(st.sampled_from(sorted(nodes)))
                node["log"]["skipped"] = "Skipped it."
        elif kind == "choice":
            count = draw(st.integers(2, 4))
            node["options"] = [
                {
                    "id": f"o{i}",
                    "label": f"Option {i}",
                    "next": build(depth + 1, known),
                    "log": sentence(known),
                }
                for i in range(count)
            ]
            if draw(st.booleans()):
                node["options"].append(
                    {
                        "id": "again",
                        "label": "Start over",
                        "next": draw(st.sampled_from(sorted(nodes))),
                        "log": "Started over.",
                    }
                )
        else:
            variable = draw(st.sampled_from(["host", "user", "ticket_ref"]))
            node["variable"] = variable
            node["next"] = build(depth + 1, [*known, variable])
            node["log"] = f"Recorded {{{{input.{variable}}}}}."
        return node_id

    start = build(0, [])
    return {
        "_id": "tree:generated",
        "type": "tree",
        "schema_version": 1,
        "title": "Generated",
        "start": start,
        "nodes": nodes,
    }


def successors(node: dict[str, Any]) -> list[str]:
    nxt = node.get("next")
    if isinstance(nxt, dict):
        return [t for t in nxt.values() if isinstance(t, str)]
    if isinstance(nxt, str):
        return [nxt]
    return [o["next"] for o in node.get("options", []) if isinstance(o.get("next"), str)]


def stuck_nodes(tree: dict[str, Any]) -> set[str]:
    """Oracle, written independently: reachable nodes with no path to a resolution."""
    nodes = tree["nodes"]

    def reachable(frm: str) -> set[str]:
        seen, todo = {frm}, [frm]
        while todo:
            for nxt in successors(nodes[todo.pop()]):
                if nxt in nodes and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    return {
        n for n in reachable(tree["start"]) if not any(nodes[m]["type"] == "resolution" for m in reachable(n))
    }


@SETTINGS
@given(valid_trees())
def test_trees_built_valid_have_no_problems(tree: dict[str, Any]) -> None:
    assert validate_tree(tree) == []


@SETTINGS
@given(valid_trees(), st.data())
def test_removing_a_resolution_strands_exactly_the_oracles_nodes(
    tree: dict[str, Any], data: st.DataObject
) -> None:
    resolutions = sorted(n for n, node in tree["nodes"].items() if node["type"] == "resolution")
    assume(tree["start"] not in resolutions)
    victim = data.draw(st.sampled_from(resolutions))
    del tree["nodes"][victim]
    stuck = stuck_nodes(tree)
    reported = {p.node_id for p in validate_tree(tree) if p.code == "no_resolution_reachable"}
    # Reported once per stuck region: at least one report iff something is stuck, and only
    # on nodes that really are stuck.
    assert bool(reported) == bool(stuck)
    assert reported <= stuck


@SETTINGS
@given(valid_trees(), st.data())
def test_removing_the_only_resolution_of_a_branch_is_reported(
    tree: dict[str, Any], data: st.DataObject
) -> None:
    # Splice "ask -> only-way-out" into one answer that led to a resolution, so the input
    # node's single way on is that resolution; removing it must strand the input node.
    nodes = tree["nodes"]
    edges = [
        (n, slot)
        for n, node in nodes.items()
        for slot in _slots(node)
        if nodes.get(_get_slot(node, slot), {}).get("type") == "resolution"
    ]
    assume(edges)
    node_id, slot = data.draw(st.sampled_from(edges))
    _set_slot(nodes[node_id], slot, "ask")
    nodes["ask"] = {
        "type": "input",
        "title": "Which host?",
        "variable": "host",
        "next": "only-way-out",
        "log": "Host {{input.host}}.",
    }
    nodes["only-way-out"] = {"type": "resolution", "outcome": "resolved", "title": "Done", "summary": "Done."}
    assert not any(p.code == "no_resolution_reachable" for p in validate_tree(tree))
    del nodes["only-way-out"]
    problems = validate_tree(tree)
    assert "no_resolution_reachable" in {p.code for p in problems}
    assert ("ask", "dangling_next") in {(p.node_id, p.code) for p in problems}
    assert "ask" in stuck_nodes(tree)


def _slots(node: dict[str, Any]) -> list[Any]:
    if node["type"] in ("question", "action"):
        return list(node["next"])
    if node["type"] == "choice":
        return list(range(len(node["options"])))
    return ["next"] if node["type"] == "input" else []


def _get_slot(node: dict[str, Any], slot: Any) -> Any:
    if isinstance(slot, int):
        return node["options"][slot]["next"]
    return node["next"] if slot == "next" and node["type"] == "input" else node["next"][slot]


def _set_slot(node: dict[str, Any], slot: Any, target: str) -> None:
    if isinstance(slot, int):
        node["options"][slot]["next"] = target
    elif node["type"] == "input":
        node["next"] = target
    else:
        node["next"][slot] = target


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

FIELDS = [
    "type",
    "title",
    "next",
    "log",
    "options",
    "variable",
    "outcome",
    "summary",
    "handover",
    "links",
    "commands",
    "body",
    "save_to_client",
    "nxt",
]


@SETTINGS
@given(valid_trees(), st.data())
def test_mutated_trees_never_raise(tree: dict[str, Any], data: st.DataObject) -> None:
    for _ in range(data.draw(st.integers(1, 5))):
        node_id = data.draw(st.sampled_from(sorted(tree["nodes"])))
        action = data.draw(st.sampled_from(["set", "delete", "drop_node", "replace_node"]))
        node = tree["nodes"].get(node_id)
        if action == "set" and isinstance(node, dict):
            node[data.draw(st.sampled_from(FIELDS))] = data.draw(JSON)
        elif action == "delete" and isinstance(node, dict):
            node.pop(data.draw(st.sampled_from(FIELDS)), None)
        elif action == "drop_node" and len(tree["nodes"]) > 1:
            del tree["nodes"][node_id]
        elif action == "replace_node":
            tree["nodes"][node_id] = data.draw(JSON)
    original = copy.deepcopy(tree)
    problems = validate_tree(tree)
    assert tree == original, "validation must not modify the document"
    assert all(p.code in CODES for p in problems)
    assert all(p.node_id is None or p.node_id in tree["nodes"] for p in problems)
    assert all(p.message for p in problems)


@SETTINGS
@given(JSON)
def test_any_json_never_raises(doc: Any) -> None:
    problems = validate_tree(doc)
    assert problems, "arbitrary JSON is never a valid tree"
    assert all(p.code in CODES for p in problems)


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["_id", "type", "schema_version", "title", "start", "nodes", "tags"]), JSON
    )
)
def test_any_tree_like_object_never_raises(doc: dict[str, Any]) -> None:
    assert all(p.code in CODES for p in validate_tree(doc))
