"""The brand colour contrast check (WCAG 2.x), as pure functions."""

from __future__ import annotations

from hypothesis import given, strategies as st

from api.brand import contrast

colors = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06x}")


def test_reference_values_from_the_wcag_definition():
    assert contrast.relative_luminance("#000000") == 0
    assert contrast.relative_luminance("#ffffff") == 1
    assert round(contrast.contrast_ratio("#000000", "#ffffff"), 2) == 21
    # #767676 on white is the classic lightest grey that passes AA (4.54:1).
    assert round(contrast.contrast_ratio("#767676", "#ffffff"), 2) == 4.54
    assert contrast.contrast_ratio("#777777", "#ffffff") < 4.5


def test_parse_hex_accepts_short_and_long_forms_and_nothing_else():
    assert contrast.parse_hex("#1D4ED8") == "#1d4ed8"
    assert contrast.parse_hex("fff") == "#ffffff"
    for bad in ("#12345", "blue", "#ggg000", "rgb(0,0,0)", "", "#1234567"):
        assert contrast.parse_hex(bad) is None


def test_mid_tones_fail_and_dark_or_light_brands_pass():
    assert contrast.text_on("#1d4ed8").text == contrast.WHITE and contrast.text_on("#1d4ed8").passes
    assert contrast.text_on("#fde047").text == contrast.DARK and contrast.text_on("#fde047").passes
    # Pure red and mid grey: neither white nor dark text reaches 4.5:1 on them.
    assert not contrast.text_on("#ff0000").passes
    assert not contrast.text_on("#808080").passes


@given(colors, colors)
def test_ratio_is_symmetric_and_between_1_and_21(a, b):
    r = contrast.contrast_ratio(a, b)
    assert 1 <= r <= 21.0000001
    assert r == contrast.contrast_ratio(b, a)


@given(colors)
def test_the_chosen_text_colour_is_the_better_of_the_two(c):
    choice = contrast.text_on(c)
    other = contrast.DARK if choice.text == contrast.WHITE else contrast.WHITE
    assert choice.ratio >= contrast.contrast_ratio(c, other)


@given(colors)
def test_every_colour_has_a_suggestion_that_passes(c):
    suggestion = contrast.suggest(c)
    assert contrast.parse_hex(suggestion) == suggestion
    assert contrast.text_on(suggestion).passes
    if contrast.text_on(c).passes:
        assert suggestion == c
