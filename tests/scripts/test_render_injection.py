"""No parameter value can change a rendered script's structure (issue 18, point 2).

Hostile values (every quote PowerShell accepts, `$()`, backticks, semicolons, line breaks,
here-string markers, NUL, pipes, redirections, comments) are rendered into a script and parsed
with the tree-sitter PowerShell grammar; the syntax tree must have the same shape as with a
harmless value, or the value must be refused with 400. Two deliberately naive renderers must
fail the same check, which shows the parser does catch an injection.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, given, settings, strategies as st
from hypothesis.errors import NoSuchExample

from api.scripts.models import check_script
from api.scripts.render import render
from sync.errors import BadRequest

from .powershell import problems, script_shape

HOSTILE = [
    "'",
    "\u2018",
    "\u2019",
    "\u201a",
    "\u201b",
    "''",
    "\u2019\u2019",
    '"',
    "\u201c",
    "\u201d",
    "\u201e",
    "$(",
    ")",
    "$(calc.exe)",
    "${env:PATH}",
    "$env:USERNAME",
    "`",
    "`n",
    "`'",
    ";",
    "; Remove-Item C:\\ -Recurse;",
    "\n",
    "\r\n",
    "\r",
    "@'",
    "'@",
    '@"',
    '"@',
    "\n'@\n",
    "\x00",
    "|",
    "||",
    "&&",
    "&",
    ">",
    ">>",
    "2>&1",
    "<",
    "#",
    "<#",
    "#>",
    "{",
    "}",
    "(",
    "[",
    "]",
    "--%",
    " -Fix",
    "\t",
    "\u2028",
    "\x85",
    "\u00a0",
    "é",
    "漢",
]
hostile_text = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=4), max_size=12).map("".join)

BODY = (
    'Write-Output "Looking at $Target"\n'
    "Get-Item -LiteralPath $Path | Select-Object @('Name', 'Length')\n"
    "if ($Fix) { Write-Output 'fixing' }\n"
)
SCRIPT = check_script(
    {
        "name": "Inspect a path",
        "risk": "low",
        "body": BODY,
        "parameters": [
            {"name": "Target", "type": "string"},
            {"name": "Path", "type": "secret"},
            {"name": "Server", "type": "hostname"},
            {"name": "Address", "type": "ip"},
            {"name": "Count", "type": "int"},
            {"name": "Mode", "type": "enum", "choices": ["quick", "full"]},
            {"name": "Fix", "type": "bool"},
        ],
    }
)
HARMLESS = {
    "Target": "harmless",
    "Path": "harmless",
    "Server": "srv01",
    "Address": "10.0.0.1",
    "Count": 1,
    "Mode": "quick",
    "Fix": False,
}


def same_structure(renderer, name: str, value: object) -> bool:
    """True when `value` in parameter `name` renders to a clean parse of the harmless shape,
    or is refused with BadRequest."""
    try:
        text = renderer(SCRIPT, {**HARMLESS, name: value})
    except BadRequest:
        return True
    return not problems(text) and script_shape(text) == script_shape(renderer(SCRIPT, HARMLESS))


def test_the_harmless_rendering_parses_cleanly():
    assert problems(render(SCRIPT, HARMLESS)) == []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(list(HARMLESS)), value=hostile_text)
def test_no_hostile_value_changes_the_syntax_tree(name, value):
    assert same_structure(render, name, value), (name, value, render(SCRIPT, {**HARMLESS, name: value}))


@given(value=st.tuples(hostile_text, hostile_text).map("\x00".join))
def test_nul_is_refused_in_every_text_parameter(value):
    for name in ("Target", "Path", "Server", "Address", "Mode"):
        with pytest.raises(BadRequest, match="NUL"):
            render(SCRIPT, {**HARMLESS, name: value})


def _naive_unquoted(script, values):
    """Writes text values between quotes without any escaping."""
    lines = [
        f"    [string]${k} = '{v}'" if isinstance(v, str) else f"    ${k} = {v!r}" for k, v in values.items()
    ]
    return "param(\n" + ",\n".join(lines) + "\n)\n\n" + script["body"]


def _naive_ascii_only(script, values):
    """Doubles the ASCII quote only, the classic mistake: PowerShell also ends a string at U+2019."""
    lines = [
        f"    [string]${k} = '{v.replace(chr(39), chr(39) * 2)}'"
        if isinstance(v, str)
        else f"    ${k} = {v!r}"
        for k, v in values.items()
    ]
    return "param(\n" + ",\n".join(lines) + "\n)\n\n" + script["body"]


@pytest.mark.parametrize("naive", [_naive_unquoted, _naive_ascii_only])
def test_the_check_catches_a_naive_renderer(naive):
    """The property fails for a renderer that is not injection-safe: the parser sees the injection."""
    clean = hostile_text.filter(lambda v: "\x00" not in v)
    try:
        found = find(
            clean, lambda v: not same_structure(naive, "Target", v), settings=settings(max_examples=2000)
        )
    except NoSuchExample:
        pytest.fail(f"{naive.__name__} passed the injection check; the check cannot tell a safe renderer")
    assert not same_structure(naive, "Target", found)


def test_a_right_single_quote_breaks_out_of_the_ascii_only_renderer():
    """Pinned: U+2019 then `; calc #` ends the string in PowerShell; ours doubles it, naive does not."""
    value = "x\u2019; calc.exe #"
    assert not same_structure(_naive_ascii_only, "Target", value)
    assert same_structure(render, "Target", value)
    assert "'x\u2019\u2019; calc.exe #'" in render(SCRIPT, {**HARMLESS, "Target": value})
