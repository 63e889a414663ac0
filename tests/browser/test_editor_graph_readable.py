"""The graph of a real tree is readable: no arrow runs through a step card, and every
answer's label on a card is shown in full, also on a choice with many options.
Checked on the largest starter tree (over 45 steps, a choice of 8 options) after "Tidy up"."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import node, sign_in
from tests.conftest import Tenant

TREE_ID = "tree:ad-replication-failure"
SEED = Path(__file__).resolve().parents[2] / "seeds" / "trees" / "ad-replication-failure.json"

# For every edge path, points every few pixels (screen coordinates), leaving out the ends
# where an arrow meets its own cards' dots; and every card's rectangle.
MEASURE = """() => {
  const cards = [...document.querySelectorAll('.react-flow__node')].map(el => {
    const r = el.getBoundingClientRect();
    return {id: el.dataset.id, x1: r.left + 3, y1: r.top + 3, x2: r.right - 3, y2: r.bottom - 3};
  });
  const through = [];
  for (const edge of document.querySelectorAll('.react-flow__edge')) {
    const path = edge.querySelector('path.react-flow__edge-path');
    if (!path) continue;
    const m = path.getScreenCTM(), len = path.getTotalLength();
    for (let s = 10; s < len - 10; s += 4) {
      const p = path.getPointAtLength(s);
      const x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
      const hit = cards.find(c => x > c.x1 && x < c.x2 && y > c.y1 && y < c.y2);
      if (hit) { through.push(edge.dataset.id + ' through ' + hit.id); break; }
    }
  }
  // The label just before each answer's dot, and any list of a card's answers.
  const labels = [...document.querySelectorAll('[data-testid=graph-node] .react-flow__handle.source')]
    .map(h => h.previousElementSibling)
    .concat([...document.querySelectorAll('[data-testid=answer-label]')]);
  const cut = labels
    .filter(el => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
    .map(el => el.closest('[data-node-id]').dataset.nodeId + ': ' + el.textContent);
  return {through, cut, edges: document.querySelectorAll('.react-flow__edge').length};
}"""


def test_arrows_avoid_cards_and_answer_labels_are_whole(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    author = tenant.add_user("author")
    ctx = app_context(browser, {"width": 1600, "height": 1000})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{TREE_ID}")
        page.wait_for_selector("[data-testid=graph-node]")
        page.click("button:has-text('Tidy up')")
        page.wait_for_function("() => document.querySelectorAll('.react-flow__edge').length > 40")
        found = page.evaluate(MEASURE)
        shot(page, "editor-graph-readable-01")
        # Up close, the largest choice lists every option in full.
        options = json.loads(SEED.read_text(encoding="utf-8"))["nodes"]["error_family"]["options"]
        page.get_by_role("combobox", name="Find a step").fill("error_family")
        page.keyboard.press("Enter")
        card = node(page, "error_family")
        card.wait_for()
        assert len(card.locator("[data-testid=answer-label]").all_text_contents()) == len(options) >= 7
        shot(page, "editor-graph-readable-02-choice")
        assert found["through"] == [], found["through"]
        assert found["cut"] == [], found["cut"]
    finally:
        ctx.close()
