"""The simplified checklist of a published tree: its steps laid out for paper, one printed page
per branch, each step a checkbox with the answers leading on ("Yes: go to step 4").

A tree is a graph (DESIGN.md, tree format v1), not a tree: answers of different steps may
lead to the same step (shared tails), and an answer may lead back to an earlier step (a retry
loop). Paper needs every step printed once, so the layout is:

- **Numbering.** Every step reachable from `start` gets one number, used everywhere it is
  mentioned, in the order the pages print them.
- **The start page.** From `start`, the steps that have only one way on (an input, or a step
  whose answers all lead to the same next step), up to and including the first *decision*: the
  first step whose answers lead to two or more different steps. A tree without a decision is
  this one page.
- **A branch** is what one answer of that first decision leads to: a page of its own, titled by
  the answer ("If Yes at step 1"), holding the steps reached from that answer that no earlier
  page holds, in depth-first order (each step's answers in the tree's order: yes before no,
  done, failed, skipped, options as listed), so a line of work reads down the page.
- **Shared tails and loops** are printed once, on the first page that reaches them; every
  other answer leading there refers to them by number ("continue at step 12, page 3", "go back
  to step 2"). An answer whose step is already printed opens no page of its own.
- Steps no path from `start` reaches are not printed; the layout lists their ids.

`checklist_layout` is the pure part (the PWA's twin is `pwa/src/shared/checklist.ts`, checked
against it by `tests/trees/test_checklist_parity.py`); `render_html` prints a layout.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

SCHEMA_VERSION = 1
_QUESTION = (("yes", "Yes"), ("no", "No"))
_ACTION = (("done", "Done"), ("failed", "Failed"), ("skipped", "Skipped"))


def _nodes(tree: dict[str, Any]) -> dict[str, Any]:
    nodes = tree.get("nodes")
    return nodes if isinstance(nodes, dict) else {}


def _node(nodes: dict[str, Any], node_id: str) -> dict[str, Any]:
    node = nodes[node_id]
    return node if isinstance(node, dict) else {}


def answers_of(node: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(answer id, label, next node id) of each answer a node offers, in the tree's order."""
    kind, nxt = node.get("type"), node.get("next")
    if kind == "question" and isinstance(nxt, dict):
        return [(a, label, nxt[a]) for a, label in _QUESTION if a in nxt]
    if kind == "action" and isinstance(nxt, dict):
        return [(a, label, nxt[a]) for a, label in _ACTION if a in nxt]
    if kind == "choice":
        options = node.get("options")
        if not isinstance(options, list):
            return []
        out: list[tuple[str, str, Any]] = []
        for o in options:
            if isinstance(o, dict):
                oid, label = o.get("id"), o.get("label")
                oid = oid if isinstance(oid, str) else ""
                out.append((oid, label if isinstance(label, str) and label else oid, o.get("next")))
        return out
    if kind == "input" and nxt is not None:
        return [("submitted", "Noted", nxt)]
    return []


def _targets(node: dict[str, Any], nodes: dict[str, Any]) -> list[str]:
    """The distinct existing steps a node's answers lead to, in answer order."""
    out: list[str] = []
    for _, _, target in answers_of(node):
        if isinstance(target, str) and target in nodes and target not in out:
            out.append(target)
    return out


def _pages(tree: dict[str, Any]) -> list[tuple[str | None, list[str]]]:
    """(the decision answer that opens the page or None, node ids in print order) per page."""
    nodes = _nodes(tree)
    start = tree.get("start")
    if not isinstance(start, str) or start not in nodes:
        return []
    placed: set[str] = set()
    trunk: list[str] = []
    node_id: str | None = start
    while node_id is not None and node_id not in placed:
        trunk.append(node_id)
        placed.add(node_id)
        targets = _targets(_node(nodes, node_id), nodes)
        node_id = targets[0] if len(targets) == 1 else None
    pages: list[tuple[str | None, list[str]]] = [(None, trunk)]
    decision = _node(nodes, trunk[-1])
    if len(_targets(decision, nodes)) < 2:
        return pages
    for answer, _, target in answers_of(decision):
        if not isinstance(target, str) or target not in nodes or target in placed:
            continue
        order: list[str] = []
        stack = [target]
        while stack:
            current = stack.pop()
            if current in placed:
                continue
            placed.add(current)
            order.append(current)
            # Reversed onto the stack, so the first answer's steps come first.
            stack.extend(t for t in reversed(_targets(_node(nodes, current), nodes)) if t not in placed)
        pages.append((answer, order))
    return pages


