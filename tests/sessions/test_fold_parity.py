"""The Python fold and the PWA's TypeScript fold agree on random sessions.

Hypothesis builds event sequences over a few small trees (one with a loop, one with node
ids JavaScript treats specially, one with a node that can never reach a resolution). Most
answers are aimed at the node that is current at that moment, so paths get long; clock
jitter, ties, two devices, duplicates and malformed events make the order and the
conflicts interesting. Both folds must return the same state, and the state must keep its
promises: no note lost, a path that follows the tree's edges, every step accounted for.

The TypeScript side is `pwa/src/shared/fold.ts` itself, bundled once per session by the
PWA's own esbuild and run by one long-lived node process (see fold_runner.mjs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import event, given, strategies as st

from api.sessions.fold import fold_session
from tests.ts_runner import TypeScriptRunner

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("fold_runner.mjs")

VDA = json.loads((ROOT / "tests" / "golden" / "fold" / "full_run_resolved.json").read_text("utf-8"))["tree"]
PRINTER = json.loads((ROOT / "tests" / "golden" / "fold" / "abandoned_in_a_loop.json").read_text("utf-8"))[
    "tree"
]
# Ids that are special in JavaScript objects, an integer-like id (reordered by JS), a loop
# through an input, and an island that loops forever without a resolution.
ODD = {
    "start": "10",
    "nodes": {
        "10": {
            "type": "question",
            "title": "Q {{input.v}}",
            "next": {"yes": "2", "no": "constructor"},
            "log": {"yes": "Yes with {{input.v}} and {{client.name}}", "no": "No {{ input.v }}"},
        },
        "2": {"type": "input", "title": "Value?", "variable": "v", "next": "10", "log": "Got {{input.v}}{{"},
        "constructor": {
            "type": "choice",
            "title": "Pick",
            "options": [
                {"id": "a", "label": "A", "next": "10", "log": "Picked A"},
                {"id": "b", "label": "B", "next": "__proto__"},
                {"id": "c", "label": "C", "next": "island", "log": "To the island"},
            ],
        },
        "__proto__": {
            "type": "resolution",
            "outcome": "unresolved",
            "title": "End",
            "summary": "Ended with {{input.v}}",
            "handover": {"to": "L2"},
        },
        "island": {
            "type": "action",
            "title": "Loop",
            "next": "island",
            "log": {"done": "Again", "failed": "Still", "skipped": "Skipped"},
        },
    },
}
TREES = [VDA, PRINTER, ODD]
CLIENTS = [None, {"name": "Acme <b>*GmbH*</b>", "site": {"city": "Köln"}, "printer": "HP-1"}]

DEVICES = ["a", "b", "ｚ", "😀"]
USERS = ["u1", "u2"]
ANSWERS = ["yes", "no", "done", "failed", "skipped", "submitted", "a", "b", "c", "1002", "1010", "maybe"]
TEXT = st.text(alphabet=st.sampled_from([*list("ab *_[]#<>|`{}äöüß東京مرحبا\n"), "😀"]), max_size=12)


@pytest.fixture(scope="session")
def ts_fold(tmp_path_factory):
    """A callable folding a batch of cases with the TypeScript fold."""
    with TypeScriptRunner(RUNNER, tmp_path_factory.mktemp("fold_ts"), "the PWA's fold") as runner:
        yield lambda cases: runner(cases)["states"]


@st.composite
def sessions(draw):
    """One session: a tree, a client and events, mostly aimed at the current node."""
    tree = draw(st.sampled_from(TREES))
    client = draw(st.sampled_from(CLIENTS))
    node_ids = [*list(tree["nodes"]), "nowhere"]
    events: list[dict] = []
    ts = 1000
    for index in range(draw(st.integers(0, 30))):
        # Mostly forward in time, sometimes a tie or an earlier clock (another device).
        ts = max(0, ts + draw(st.sampled_from([1000, 1000, 500, 0, -700])))
        ev = {
            "_id": f"session:s:ev:{index:04d}",
            "ts": ts,
            "device_id": draw(st.sampled_from(DEVICES)),
            "user_id": draw(st.sampled_from(USERS)),
        }
        kind = draw(
            st.sampled_from(
                ["answer_current"] * 6
                + [
                    "answered",
                    "back",
                    "back",
                    "note",
                    "note",
                    "custom_step",
                    "input_value",
                    "attachment_added",
                    "completed",
                    "reopened",
                    "abandoned",
                    "exported",
                    "bogus",
                    "duplicate",
                ]
            )
        )
        if kind == "duplicate" and events:
            events.append(dict(draw(st.sampled_from(events))))
            continue
        if kind == "answer_current":
            current = fold_session(tree, events, None, client)["current_node"]
            node = tree["nodes"].get(current, {})
            ev.update(type="answered", node_id=current, answer=draw(st.sampled_from(_answers_for(node))))
            if node.get("type") == "input" and draw(st.booleans()):
                ev["value"] = draw(TEXT)
        elif kind == "answered":
            ev.update(
                type="answered",
                node_id=draw(st.sampled_from(node_ids)),
                answer=draw(st.sampled_from(ANSWERS)),
            )
        elif kind == "note":
            ev.update(
                type="note",
                node_id=draw(st.sampled_from(node_ids)),
                note_id=draw(st.sampled_from(["n1", "n2", "n3", "constructor"])),
                text=draw(TEXT),
            )
        elif kind == "custom_step":
            ev.update(
                type="custom_step",
                node_id=draw(st.sampled_from(node_ids)),
                text=draw(TEXT),
                answer=draw(st.sampled_from(["done", "failed", "skipped", "nope"])),
            )
            if draw(st.booleans()):
                ev["note"] = draw(TEXT)
        elif kind == "input_value":
            ev.update(type="input_value", node_id=draw(st.sampled_from(node_ids)), value=draw(TEXT))
        elif kind == "attachment_added":
            ev.update(
                type="attachment_added",
                node_id=draw(st.sampled_from(node_ids)),
                attachment_id=draw(st.sampled_from(["x1", "x2"])),
                name=draw(TEXT),
                content_type="image/png",
                size=draw(st.integers(0, 10**6)),
                sha256="ab",
            )
        elif kind == "completed":
            ev["type"] = "completed"
            outcome = draw(st.sampled_from([None, "resolved", "escalated", "unresolved", "bad"]))
            if outcome is not None:
                ev["outcome"] = outcome
            if draw(st.booleans()):
                ev["summary"] = draw(TEXT)
        elif kind == "abandoned":
            ev["type"] = "abandoned"
            if draw(st.booleans()):
                ev["reason"] = draw(TEXT)
        elif kind == "exported":
            ev.update(type="exported", format=draw(st.sampled_from(["markdown", "text"])), how="copy")
        else:
            ev["type"] = kind
        events.append(ev)
    events = draw(st.permutations(events))
    header = draw(st.sampled_from([None, {"_id": "session:s", "created_at": 500}, {"_id": "session:s"}]))
    now_ms = draw(st.sampled_from([None, 50_000]))
    return {"tree": tree, "events": events, "header": header, "client": client, "now_ms": now_ms}


def _answers_for(node: dict) -> list[str]:
    kind = node.get("type")
    if kind == "question":
        return ["yes", "no"]
    if kind == "action":
        return ["done", "failed", "skipped"]
    if kind == "input":
        return ["submitted"]
    if kind == "choice":
        return [o["id"] for o in node["options"]]
    return ["done"]


@given(st.lists(sessions(), min_size=1, max_size=8))
def test_python_and_typescript_folds_agree(ts_fold, batch):
    expected = [
        json.loads(json.dumps(fold_session(c["tree"], c["events"], c["header"], c["client"], c["now_ms"])))
        for c in batch
    ]
    actual = ts_fold(batch)
    for case, py_state, ts_state in zip(batch, expected, actual, strict=True):
        assert ts_state == py_state, json.dumps(case, ensure_ascii=False)
        _check_invariants(case, py_state)
        # Shown by --hypothesis-show-statistics: proof the generator reaches deep states.
        event(f"status {py_state['status']}")
        event(f"path length {min(len(py_state['path']), 5)}{'+' if len(py_state['path']) >= 5 else ''}")
        if py_state["tried"]:
            event("has tried steps")
        if any(h["type"] == "reopened" for h in py_state["history"]):
            event("reopened")


def _order_key(ev: dict) -> tuple:
    return (ev["ts"], ev["device_id"], ev["_id"])


def _check_invariants(case: dict, state: dict) -> None:
    tree = case["tree"]
    nodes = tree["nodes"]
    ordered = []
    seen: set[str] = set()
    for ev in sorted(case["events"], key=_order_key):
        if ev["_id"] not in seen:
            seen.add(ev["_id"])
            ordered.append(ev)

    # No note is ever lost: the latest text of every note id is in the state.
    latest = {ev["note_id"]: ev["text"] for ev in ordered if ev["type"] == "note"}
    kept = {n["note_id"]: n["text"] for notes in state["notes"].values() for n in notes}
    assert kept == latest

    # The path follows the tree's edges from the start to the current node.
    # No template syntax from the tree survives into a sentence. Typed values are filled in
    # as they are, so a value with a brace can legitimately sit next to one: check only
    # sessions whose values have none.
    typed = "".join(ev.get("value") or "" for ev in ordered if isinstance(ev.get("value"), str))
    check_braces = "{" not in typed and "}" not in typed
    path = state["path"]
    expected_node = tree["start"]
    for step in path:
        assert step["node_id"] == expected_node
        assert step["next_node"] in _edges(nodes[step["node_id"]], step["answer"])
        if check_braces:
            assert "{{" not in (step["log"] or "") and "{{" not in (step["title"] or "")
        expected_node = step["next_node"]
    assert state["current_node"] == expected_node

    # Every answer and custom step is accounted for exactly once: effective, tried or ignored.
    ignored = {i["event_id"] for i in state["ignored"] if i["reason"] != "duplicate"}
    placed = [s["event_id"] for s in path + state["custom_steps"] + state["tried"]]
    assert len(placed) == len(set(placed))
    work = {ev["_id"] for ev in ordered if ev["type"] in ("answered", "custom_step")}
    assert set(placed) | (work & ignored) == work
    assert not set(placed) & ignored

    # Custom steps sit after an existing path step.
    for custom in state["custom_steps"]:
        assert -1 <= custom["after_step"] < len(path)

    progress = state["progress"]
    assert progress is None or 0.0 <= progress <= 1.0
    if state["status"] == "completed":
        assert progress == 1.0 and state["outcome"] in ("resolved", "escalated", "unresolved")


def _edges(node: dict, answer: str) -> list[str]:
    if node["type"] == "choice":
        return [o["next"] for o in node["options"] if o["id"] == answer]
    nxt = node["next"]
    return [nxt[answer]] if isinstance(nxt, dict) else [nxt]
