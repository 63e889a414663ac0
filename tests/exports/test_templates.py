"""Tenant templates: compiled and tried in Jinja2's sandbox when saved, refused with a line."""

from __future__ import annotations

import pytest

from api.exports import formats, service, templates as tpl
from sync.errors import BadRequest

from .helpers import bundle, model


def refused(fmt: str, source: str) -> dict:
    with pytest.raises(BadRequest) as info:
        service.check_template(fmt, source)
    return info.value.details | {"reason": info.value.reason}


def test_a_syntax_error_is_refused_with_its_line():
    problem = refused("html", "<h1>{{ m.title }}</h1>\n<p>\n{% for s in m.steps %}{{ s.sentence }}\n")
    assert problem["line"] == 3 or problem["line"] == 4
    assert "for" in problem["message"] or "endfor" in problem["message"]
    assert problem["reason"].startswith("The html template was not saved: line ")


def test_an_unknown_filter_is_refused_with_its_line():
    problem = refused("connectwise", "ok\n{{ m.title|nosuchfilter }}\n")
    assert problem["line"] == 2 and "nosuchfilter" in problem["message"]


def test_a_runtime_error_is_refused_with_its_line():
    problem = refused("pdf", "<p>{{ m.title }}</p>\n<p>{{ m.steps[0].number / 0 }}</p>\n")
    assert problem["line"] == 2 and "ZeroDivisionError" in problem["message"]


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ m.steps.append(1) }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% set x = m.details.pop() %}",
    ],
)
def test_the_sandbox_refuses_escapes_and_mutation(source):
    problem = refused("html", source)
    assert problem["line"] == 1
    assert (
        "not allowed" in problem["reason"]
        or "unsafe" in problem["reason"]
        or "undefined" in problem["reason"]
    )


def test_an_unsafe_attribute_reads_as_nothing():
    template = tpl.compile_tenant("html", "[{{ m.__class__ }}][{{ m.steps.__len__ }}]")
    assert tpl.render_tenant(template, {"m": {"steps": []}, "images": {}}) == "[][]"


def test_a_good_template_renders_escaped_and_is_used():
    source = "<h1>{{ m.title }}</h1>{% for s in m.steps %}<p>{{ s.sentence }}</p>{% endfor %}"
    service.check_template("html", source)
    html = formats.render_html(model(bundle("markdown_special_characters_in_progress")), None, source)
    assert not html.used_fallback
    assert "&lt;script&gt;" in html.body and "<script>" not in html.body


def test_a_stored_template_that_fails_later_falls_back_to_the_builtin():
    source = "{{ 1 / (m.tree.title|length - 15) }}"  # fine for the sample tree, not for "Printer offline"
    service.check_template("connectwise", source)
    out = formats.render_connectwise(model(bundle("abandoned_with_options_off")), source)
    assert out.used_fallback and out.body["note"]["text"].startswith("Branchline: Printer offline")


def test_markdown_and_text_cannot_be_overridden():
    with pytest.raises(BadRequest, match="Only the html, pdf, connectwise templates"):
        service._check_format("markdown")
    assert set(tpl.OVERRIDABLE) == {"html", "pdf", "connectwise"}


def test_builtin_templates_pass_their_own_check():
    for fmt in tpl.OVERRIDABLE:
        service.check_template(fmt, tpl.builtin_source(fmt))
