"""`api.scripts.render`: literals, types, defaults, the header line. Pure functions, no server."""

from __future__ import annotations

import pytest

from api.scripts.models import check_script
from api.scripts.render import quote, render
from sync.errors import BadRequest

from .powershell import problems


@pytest.mark.parametrize("char", ["'", "\u2018", "\u2019", "\u201a", "\u201b"])
def test_every_single_quote_powershell_reads_is_doubled(char):
    assert quote(f"a{char}b") == f"'a{char}{char}b'"


def test_other_characters_stay_as_they_are():
    text = "x\"\u201c$(calc)`n;|>@'\n"
    assert quote(text) == "'" + text.replace("'", "''") + "'"


def script(*parameters: dict, name: str = "Probe") -> dict:
    return check_script({"name": name, "risk": "low", "body": "Get-Date", "parameters": list(parameters)})


def test_types_render_from_their_parsed_values():
    s = script(
        {"name": "Count", "type": "int"},
        {"name": "On", "type": "bool"},
        {"name": "Addr", "type": "ip"},
        {"name": "Server", "type": "hostname"},
    )
    text = render(
        s, {"Count": " 042 ", "On": "TRUE", "Addr": "2001:DB8::0:1", "Server": " dc01.contoso.local "}
    )
    assert "[int]$Count = 42," in text
    assert "[switch]$On = $true," in text
    assert "[string]$Addr = '2001:db8::1'," in text
    assert "[string]$Server = 'dc01.contoso.local'\n" in text
    assert problems(text) == []


def test_names_match_without_case_and_defaults_fill_in():
    s = script({"name": "Port", "type": "int", "default": 443}, {"name": "Note", "type": "string"})
    assert "[int]$Port = 8080" in render(s, {"port": 8080})
    text = render(s, {})
    assert "[int]$Port = 443," in text and "[string]$Note\n" in text


def test_enum_values_must_be_a_choice():
    s = script({"name": "Mode", "type": "enum", "choices": ["quick", "full"]})
    assert "[string]$Mode = 'full'" in render(s, {"Mode": "full"})
    with pytest.raises(BadRequest, match="not one of quick, full"):
        render(s, {"Mode": "Full"})


def test_string_rules_pattern_and_length():
    s = script({"name": "User", "type": "string", "pattern": "[a-z]+", "min": 2, "max": 5, "required": True})
    assert "'jdoe'" in render(s, {"User": "jdoe"})
    for bad, why in (("JDoe", "pattern"), ("j", "shorter"), ("jdoesmith", "longer"), ("", "required")):
        with pytest.raises(BadRequest, match=why):
            render(s, {"User": bad})


def test_control_characters_other_than_tabs_and_line_breaks_are_refused():
    s = script({"name": "Text", "type": "string"})
    assert "'a\tb\r\nc'" in render(s, {"Text": "a\tb\r\nc"})
    with pytest.raises(BadRequest, match="control character"):
        render(s, {"Text": "a\x1bb"})


def test_a_name_with_a_line_break_cannot_leave_the_header_comment():
    """render() is also called by the RMM dispatch with documents it did not validate."""
    s = {"name": "Probe\nRemove-Item C:\\ -Recurse", "version": "1)\nRemove-Item C:\\", "body": "Get-Date"}
    text = render(s, {})
    assert text.splitlines()[0] == "# Probe Remove-Item C:\\ -Recurse"
    assert problems(text) == []


def test_values_must_be_an_object():
    with pytest.raises(BadRequest, match="object"):
        render(script(), ["x"])  # type: ignore[arg-type]


def test_an_ip_with_a_zone_is_refused():
    """Python's parser takes any text after `%` as an IPv6 zone, quotes and semicolons included."""
    with pytest.raises(BadRequest, match="zone"):
        render(script({"name": "Addr", "type": "ip"}), {"Addr": "fe80::1%a';calc"})


def test_a_name_given_twice_in_different_case_is_refused():
    with pytest.raises(BadRequest, match="twice"):
        render(script({"name": "Server", "type": "string"}), {"Server": "a", "server": "b"})


@pytest.mark.parametrize(
    "param",
    [{"name": "x = 1; calc #", "type": "string"}, {"name": "X", "type": "float"}, "X"],
)
def test_a_document_with_a_malformed_parameter_is_refused_not_rendered(param):
    """The RMM dispatch calls render() with stored documents; names and types are still checked."""
    with pytest.raises(BadRequest, match="fix the script"):
        render({"name": "Probe", "body": "Get-Date", "parameters": [param]}, {})
