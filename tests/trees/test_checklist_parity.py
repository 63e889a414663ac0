"""The server's checklist layout (api/trees/checklist.py) and the app's (pwa/src/shared/checklist.ts)
are the same: on every starter tree, the test trees, and random graphs full of shared steps,
loops, missing and unreachable steps, as Hypothesis draws them. The TypeScript side is bundled
by the PWA's esbuild and run by one long-lived node process (checklist_runner.mjs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from api.trees.checklist import checklist_layout
from tests.trees.factories import valid_tree
from tests.ts_runner import TypeScriptRunner

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "trees" / "checklist_runner.mjs"
STARTERS = [
    json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds" / "trees").glob("*.json"))
]


@pytest.fixture(scope="module")
def ts_layout(tmp_path_factory):
    with TypeScriptRunner(RUNNER, tmp_path_factory.mktemp("checklist_ts"), "the PWA's checklist") as runner:
        yield lambda trees: runner(trees)["results"]


def test_starter_and_test_trees_lay_out_the_same(ts_layout):
    trees = [s.get("tree", s) for s in STARTERS] + [valid_tree()]
    assert len(trees) >= 5
    assert ts_layout(trees) == [checklist_layout(t) for t in trees]


IDS = ["a", "b", "c", "d", "e", "f", "g"]
TARGET = st.sampled_from([*IDS, "ghost"])
TEXT = st.sampled_from(["", "  ", "Restart <it>", "Ja/Nein", "東京", "x\ny"])


def node_strategy():
    return st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.just("question"),
                "title": TEXT,
                "next": st.fixed_dictionaries({"yes": TARGET, "no": TARGET}),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("action"),
                "title": TEXT,
                "body": TEXT,
                "next": st.dictionaries(st.sampled_from(["done", "failed", "skipped"]), TARGET, min_size=1),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("choice"),
                "title": TEXT,
                "options": st.lists(
                    st.fixed_dictionaries(
                        {"id": st.sampled_from(["o1", "o2", "o3"]), "label": TEXT, "next": TARGET}
                    ),
                    max_size=4,
                ),
            }
        ),
        st.fixed_dictionaries({"type": st.just("input"), "title": TEXT, "variable": TEXT, "next": TARGET}),
        st.fixed_dictionaries(
            {
                "type": st.just("resolution"),
                "title": TEXT,
                "summary": TEXT,
                "outcome": st.sampled_from(["resolved", "escalated"]),
            }
        ),
    )


GRAPHS = st.builds(
    lambda nodes, start: {"title": "Random", "start": start, "nodes": nodes},
    st.dictionaries(st.sampled_from(IDS), node_strategy(), min_size=1, max_size=7),
    st.sampled_from([*IDS, "ghost"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(GRAPHS, min_size=1, max_size=10))
def test_random_graphs_lay_out_the_same(ts_layout, trees):
    assert ts_layout(trees) == [checklist_layout(t) for t in trees]
