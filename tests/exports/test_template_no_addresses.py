"""A tenant template never prints a Python object: `{{ lipsum }}`-like values would show a
memory address of the server process (`<function ... at 0x7f...>`) in an export."""

from __future__ import annotations

import re

import pytest

ADDRESS = re.compile(r"0x[0-9a-f]{6,}", re.I)


@pytest.mark.parametrize(
    "expression", ["lipsum", "m.items", "range", "cycler", "namespace", "joiner", "m.steps.index", "self"]
)
def test_printing_an_object_is_refused_when_saved_without_its_address(http, tenant, expression):
    source = f"<p>{{{{ m.title }}}}</p>\n<p>{{{{ {expression} }}}}</p>\n"
    r = http.put("/api/v1/export-templates/html", headers=tenant.headers, json={"source": source})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "bad_request" and body["details"]["line"] == 2
    assert "print one of its fields" in body["reason"]
    assert not ADDRESS.search(r.text), r.text


def test_printing_data_still_works(http, tenant):
    source = "<p>{{ m.title }}</p><p>{{ m.steps|length }}</p><p>{{ [1, 'two'] }}</p><p>{{ nothing }}</p>"
    r = http.put("/api/v1/export-templates/html", headers=tenant.headers, json={"source": source})
    assert r.status_code == 200, r.text
