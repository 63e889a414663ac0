"""Placeholders: found, checked and filled, never leaking into exports."""
from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from api.trees.variables import (
    NOT_RECORDED,
    fill,
    find_placeholders,
    placeholders_in,
    scan_placeholders,
)


def test_finds_both_namespaces_with_optional_spaces() -> None:
    found = find_placeholders("On {{input.vda_name}} at {{ client.name }}.")
    assert [(p.namespace, p.name) for p in found] == [("input", "vda_name"), ("client", "name")]
    assert found[1].raw == "{{ client.name }}"


def test_malformed_placeholders_are_found_with_a_reason() -> None:
    good, bad = scan_placeholders(
        "{{input.vda-name}} {{ vda }} {{inputs.x}} {{input.ok}} {{input.open")
    assert [p.name for p in good] == ["ok"]
    assert [b.raw for b in bad[:3]] == ["{{input.vda-name}}", "{{ vda }}", "{{inputs.x}}"]
    assert "never closed" in bad[3].reason


def test_fill_uses_values() -> None:
    text = "Restarted BrokerAgent on {{input.vda_name}} for {{client.name}}."
    assert fill(text, inputs={"vda_name": "VDA-07"}, client={"name": "Contoso"}) == \
        "Restarted BrokerAgent on VDA-07 for Contoso."


def test_missing_values_read_as_not_recorded() -> None:
    text = "On {{input.vda_name}} ({{input.blank}}, {{client.site}})."
    assert fill(text, inputs={"blank": "  "}) == \
        f"On {NOT_RECORDED} ({NOT_RECORDED}, {NOT_RECORDED})."


def test_lists_and_booleans_read_naturally() -> None:
    assert fill("{{client.vdas}} / {{input.ok}}", inputs={"ok": True},
                client={"vdas": ["VDA-01", "VDA-02"]}) == "VDA-01, VDA-02 / yes"


def test_escape_applies_to_values_only() -> None:
    assert fill("<b>{{input.x}}</b> {{input.y}}", inputs={"x": "<script>"},
                escape=html.escape) == f"<b>&lt;script&gt;</b> {NOT_RECORDED}"


def test_malformed_closed_placeholder_does_not_leak_unclosed_stays() -> None:
    assert fill("A {{ vda }} B") == f"A {NOT_RECORDED} B"
    assert fill("Get-Item {{input.x") == "Get-Item {{input.x"


def test_placeholders_in_nested_values() -> None:
    node = {"log": {"done": "{{input.a}}"}, "options": [{"log": "{{client.b}}"}], "n": 3}
    assert sorted(p.name for p in placeholders_in(node)) == ["a", "b"]


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


@given(st.lists(st.tuples(st.text(alphabet="ab .}\n", max_size=6),
                          st.sampled_from(["input", "client"]), NAMES), max_size=5),
       st.dictionaries(NAMES, st.text(alphabet="xyz ", max_size=4)))
def test_filled_text_never_contains_a_placeholder(parts, values) -> None:
    text = "".join(f"{prefix}{{{{{ns}.{name}}}}}" for prefix, ns, name in parts)
    out = fill(text, inputs=values, client=values)
    assert "{{" not in out
    missing = any(not values.get(name, "").strip() for _, _, name in parts)
    assert (NOT_RECORDED in out) == missing
