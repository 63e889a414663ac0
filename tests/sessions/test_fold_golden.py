"""The Python fold against the hand-checked fixtures in tests/golden/fold/.

The fixtures are the specification: when this test fails, the fold is wrong until someone
re-checks the fixture by hand. Nothing here rewrites them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from api.sessions.fold import fold_session

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "fold"
FIXTURES = sorted(GOLDEN.glob("*.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _fold(fx: dict, events: list[dict]) -> dict:
    return fold_session(fx["tree"], events, fx.get("header"), fx.get("client"), fx.get("now_ms"))


def test_fixtures_are_present():
    assert len(FIXTURES) >= 7, f"expected the golden fold fixtures in {GOLDEN}"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fold_matches_golden_state(path: Path):
    fx = _load(path)
    state = _fold(fx, fx["events"])
    # Through JSON, as the API would send it: the state must serialise and compare as data.
    assert json.loads(json.dumps(state)) == fx["state"]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fold_ignores_arrival_order(path: Path):
    """Replication delivers events in any order; the state must not depend on it."""
    fx = _load(path)
    events = list(fx["events"])
    for seed in range(5):
        random.Random(seed).shuffle(events)
        assert json.loads(json.dumps(_fold(fx, events))) == fx["state"]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fold_leaves_its_inputs_alone(path: Path):
    fx = _load(path)
    before = json.dumps(fx, sort_keys=True)
    _fold(fx, fx["events"])
    assert json.dumps(fx, sort_keys=True) == before


def _without_texts(state: dict) -> dict:
    """The golden state as `texts=False` gives it: step titles and logs and resolution texts None."""
    out = json.loads(json.dumps(state))
    for step in [*out["path"], *(t for t in out["tried"] if t.get("kind") == "step")]:
        step["title"] = step["log"] = None
    if out.get("resolution"):
        out["resolution"].update(title=None, summary=None, root_cause=None, verification=None, handover=None)
    return out


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_a_fold_without_texts_is_the_same_state_but_the_texts(path: Path):
    # The analytics rollups fold this way; every figure comes from what stays the same.
    fx = _load(path)
    state = fold_session(
        fx["tree"], fx["events"], fx.get("header"), fx.get("client"), fx.get("now_ms"), texts=False
    )
    assert json.loads(json.dumps(state)) == _without_texts(fx["state"])
    # The distances a fold reuses for the same tree are not another tree's.
    other = json.loads(json.dumps(fx["tree"]))
    assert json.loads(json.dumps(_fold({**fx, "tree": other}, fx["events"]))) == fx["state"]
