"""The server's and the app's Markdown and text exports are byte-identical on random sessions.

Hypothesis plays sessions through the golden fixtures' trees: answers aimed at the current
node (so paths get long and loop), notes and custom steps full of Markdown-special and
non-Latin text, backs, attachments, completions, abandonments and reopenings, with every
option on or off. The TypeScript side is `pwa/src/shared/export.ts` itself, bundled by the
PWA's esbuild and run by one long-lived node process (export_runner.mjs).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from api.exports.formats import render_markdown, render_text
from api.exports.render import build_export_model
from api.sessions.fold import fold_session
from tests.ts_runner import TypeScriptRunner

from .helpers import GOLDEN, ROOT

RUNNER = ROOT / "tests" / "exports" / "export_runner.mjs"
FIXTURES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(GOLDEN.glob("*.json"))]
TEXT = st.lists(
    st.sampled_from([*list("ab 1.-#*_[]<>|`~&;\\{}\n\r\täöß東京مرحبا"), "😀", "&amp;", "{{input.x}}", "  "]),
    max_size=14,
).map("".join)
OPTIONS = st.fixed_dictionaries({k: st.booleans() for k in ("notes", "timestamps", "undone", "attachments")})


@pytest.fixture(scope="session")
def ts_export(tmp_path_factory):
    with TypeScriptRunner(RUNNER, tmp_path_factory.mktemp("export_ts"), "the PWA's exports") as runner:
        yield lambda cases: runner(cases)["outputs"]


MOVES = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "answer",
                "answer",
                "answer",
                "note",
                "custom",
                "back",
                "attach",
                "draft",
                "complete",
                "abandon",
                "reopen",
            ]
        ),
        st.integers(0, 11),
        TEXT,
        st.integers(0, 4_000_000),
    ),
    max_size=30,
)


def play(fx: dict, moves: list, clock_ms: int) -> list[dict]:
    """Events for `moves`, each answer aimed at the node current at that moment."""
    tree, events = fx["tree"], []
    node_ids = sorted(tree["nodes"])
    ts = fx["header"]["created_at"]
    for i, (kind, pick, text, gap) in enumerate(moves):
        ts += gap
        base = {"_id": f"e{i:03d}", "ts": ts, "device_id": "d", "user_id": ["u1", "u2"][pick % 2]}
        state = fold_session(tree, events, fx["header"], fx["client"], None)
        current = tree["nodes"].get(state["current_node"], {})
        other = node_ids[pick % len(node_ids)]
        if kind == "answer":
            node_type = current.get("type")
            if node_type == "question":
                body = {"answer": ["yes", "no"][pick % 2]}
            elif node_type == "action":
                body = {"answer": ["done", "failed", "skipped"][pick % 3]}
            elif node_type == "choice":
                body = {"answer": current["options"][pick % len(current["options"])]["id"]}
            elif node_type == "input":
                body = {"answer": "submitted", **({"value": text} if pick % 3 else {})}
            else:
                continue
            events.append({**base, "type": "answered", "node_id": state["current_node"], **body})
        elif kind == "note":
            events.append({**base, "type": "note", "node_id": other, "note_id": f"n{pick % 4}", "text": text})
        elif kind == "custom":
            events.append(
                {
                    **base,
                    "type": "custom_step",
                    "node_id": other,
                    "text": text,
                    "answer": ["done", "failed", "skipped"][pick % 3],
                    **({"note": text} if pick % 2 else {}),
                }
            )
        elif kind == "attach":
            events.append(
                {
                    **base,
                    "type": "attachment_added",
                    "node_id": other,
                    "attachment_id": f"a{pick % 3}",
                    "name": text or None,
                    "content_type": ["image/png", "text/plain"][pick % 2],
                    "size": gap * 3,
                    "sha256": "x",
                    **({"caption": text} if pick % 2 else {}),
                }
            )
        elif kind == "draft":
            events.append({**base, "type": "input_value", "node_id": other, "value": text})
        else:
            events.append(
                {
                    **base,
                    "type": {
                        "back": "back",
                        "complete": "completed",
                        "abandon": "abandoned",
                        "reopen": "reopened",
                    }[kind],
                    **({"reason": text} if kind == "abandon" else {}),
                }
            )
    return events


@settings(deadline=None)
@given(
    fixture=st.integers(0, len(FIXTURES) - 1),
    moves=MOVES,
    options=OPTIONS,
    clock=st.integers(0, 10**7),
    with_names=st.booleans(),
)
def test_python_and_typescript_exports_are_byte_identical(
    ts_export, fixture, moves, options, clock, with_names
):
    fx = FIXTURES[fixture]
    events = play(fx, moves, clock)
    bundle = {**fx, "events": events, "now_ms": fx["header"]["created_at"] + clock}
    names = {"u1": "Ana <Lima>", "u2": "Bo_Jensen"} if with_names else {}
    model = build_export_model(bundle, options, fx["tenant"], names)
    expected = {"markdown": render_markdown(model), "text": render_text(model)}
    [got] = ts_export([{"bundle": bundle, "options": options, "tenant": fx["tenant"], "names": names}])
    assert got["markdown"] == expected["markdown"]
    assert got["text"] == expected["text"]
