"""The checklist layout (api/trees/checklist.py) on small trees, with the pages, numbers and
references worked out by hand from the rules in the module's docstring."""

from __future__ import annotations

import pytest

from api.trees.checklist import checklist_layout, plain_text, render_html


def tree(start: str, **nodes) -> dict:
    return {"title": "T", "start": start, "nodes": nodes}


def res(outcome: str = "resolved", summary: str = "Done.") -> dict:
    return {"type": "resolution", "outcome": outcome, "title": f"End {outcome}", "summary": summary}


def shape(layout: dict) -> list[tuple[str, list[tuple[int, str]]]]:
    return [(p["title"], [(s["number"], s["node_id"]) for s in p["steps"]]) for p in layout["pages"]]


def goes(layout: dict) -> dict[str, list[tuple[str, object]]]:
    """node id -> [(label, (step, page) or the missing id)]"""
    out = {}
    for page in layout["pages"]:
        for s in page["steps"]:
            out[s["node_id"]] = [
                (a["label"], (a["to"]["step"], a["to"]["page"]) if "step" in a["to"] else a["to"]["missing"])
                for a in s["answers"]
            ]
    return out


def test_a_tree_without_a_decision_is_one_page():
    t = tree(
        "a",
        a={"type": "input", "title": "Which VDA?", "variable": "vda", "next": "b"},
        b={"type": "action", "title": "Restart", "next": {"done": "c", "failed": "c", "skipped": "c"}},
        c=res(),
    )
    layout = checklist_layout(t)
    assert shape(layout) == [("Start", [(1, "a"), (2, "b"), (3, "c")])]
    assert goes(layout) == {
        "a": [("Noted", (2, 1))],
        "b": [("Done", (3, 1)), ("Failed", (3, 1)), ("Skipped", (3, 1))],
        "c": [],
    }
    assert layout["unreachable"] == []


def test_each_answer_of_the_first_decision_opens_a_page():
    t = tree(
        "s",
        s={"type": "input", "title": "Ticket?", "variable": "t", "next": "d"},
        d={"type": "question", "title": "One VDA?", "next": {"yes": "a", "no": "b"}},
        a=res(),
        b=res("escalated"),
    )
    layout = checklist_layout(t)
    assert shape(layout) == [
        ("Start", [(1, "s"), (2, "d")]),
        ("If Yes at step 2", [(3, "a")]),
        ("If No at step 2", [(4, "b")]),
    ]
    assert layout["pages"][1]["opened_by"] == {"step": 2, "answer": "yes", "label": "Yes"}
    assert goes(layout)["d"] == [("Yes", (3, 2)), ("No", (4, 3))]


def test_shared_tails_print_once_and_loops_refer_back():
    # q --yes--> x --done--> end,  x --failed--> y,  q --no--> y
    # y --o1--> z --> end,  y --o2--> q (a loop back to the start)
    t = tree(
        "q",
        q={"type": "question", "title": "Q", "next": {"yes": "x", "no": "y"}},
        x={"type": "action", "title": "X", "next": {"done": "end", "failed": "y"}},
        y={
            "type": "choice",
            "title": "Y",
            "options": [{"id": "o1", "label": "One", "next": "z"}, {"id": "o2", "label": "Two", "next": "q"}],
        },
        z={"type": "input", "title": "Z", "variable": "zz", "next": "end"},
        end=res(),
    )
    layout = checklist_layout(t)
    # Depth first from x: x, then its first answer's step (end), then y and y's first (z).
    # "No" leads to y, already on page 2: no page of its own.
    assert shape(layout) == [
        ("Start", [(1, "q")]),
        ("If Yes at step 1", [(2, "x"), (3, "end"), (4, "y"), (5, "z")]),
    ]
    assert goes(layout) == {
        "q": [("Yes", (2, 2)), ("No", (4, 2))],
        "x": [("Done", (3, 2)), ("Failed", (4, 2))],
        "y": [("One", (5, 2)), ("Two", (1, 1))],
        "z": [("Noted", (3, 2))],
        "end": [],
    }


def test_a_step_that_retries_itself_is_a_decision():
    t = tree(
        "a",
        a={"type": "action", "title": "Try", "next": {"done": "b", "failed": "a"}},
        b=res(),
    )
    layout = checklist_layout(t)
    assert shape(layout) == [("Start", [(1, "a")]), ("If Done at step 1", [(2, "b")])]
    assert goes(layout)["a"] == [("Done", (2, 2)), ("Failed", (1, 1))]


def test_missing_and_unreachable_steps():
    t = tree(
        "m",
        m={"type": "question", "title": "M", "next": {"yes": "ghost", "no": "r"}},
        r=res(),
        orphan=res("unresolved"),
    )
    layout = checklist_layout(t)
    # Only one existing step follows m, so m is no decision: one page.
    assert shape(layout) == [("Start", [(1, "m"), (2, "r")])]
    assert goes(layout)["m"] == [("Yes", "ghost"), ("No", (2, 1))]
    assert layout["unreachable"] == ["orphan"]
    assert checklist_layout({"title": "Empty", "start": "nope", "nodes": {}})["pages"] == []


def test_the_printed_page_escapes_text_and_breaks_per_branch():
    t = tree(
        "q",
        q={
            "type": "question",
            "title": "Is <b>it</b> on?",
            "body": "Check & see",
            "next": {"yes": "a", "no": "b"},
        },
        a={"type": "action", "title": "Fix", "next": {"done": "q", "failed": "q"}},
        b=res("escalated", "Hand <over>."),
    )
    html = render_html(checklist_layout(t), 3)
    assert "Is &lt;b&gt;it&lt;/b&gt; on?" in html and "<b>it</b>" not in html
    assert "Check &amp; see" in html and "Hand &lt;over&gt;." in html
    assert "break-before: page" in html and html.count('<section class="page"') == 3
    assert "1. Is &lt;b&gt;it&lt;/b&gt; on?" in html
    assert "Yes → go to step 2, page 2" in html and "Done → go back to step 1, page 1" in html
    assert "No → go to step 3, page 3" in html and "version 3 · page 2 of 3" in html


@pytest.mark.parametrize(
    "markdown, plain",
    [
        (
            "Filter on **Registration state = Unregistered** now.",
            "Filter on Registration state = Unregistered now.",
        ),
        ("Run `ipconfig /registerdns` on the VDA.", "Run ipconfig /registerdns on the VDA."),
        ("An *important* and _quiet_ step.", "An important and quiet step."),
        ("See [the docs](https://example.org/x).", "See the docs (https://example.org/x)."),
        (
            "- **One VDA**: the machine\n- snake_case_name stays",
            "- One VDA: the machine\n- snake_case_name stays",
        ),
        ("2 * 3 * 4 and a_b", "2 * 3 * 4 and a_b"),
    ],
)
def test_markdown_prints_as_plain_text(markdown, plain):
    assert plain_text(markdown) == plain


def test_the_printed_page_shows_markdown_without_its_markers():
    t = tree(
        "q",
        q={"type": "action", "title": "Do", "body": "Check **<this>** `now`", "next": {"done": "r"}},
        r=res(),
    )
    html = render_html(checklist_layout(t), None)
    assert "Check &lt;this&gt; now" in html and "**" not in html
