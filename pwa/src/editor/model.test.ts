import { describe, expect, it } from "vitest";
import { addNode, answersOf, changeType, duplicateNode, edgesOf, freeSpot, insertStepBefore, layout, layeredLayout, newNode, removeNode, renameNode, sourcesToText, textToSources, withNext, type TreeDoc } from "./model";
import { validateTree } from "./validate";

function small(): TreeDoc {
  return {
    _id: "tree:printer",
    type: "tree",
    schema_version: 1,
    title: "Printer offline",
    start: "scope",
    nodes: {
      scope: { type: "question", title: "One user?", next: { yes: "restart", no: "end" }, log: { yes: "One user.", no: "Many." } },
      restart: { type: "action", title: "Restart", next: { done: "end", failed: "end" }, log: { done: "Restarted.", failed: "Failed." } },
      end: { type: "resolution", outcome: "resolved", title: "Done", summary: "Fixed." },
    },
  };
}

describe("editing a tree", () => {
  it("starts valid", () => expect(validateTree(small())).toEqual([]));

  it("renames a node and every answer that leads to it", () => {
    const t = renameNode(small(), "end", "fixed");
    expect(Object.keys(t.nodes)).toEqual(["scope", "restart", "fixed"]);
    expect(edgesOf(t).map((e) => e.to)).toEqual(["restart", "fixed", "fixed", "fixed"]);
    expect(validateTree(t)).toEqual([]);
    expect(renameNode(small(), "end", "scope")).toEqual(small()); // taken: unchanged
  });

  it("removing a node disconnects the answers that led to it, and validation says so", () => {
    const t = removeNode(small(), "restart");
    expect(answersOf(t.nodes.scope).find((a) => a.key === "yes")!.target).toBe(null);
    expect(validateTree(t).map((p) => [p.node_id, p.code])).toContainEqual(["scope", "missing_next"]);
  });

  it("adds nodes under unique ids and makes the first one the start", () => {
    const empty: TreeDoc = { _id: "tree:x", title: "X", nodes: {} };
    const [t1, a] = addNode(empty, "question", newNode("question"));
    const [t2, b] = addNode(t1, "question", newNode("question"));
    expect([a, b, t2.start]).toEqual(["question", "question-2", "question"]);
  });

  it("duplicates with the same answers", () => {
    const [t, id] = duplicateNode(small(), "restart");
    expect(id).toBe("restart-2");
    expect(t.nodes[id].next).toEqual(t.nodes.restart.next);
  });

  it("changing the type keeps the text and carries connections over", () => {
    const n = changeType(small().nodes.scope, "action");
    expect(n.type).toBe("action");
    expect(n.title).toBe("One user?");
    expect(answersOf(n).map((a) => a.target)).toEqual(["restart", "end", null]);
  });

  it("turns a suggestion into a step before the node where engineers added it", () => {
    const [t, id] = insertStepBefore(small(), "restart", "Checked the print queue.");
    expect(id).toBe("checked-the-print-queue");
    expect(answersOf(t.nodes.scope)[0].target).toBe(id);
    expect(t.nodes[id]).toMatchObject({ type: "action", title: "Checked the print queue", next: { done: "restart", failed: "restart" } });
    expect(validateTree(t)).toEqual([]);
  });

  it("sets an answer's next on choices, inputs and questions", () => {
    const c = withNext(newNode("choice"), "opt:1", "end");
    expect((c.options as { next: string }[])[1].next).toBe("end");
    expect(withNext(newNode("input"), "next", "end").next).toBe("end");
    expect(withNext(newNode("question"), "no", "end").next).toEqual({ yes: null, no: "end" });
  });
});

describe("layout", () => {
  it("places every node, parents above children", () => {
    const pos = layout(small());
    expect(pos.scope.y).toBeLessThan(pos.restart.y);
    expect(pos.restart.y).toBeLessThan(pos.end.y);
  });

  it("lays out a 2,000-step chain quickly (dagre would recurse too deep)", () => {
    const nodes: TreeDoc["nodes"] = {};
    for (let i = 0; i < 2000; i++) nodes[`n${i}`] = { type: "action", title: `Step ${i}`, next: { done: i < 1999 ? `n${i + 1}` : null, failed: `n${i}` } };
    const t0 = performance.now();
    const pos = layout({ _id: "tree:chain", start: "n0", nodes });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(pos.n1999.y).toBeGreaterThan(pos.n0.y);
    expect(Object.keys(layeredLayout({ _id: "tree:c", start: "n0", nodes }))).toHaveLength(2000);
  });

  it("finds free space for a new card", () => {
    const t = small();
    t.nodes.scope.position = { x: 0, y: 0 };
    const p = freeSpot(t, { x: 0, y: 0 });
    expect(p).not.toEqual({ x: 0, y: 0 });
  });
});

describe("tree sources as lines", () => {
  it("round-trips title and URL, and keeps a line without an address", () => {
    const sources = [{ title: "Microsoft: DNS client troubleshooting", url: "https://learn.microsoft.com/en-us/troubleshoot/dns" }];
    expect(textToSources(sourcesToText(sources))).toEqual(sources);
    expect(textToSources("Citrix: VDA registration\n\n  https://docs.citrix.com/en-us/x  ")).toEqual([
      { title: "Citrix: VDA registration", url: "" },
      { title: "", url: "https://docs.citrix.com/en-us/x" },
    ]);
  });
});
