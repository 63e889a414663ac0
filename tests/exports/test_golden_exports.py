"""The Markdown and text exports against the hand-checked fixtures in tests/golden/exports/.

Each NAME.json is a session bundle (tree, header, client, events, options, tenant name,
engineer names); NAME.md and NAME.txt were written by hand from the rules in
api/exports/render.py. Nothing here rewrites them. pwa/src/shared/export.test.ts checks the
app's renderers against the same files, so the two stay byte-identical.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.exports.formats import render_markdown, render_text
from api.exports.render import build_export_model
from api.sessions.fold import fold_session

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "exports"
NAMES = sorted(p.stem for p in GOLDEN.glob("*.json"))


def _bundle(name: str) -> dict:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


def _model(fx: dict) -> dict:
    return build_export_model(fx, fx.get("options"), fx.get("tenant"), fx.get("engineer_names"))


def test_fixtures_cover_what_the_issue_names():
    assert len(NAMES) >= 4
    text = "".join((GOLDEN / f"{n}.md").read_text(encoding="utf-8") for n in NAMES)
    for needed in (
        "Tried, then revisited",
        "Custom step (",
        "**Hand-over:**",
        "Commands run:",
        "Entered:",
        "- Attachment:",
        "## Other notes",
        "\\*bold\\*",
        "**Abandoned**",
        "**In progress**",
    ):
        assert needed in text, needed
    kinds = {node["type"] for n in NAMES for node in _bundle(n)["tree"]["nodes"].values()}
    assert kinds >= {"question", "choice", "action", "input", "resolution"}


@pytest.mark.parametrize("name", NAMES)
def test_markdown_matches_the_hand_checked_file(name):
    assert render_markdown(_model(_bundle(name))) == (GOLDEN / f"{name}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_text_matches_the_hand_checked_file(name):
    assert render_text(_model(_bundle(name))) == (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_a_bundle_with_its_state_exports_the_same(name):
    """The API hands over the folded state; the fixtures fold from events. Same result."""
    fx = _bundle(name)
    state = fold_session(fx["tree"], fx["events"], fx["header"], fx["client"], fx["now_ms"])
    assert render_markdown(_model({**fx, "state": state})) == render_markdown(_model(fx))


@pytest.mark.parametrize("name", NAMES)
def test_no_template_syntax_or_node_ids_in_sentences(name):
    fx = _bundle(name)
    model = _model(fx)
    sentences = [s["sentence"] for s in model["steps"]]
    typed = [e.get("text", "") for e in fx["events"]] + [e.get("value", "") for e in fx["events"]]
    for sentence in sentences:
        assert "{{" not in sentence or any("{{" in t and t in sentence for t in typed if isinstance(t, str))
        assert sentence not in fx["tree"]["nodes"], f"a raw node id as a sentence: {sentence}"


def test_readme_sample_is_real_output():
    """api/exports/README_SAMPLE.md (pasted into README.md) is the export of a session run
    through the starter tree citrix-vda-registration, exactly as the code renders it."""
    section = (ROOT / "api" / "exports" / "README_SAMPLE.md").read_text(encoding="utf-8")
    start = section.index("````markdown\n") + len("````markdown\n")
    sample = section[start : section.rindex("````")]
    bundle = json.loads((ROOT / "api" / "exports" / "sample_session.json").read_text(encoding="utf-8"))
    seed = json.loads((ROOT / "seeds" / "trees" / "citrix-vda-registration.json").read_text(encoding="utf-8"))
    assert bundle["tree"]["nodes"] == seed["nodes"], "the sample must run through the seed tree as shipped"
    assert render_markdown(_model(bundle)) == sample


def test_readme_carries_the_sample():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = (ROOT / "api" / "exports" / "README_SAMPLE.md").read_text(encoding="utf-8")
    assert section.strip() in readme
