"""The server's `validate_tree` and the editor's `validateTree` (pwa/src/editor/validate.ts)
find the same problems: on the seed trees, on every broken fixture of test_validation.py, on
random valid trees and on random mutations of them.

Compared: the problems as a multiset of (node_id, code, message). Messages are identical
except in one documented case: for node ids that look like integers, JavaScript objects list
those keys first, so a message naming several such nodes may name them in another order;
there only (node_id, code) are compared. (Floats that print differently in the two languages,
such as 1e-05, and integers beyond 2**53 would also change a message's repr; the generators
below leave them out.)

The TypeScript side is bundled once per session with the PWA's own esbuild and run by one
long-lived node process (validation_runner.mjs), like the fold parity test.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from api.trees.validation import validate_tree
from tests.trees.factories import chain_tree, valid_tree
from tests.trees.test_validation import CASES
from tests.trees.test_validation_properties import valid_trees
from tests.ts_runner import TypeScriptRunner

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("validation_runner.mjs")
SEEDS = sorted((ROOT / "seeds" / "trees").glob("*.json"))
INT_LIKE = re.compile(r"^(0|[1-9][0-9]*)$")


@pytest.fixture(scope="session")
def ts_validate(tmp_path_factory):
    with TypeScriptRunner(
        RUNNER, tmp_path_factory.mktemp("validate_ts"), "the editor's validation"
    ) as runner:
        yield lambda docs: runner(docs)["results"]


def _int_like_ids(doc: Any) -> bool:
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    return isinstance(nodes, dict) and any(INT_LIKE.match(k) for k in nodes)


def assert_same(ts_validate, docs: list[Any], *, stats: bool = False) -> None:
    expected = [[p.model_dump() for p in validate_tree(d)] for d in docs]
    actual = ts_validate(docs)
    for doc, py, ts in zip(docs, expected, actual, strict=True):
        for code in sorted({p["code"] for p in py}) if stats else ():
            event(code)  # --hypothesis-show-statistics shows which rules the examples reach
        where = json.dumps(doc, ensure_ascii=False)[:3000]
        if _int_like_ids(doc):
            assert sorted((p["node_id"] or "", p["code"]) for p in ts) == sorted(
                (p["node_id"] or "", p["code"]) for p in py
            ), where
        else:
            assert sorted(map(json.dumps, ts)) == sorted(map(json.dumps, py)), where
            # Same grouping too: tree-level first, then node by node in the tree's order.
            assert ts == py, where


def test_seed_trees(ts_validate):
    docs = [json.loads(p.read_text("utf-8")) for p in SEEDS]
    assert len(docs) >= 10
    assert_same(ts_validate, docs)


def test_every_fixture_of_the_rule_tests(ts_validate):
    docs = []
    for _name, change, _expected in CASES:
        tree = valid_tree()
        change(tree)
        docs.append(tree)
    docs += [valid_tree(), chain_tree(5), chain_tree(2_001), None, [], "tree", 5, True, {}]
    assert_same(ts_validate, docs)


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that exercises Python's whitespace, repr, code points and placeholders.
TEXT = st.lists(
    st.sampled_from(
        [
            *list("ab Z_.-{}:/'\"\\\n\t"),
            "{{",
            "}}",
            "{{input.x}}",
            "{{client.name}}",
            "{{ input.v }}",
            "https://",
            "http://",
            "[",
            "]",
            "@",
            "\x85",
            "\x1c",
            "\ufeff",
            "\xa0",
            "\u2028",
            "😀",
            "東",
            "́",
            "ﬀ",
            "℀",
        ]
    ),
    max_size=8,
).map("".join)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.integers(-(10**6), 10**6).map(lambda i: i / 4 + 0.125)  # never integral; same repr in both
    | TEXT
)
JSON = st.recursive(
    SCALAR, lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3), max_leaves=12
)
NODE_IDS = st.sampled_from(
    [
        "10",
        "2",
        "__proto__",
        "constructor",
        "toString",
        "a\n",
        "",
        "Ab",
        "x y",
        "ok-id",
        "n0-a",
        "hasOwnProperty",
    ]
)
FIELDS = [
    "type",
    "title",
    "body",
    "help",
    "warning",
    "next",
    "log",
    "options",
    "variable",
    "save_to_client",
    "outcome",
    "summary",
    "root_cause",
    "handover",
    "links",
    "commands",
    "position",
    "nxt",
]
TREE_FIELDS = [
    "_id",
    "id",
    "rev",
    "_rev",
    "type",
    "schema_version",
    "title",
    "description",
    "category",
    "tags",
    "start",
    "archived",
    "_conflicts",
    "extra",
]
VALUES = {
    "type": st.sampled_from(["question", "choice", "action", "input", "resolution", "inptu", None, 5]),
    "next": st.one_of(
        JSON,
        st.fixed_dictionaries(
            {},
            optional={
                k: st.one_of(st.none(), TEXT, NODE_IDS)
                for k in ("yes", "no", "done", "failed", "skipped", "maybe")
            },
        ),
    ),
    "log": st.one_of(
        JSON,
        st.fixed_dictionaries(
            {}, optional={k: st.one_of(st.none(), TEXT) for k in ("yes", "no", "done", "failed", "skipped")}
        ),
    ),
    "links": st.lists(
        st.one_of(
            JSON,
            st.fixed_dictionaries(
                {},
                optional={
                    "title": st.one_of(TEXT, st.none()),
                    "url": st.one_of(
                        TEXT,
                        st.sampled_from(
                            [
                                "https://ok.example/x",
                                "https://[::1]/",
                                "https://[1.2.3.4]/",
                                "https://[v1.x]/",
                                "https://a@/",
                                "https://:80",
                                " https://x.y ",
                                "HTTPS://X",
                                "https://x\u2100y/",
                                "https://[bad/",
                            ]
                        ),
                    ),
                },
            ),
        ),
        max_size=3,
    ),
    "commands": st.lists(
        st.one_of(
            JSON,
            st.fixed_dictionaries(
                {}, optional={"language": TEXT, "text": st.one_of(TEXT, st.none()), "x": JSON}
            ),
        ),
        max_size=2,
    ),
    "options": st.lists(
        st.one_of(
            JSON,
            st.fixed_dictionaries(
                {},
                optional={
                    "id": st.one_of(TEXT, st.sampled_from(["o1", "o1", "x" * 70]), st.none()),
                    "label": TEXT,
                    "next": st.one_of(NODE_IDS, TEXT, st.none()),
                    "log": st.one_of(TEXT, st.none()),
                },
            ),
        ),
        max_size=14,
    ),
    "outcome": st.sampled_from(["resolved", "escalated", "unresolved", "fixed", None, 3]),
    "variable": st.sampled_from(["x", "v", "vda_name", "9x", "x\n", "", None, "a b"]),
    "position": st.one_of(JSON, st.fixed_dictionaries({}, optional={"x": SCALAR, "y": SCALAR, "z": SCALAR})),
}


@st.composite
def mutated_trees(draw) -> dict[str, Any]:
    tree = draw(valid_trees())
    nodes = tree["nodes"]
    for _ in range(draw(st.integers(1, 6))):
        action = draw(
            st.sampled_from(
                [
                    "set",
                    "set",
                    "set",
                    "delete",
                    "drop_node",
                    "replace_node",
                    "rename",
                    "retarget",
                    "tree_field",
                    "long_text",
                ]
            )
        )
        node_id = draw(st.sampled_from(sorted(nodes))) if nodes else None
        node = nodes.get(node_id) if node_id is not None else None
        if action == "set" and isinstance(node, dict):
            field = draw(st.sampled_from(FIELDS))
            node[field] = draw(VALUES.get(field, JSON | TEXT))
        elif action == "delete" and isinstance(node, dict):
            node.pop(draw(st.sampled_from(FIELDS)), None)
        elif action == "drop_node" and len(nodes) > 1:
            del nodes[node_id]
        elif action == "replace_node" and node_id is not None:
            nodes[node_id] = draw(JSON)
        elif action == "rename" and node_id is not None:
            new = draw(NODE_IDS)
            if new not in nodes:
                nodes[new] = nodes.pop(node_id)
                if tree.get("start") == node_id and draw(st.booleans()):
                    tree["start"] = new
        elif action == "retarget" and isinstance(node, dict) and isinstance(node.get("next"), dict):
            node["next"][draw(st.sampled_from(["yes", "no", "done", "failed", "skipped"]))] = draw(
                st.one_of(st.sampled_from(sorted(nodes)), NODE_IDS)
            )
        elif action == "tree_field":
            field = draw(st.sampled_from(TREE_FIELDS))
            tree[field] = draw(
                st.one_of(JSON, st.sampled_from(["tree:ok-id", "tree:Bad", "tree:x\n", "tree", 1, True, "1"]))
            )
        elif action == "long_text" and isinstance(node, dict):
            field = draw(st.sampled_from(["title", "body", "summary", "warning"]))
            size = {"title": 200, "body": 20_000, "summary": 5_000, "warning": 2_000}[field]
            node[field] = draw(st.sampled_from(["x", "😀"])) * (size + draw(st.integers(-1, 1)))
    return tree


@SETTINGS
@given(st.lists(mutated_trees(), min_size=1, max_size=6))
def test_mutated_trees(ts_validate, batch):
    assert_same(ts_validate, copy.deepcopy(batch), stats=True)


@SETTINGS
@given(st.lists(valid_trees(), min_size=1, max_size=6))
def test_random_valid_trees(ts_validate, batch):
    assert_same(ts_validate, batch, stats=True)


@SETTINGS
@given(
    st.lists(
        st.one_of(JSON, st.dictionaries(st.sampled_from([*TREE_FIELDS, "nodes", "start"]), JSON)),
        min_size=1,
        max_size=8,
    )
)
def test_any_json(ts_validate, batch):
    assert_same(ts_validate, batch, stats=True)
