import { describe, expect, it } from "vitest";
import { checklistLayout, gotoText } from "./checklist";

describe("gotoText", () => {
  it("says forward, back and the page when it changes", () => {
    expect(gotoText({ step: 4, page: 2 }, 2, 2)).toBe("go to step 4");
    expect(gotoText({ step: 1, page: 1 }, 5, 2)).toBe("go back to step 1, page 1");
    expect(gotoText({ step: 3, page: 3 }, 3, 3)).toBe("go back to step 3");
    expect(gotoText({ missing: "ghost" }, 1, 1)).toBe("(the tree has no step “ghost”)");
  });
});

describe("checklistLayout", () => {
  it("opens one page per answer of the first decision", () => {
    const layout = checklistLayout({
      title: "T",
      start: "s",
      nodes: {
        s: { type: "input", title: "Ticket?", variable: "t", next: "d" },
        d: { type: "question", title: "One VDA?", next: { yes: "a", no: "b" } },
        a: { type: "resolution", outcome: "resolved", title: "A", summary: "ok" },
        b: { type: "resolution", outcome: "escalated", title: "B", summary: "up" },
      },
    });
    expect(layout.pages.map((p) => [p.title, p.steps.map((s) => `${s.number}:${s.node_id}`)])).toEqual([
      ["Start", ["1:s", "2:d"]],
      ["If Yes at step 2", ["3:a"]],
      ["If No at step 2", ["4:b"]],
    ]);
  });
});
