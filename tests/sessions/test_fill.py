"""The one filler of tree text (`api.sessions.fold.fill`) and its TypeScript twin.

Sentences, titles and the commands an engineer copies are all filled by it, so what the
runner shows, what is copied and what an export records cannot disagree. A placeholder
without a usable value becomes a labelled gap, never raw braces.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from api.sessions.fold import fill, gap_text
from tests.ts_runner import TypeScriptRunner

RUNNER = Path(__file__).with_name("fill_runner.mjs")
GAP = re.compile(r"<(unknown placeholder|[A-Za-z0-9_.-]+: not (entered|recorded))>")


def test_values_are_filled_in_commands_and_sentences() -> None:
    command = "Get-Service -ComputerName '{{input.vda_name}}' -Name BrokerAgent # {{ client.name }}"
    assert (
        fill(command, {"vda_name": "CTX-W11-07"}, {"name": "Contoso"})
        == "Get-Service -ComputerName 'CTX-W11-07' -Name BrokerAgent # Contoso"
    )


def test_a_missing_value_is_a_gap_that_names_it() -> None:
    text = "On {{input.vda_name}} ({{input.blank}}) at {{client.site.city}} {{ticket.id}} {{oops}}."
    assert fill(text, {"blank": ""}, {"site": {}}) == (
        "On <vda_name: not entered> (<blank: not entered>) at <client.site.city: not recorded> "
        "<unknown placeholder> <unknown placeholder>."
    )


def test_only_text_and_integral_numbers_count_as_values() -> None:
    assert fill(
        "{{client.n}} {{client.f}} {{client.b}} {{client.d}}",
        {},
        {"n": 3, "f": 2.5, "b": True, "d": {"x": 1}},
    ) == ("3 <client.f: not recorded> <client.b: not recorded> <client.d: not recorded>")


def test_stray_braces_never_survive() -> None:
    assert fill("{{input.x}} costs {{{ b", {"x": "X"}, {}) == "X costs { b"
    assert fill(None, {}, {}) is None
    assert gap_text("input.a.b") == "<unknown placeholder>"


NAMES = st.sampled_from(
    [
        "input.vda",
        "input.ddc",
        " input.vda ",
        "client.name",
        "client.site.city",
        "client.constructor",
        "input.__proto__",
        "ticket.id",
        "oops",
        "input.",
        "a b",
    ]
)
LITERAL = st.lists(st.sampled_from([*list("ab '{}.\n\t<>"), "東京", "😀"]), max_size=8).map("".join)
VALUES = st.dictionaries(
    st.sampled_from(["vda", "ddc", "__proto__", "constructor", "name"]),
    st.one_of(
        st.text(alphabet="xyz {}", max_size=4),
        st.integers(-5, 5),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    max_size=4,
)


@st.composite
def cases(draw):
    pieces = draw(st.lists(st.tuples(LITERAL, NAMES), max_size=5))
    text = "".join(f"{literal}{{{{{name}}}}}" for literal, name in pieces) + draw(LITERAL)
    client = draw(VALUES)
    client["site"] = draw(st.sampled_from([{"city": "Köln"}, {}, "flat"]))
    return {"text": text, "inputs": draw(VALUES), "client": client}


@pytest.fixture(scope="session")
def ts_fill(tmp_path_factory):
    with TypeScriptRunner(RUNNER, tmp_path_factory.mktemp("fill_ts"), "the PWA's filler") as runner:
        yield lambda batch: runner(batch)["filled"]


@given(st.lists(cases(), min_size=1, max_size=20))
def test_python_and_typescript_fill_alike(ts_fill, batch) -> None:
    for case, got in zip(batch, ts_fill(batch), strict=True):
        expected = fill(case["text"], case["inputs"], case["client"])
        assert got["text"] == expected, json.dumps(case, ensure_ascii=False)
        # The pieces a screen styles are the same text, gaps marked.
        assert "".join(p["text"] for p in got["parts"]) == expected
        assert all(GAP.fullmatch(p["text"]) for p in got["parts"] if p["gap"])
