"""The starter library in seeds/trees/: every tree valid, complete and walkable end to end.

Passes with zero or more files, fails when the folder is missing or any tree falls short.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from api.trees.models import TreeDocument
from api.trees.validation import validate_tree

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "trees"
SEED_FILES = sorted(SEEDS.glob("*.json")) if SEEDS.is_dir() else []
MIN_NODES = 20
MAX_VISITS_PER_PATH = 2  # a loop ("reboot and check again") may be taken twice per path
# A console path such as "Server Manager > Tools" or "**Network > IPSec VPN**": something, a
# ">" with spaces around it, something, on one line.
CONSOLE_PATH = re.compile(r"\S[ \t]+>[ \t]+\S")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def answers(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(answer, next node id) for every answer a node offers."""
    if node["type"] in ("question", "action"):
        return [(a, t) for a, t in node["next"].items() if t]
    if node["type"] == "choice":
        return [(o["id"], o["next"]) for o in node["options"]]
    if node["type"] == "input":
        return [("value", node["next"])]
    return []


def walk(tree: dict[str, Any]) -> tuple[set[str], list[str]]:
    """Follow every path from the start, each node at most twice per path.

    A node whose onward paths have all been walked once is not walked again from another
    path: what follows it is the same whichever way the engineer got there, and without
    this sharing the number of paths grows exponentially with the branches (a seed with a
    few dozen nodes and retry loops has millions). Returns the outcomes reached and, for
    every path that ends anywhere but a resolution, the path itself.
    """
    nodes = tree["nodes"]
    outcomes: set[str] = set()
    dead_ends: list[str] = []
    visits: Counter = Counter()
    finished: set[str] = set()
    trail: list[str] = []

    def visit(node_id: str) -> None:
        node = nodes[node_id]
        visits[node_id] += 1
        trail.append(node_id)
        if node["type"] == "resolution":
            outcomes.add(node["outcome"])
        else:
            followed = answers(node)
            if not followed:
                dead_ends.append(" > ".join(trail) + " (no answers)")
            for answer, target in followed:
                if target not in nodes:
                    dead_ends.append(" > ".join(trail) + f" --{answer}--> {target} (missing)")
                elif target not in finished and visits[target] < MAX_VISITS_PER_PATH:
                    visit(target)
        trail.pop()
        visits[node_id] -= 1
        if not visits[node_id]:
            finished.add(node_id)

    visit(tree["start"])
    return outcomes, dead_ends


def test_seed_folder_exists() -> None:
    assert SEEDS.is_dir(), f"{SEEDS} is missing: the starter library lives there"


def test_seed_ids_are_unique() -> None:
    ids = Counter(load(path).get("_id") for path in SEED_FILES)
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.fixture(params=SEED_FILES, ids=[p.stem for p in SEED_FILES])
def seed(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.param)


def test_seed_is_valid(seed: dict[str, Any]) -> None:
    problems = validate_tree(seed)
    assert problems == [], "\n".join(f"{p.node_id}: {p.code}: {p.message}" for p in problems)
    TreeDocument.model_validate(seed)  # a stored tree also needs its `_id`


def test_seed_is_substantial(seed: dict[str, Any]) -> None:
    assert len(seed["nodes"]) >= MIN_NODES


def test_every_path_ends_in_a_resolution(seed: dict[str, Any]) -> None:
    outcomes, dead_ends = walk(seed)
    assert dead_ends == []
    assert outcomes <= {"resolved", "unresolved", "escalated"}
    assert "resolved" in outcomes, "a starter tree should be able to fix the problem"


def test_every_action_says_how(seed: dict[str, Any]) -> None:
    vague = [
        node_id
        for node_id, node in seed["nodes"].items()
        if node["type"] == "action"
        and not node.get("commands")
        and not CONSOLE_PATH.search(node.get("body", "") + "\n" + node.get("help", ""))
    ]
    assert vague == [], (
        "these actions need a command, or a console path such as "
        "'Server Manager > Tools' in their body or help"
    )


def test_every_link_is_https(seed: dict[str, Any]) -> None:
    links = [
        (node_id, link["url"]) for node_id, node in seed["nodes"].items() for link in node.get("links", [])
    ]
    assert [(n, url) for n, url in links if not url.startswith("https://")] == []


def test_every_resolution_is_explained(seed: dict[str, Any]) -> None:
    for node_id, node in seed["nodes"].items():
        if node["type"] != "resolution":
            continue
        assert node.get("summary", "").strip(), f"{node_id} has no summary"
        assert (node.get("root_cause") or "").strip(), f"{node_id} has no root_cause"
        if node["outcome"] == "escalated":
            assert (node.get("handover") or "").strip(), f"{node_id} has no handover"


def test_walker_finds_dead_ends_and_survives_loops() -> None:
    tree = {
        "start": "a",
        "nodes": {
            "a": {"type": "question", "next": {"yes": "b", "no": "c"}},
            "b": {"type": "action", "next": {"done": "ok", "failed": "a"}},  # loop back to a
            "c": {"type": "input", "next": "gone"},  # missing node
            "d": {"type": "choice", "options": []},
            "ok": {"type": "resolution", "outcome": "resolved"},
        },
    }
    outcomes, dead_ends = walk(tree)
    assert outcomes == {"resolved"}
    # found first on the way round the loop; c is then known and not walked again
    assert dead_ends == ["a > b > a > c --value--> gone (missing)"]
    tree["nodes"]["c"]["next"] = "d"
    assert walk(tree)[1] == ["a > b > a > c > d (no answers)"]


def test_console_path_rule() -> None:
    assert CONSOLE_PATH.search("Open **Server Manager > Tools > DNS**.")
    assert CONSOLE_PATH.search("Network > IPSec VPN > Rules and Settings")
    assert not CONSOLE_PATH.search("Restart the service and wait.")
    assert not CONSOLE_PATH.search("> a quoted line\n>indented")


def test_seed_matches_the_committed_json_schema(seed: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_file = SEEDS.parents[1] / "design_docs" / "schemas" / "tree.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_file.read_text("utf-8")))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(seed)]
    assert errors == []
