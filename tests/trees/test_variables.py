"""Placeholders: found and checked.

Filling is `api.sessions.fold.fill`, tested in tests/sessions/test_fill.py.
"""

from __future__ import annotations

from api.trees.variables import find_placeholders, placeholders_in, scan_placeholders


def test_finds_both_namespaces_with_optional_spaces() -> None:
    found = find_placeholders("On {{input.vda_name}} at {{ client.name }}.")
    assert [(p.namespace, p.name) for p in found] == [("input", "vda_name"), ("client", "name")]
    assert found[1].raw == "{{ client.name }}"


def test_malformed_placeholders_are_found_with_a_reason() -> None:
    good, bad = scan_placeholders("{{input.vda-name}} {{ vda }} {{inputs.x}} {{input.ok}} {{input.open")
    assert [p.name for p in good] == ["ok"]
    assert [b.raw for b in bad[:3]] == ["{{input.vda-name}}", "{{ vda }}", "{{inputs.x}}"]
    assert "never closed" in bad[3].reason


def test_placeholders_in_nested_values() -> None:
    node = {"log": {"done": "{{input.a}}"}, "options": [{"log": "{{client.b}}"}], "n": 3}
    assert sorted(p.name for p in placeholders_in(node)) == ["a", "b"]