def checklist_layout(tree: dict[str, Any]) -> dict[str, Any]:
    """The checklist of `tree` (a tree document's body, e.g. a published version's `tree`):
    `{schema_version, title, pages: [{number, title, opened_by, steps}], unreachable}`.

    Each step: `{number, node_id, type, title, text, variable, outcome, answers}` (`text`: the
    body, or a resolution's summary),
    each answer `{answer, label, to}` where `to` is `{step, page}` of the step it leads to, or
    `{missing: node_id}` when the tree names a step it does not have; a resolution has none.
    """
    nodes = _nodes(tree)
    raw = _pages(tree)
    number: dict[str, int] = {}
    page_of: dict[str, int] = {}
    for page_no, (_, ids) in enumerate(raw, start=1):
        for node_id in ids:
            number[node_id] = len(number) + 1
            page_of[node_id] = page_no
    decision = raw[0][1][-1] if raw else None
    pages = []
    for page_no, (opened_by, ids) in enumerate(raw, start=1):
        title = "Start"
        opened = None
        if opened_by is not None and decision is not None:
            label = next(lbl for a, lbl, _ in answers_of(_node(nodes, decision)) if a == opened_by)
            title = f"If {label} at step {number[decision]}"
            opened = {"step": number[decision], "answer": opened_by, "label": label}
        pages.append(
            {
                "number": page_no,
                "title": title,
                "opened_by": opened,
                "steps": [_step(node_id, nodes, number, page_of) for node_id in ids],
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "title": tree.get("title") if isinstance(tree.get("title"), str) else "",
        "pages": pages,
        "unreachable": sorted(n for n in nodes if n not in number),
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _step(
    node_id: str, nodes: dict[str, Any], number: dict[str, int], page_of: dict[str, int]
) -> dict[str, Any]:
    node = _node(nodes, node_id)
    answers = []
    for answer, label, target in answers_of(node):
        to: dict[str, Any] = (
            {"step": number[target], "page": page_of[target]}
            if isinstance(target, str) and target in number
            else {"missing": target if isinstance(target, str) else None}
        )
        answers.append({"answer": answer, "label": label, "to": to})
    resolution = node.get("type") == "resolution"
    return {
        "number": number[node_id],
        "node_id": node_id,
        "type": node.get("type"),
        "title": _text(node.get("title")) or node_id,
        "text": _text(node.get("summary") if resolution else node.get("body")),
        "variable": _text(node.get("variable")),
        "outcome": node.get("outcome") if resolution else None,
        "answers": answers,
    }


# --- printing -------------------------------------------------------------------------------

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_EMPHASIS = re.compile(r"(?<![\w*])[*_]([^*_\s][^*_]*)[*_](?![\w*])")


def plain_text(markdown: str) -> str:
    """Authors' Markdown as it should read on paper without formatting: the emphasis, code and
    link markers go (a link keeps its address in brackets); line breaks and list dashes stay."""
    text = _LINK.sub(r"\1 (\2)", markdown)
    text = _STRONG.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    return _EMPHASIS.sub(r"\1", text)


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["plain"] = plain_text
    return env.get_template("checklist.j2")


def render_html(layout: dict[str, Any], version: int | None) -> str:
    """A standalone printable page: one page per branch, escaped throughout."""
    return _template().render(c=layout, version=version)
