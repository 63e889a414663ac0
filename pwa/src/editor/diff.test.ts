import { describe, expect, it } from "vitest";
import { diffTrees, flattenNode, sameNode, textDiff, type TextPart } from "./diff";

const base = () => ({
  title: "Printer offline",
  start: "scope",
  tags: ["printer"],
  nodes: {
    scope: { type: "question", title: "One user?", next: { yes: "restart", no: "end" }, log: { yes: "One user.", no: "Many." }, position: { x: 0, y: 0 } },
    restart: { type: "action", title: "Restart the spooler", next: { done: "end", failed: "end" }, log: { done: "Restarted.", failed: "Failed." } },
    pick: { type: "choice", title: "Which?", options: [{ id: "a", label: "A", next: "end", log: "Picked A." }] },
    end: { type: "resolution", outcome: "resolved", title: "Done", summary: "Fixed." },
  },
});

describe("diffTrees", () => {
  it("reports nothing for equal trees and ignores positions", () => {
    const b = base();
    (b.nodes.scope as { position: unknown }).position = { x: 500, y: 10 };
    const d = diffTrees(base(), b);
    expect(d.same).toBe(true);
    expect(d.changed).toEqual([]);
  });

  it("lists added, removed and changed nodes with old and new text", () => {
    const a = base();
    const b = base() as ReturnType<typeof base> & { nodes: Record<string, unknown> };
    delete (b.nodes as Record<string, unknown>).pick;
    (b.nodes as Record<string, unknown>).check = { type: "action", title: "Check the queue", next: { done: "end", failed: "end" } };
    b.nodes.restart.title = "Restart the print spooler";
    b.nodes.restart.log.failed = "The spooler would not restart.";
    b.title = "Printer shows offline";
    const d = diffTrees(a, b);
    expect(d.same).toBe(false);
    expect(d.tree).toEqual([{ field: "title", old: "Printer offline", new: "Printer shows offline" }]);
    expect(d.added).toEqual([{ id: "check", title: "Check the queue", type: "action" }]);
    expect(d.removed).toEqual([{ id: "pick", title: "Which?", type: "choice" }]);
    expect(d.changed).toHaveLength(1);
    expect(d.changed[0].id).toBe("restart");
    expect(d.changed[0].changes).toEqual([
      { field: "title", old: "Restart the spooler", new: "Restart the print spooler" },
      { field: "log.failed", old: "Failed.", new: "The spooler would not restart." },
    ]);
  });

  it("names choice options by id and shows rewired answers", () => {
    const a = base();
    const b = base();
    b.nodes.pick.options[0].label = "Option A";
    b.nodes.scope.next.no = "restart";
    const d = diffTrees(a, b);
    const byId = Object.fromEntries(d.changed.map((c) => [c.id, c.changes]));
    expect(byId.pick).toEqual([{ field: "option a: label", old: "A", new: "Option A" }]);
    expect(byId.scope).toEqual([{ field: "next.no", old: "end", new: "restart" }]);
  });

  it("shows a field that appears or disappears as null on one side", () => {
    const a = base();
    const b = base();
    (b.nodes.end as Record<string, unknown>).root_cause = "Stuck spooler.";
    (b.nodes.restart as Record<string, unknown>).commands = [{ language: "powershell", text: "Restart-Service Spooler" }];
    const d = diffTrees(a, b);
    const byId = Object.fromEntries(d.changed.map((c) => [c.id, c.changes]));
    expect(byId.end).toEqual([{ field: "root_cause", old: null, new: "Stuck spooler." }]);
    expect(byId.restart).toEqual([{ field: "commands", old: null, new: "[powershell] Restart-Service Spooler" }]);
  });

  it("survives malformed trees", () => {
    expect(diffTrees({ nodes: 5 as unknown as Record<string, unknown> }, { nodes: { x: 3 } }).added).toEqual([{ id: "x", title: "x", type: "?" }]);
    expect(flattenNode(null).get("(value)")).toBe(null);
  });

  it("sameNode compares content, not layout", () => {
    expect(sameNode({ type: "question", title: "x", position: { x: 1, y: 1 } }, { type: "question", title: "x" })).toBe(true);
    expect(sameNode({ type: "question", title: "x" }, { type: "question", title: "y" })).toBe(false);
    expect(sameNode(undefined, { type: "question" })).toBe(false);
  });
});

describe("textDiff", () => {
  const side = (parts: TextPart[], keep: TextPart["op"]) => parts.filter((p) => p.op === "same" || p.op === keep).map((p) => p.text).join("");

  it("marks only the words that changed", () => {
    expect(textDiff("Restart the spooler", "Restart the print spooler")).toEqual([
      { op: "same", text: "Restart the " },
      { op: "add", text: "print " },
      { op: "same", text: "spooler" },
    ]);
    expect(textDiff("Restarted the spooler.", "Restarted the print spooler, twice.")).toEqual([
      { op: "same", text: "Restarted the " },
      { op: "add", text: "print " },
      { op: "same", text: "spooler" },
      { op: "add", text: ", twice" },
      { op: "same", text: "." },
    ]);
  });

  it("puts a replaced word's deletion before its addition", () => {
    expect(textDiff("Check port 80 first", "Check port 443 first")).toEqual([
      { op: "same", text: "Check port " },
      { op: "del", text: "80" },
      { op: "add", text: "443" },
      { op: "same", text: " first" },
    ]);
  });

  it("handles empty sides and equal texts", () => {
    expect(textDiff("", "New text")).toEqual([{ op: "add", text: "New text" }]);
    expect(textDiff("Old", "")).toEqual([{ op: "del", text: "Old" }]);
    expect(textDiff("Same.", "Same.")).toEqual([{ op: "same", text: "Same." }]);
  });

  it("falls back to whole lines for long texts, and still rebuilds both", () => {
    const a = Array.from({ length: 900 }, (_, i) => `Line ${i} says something about step ${i}.`).join("\n");
    const b = a.replace("Line 450 says", "Line 450 now says").replace("Line 10 ", "Line ten ");
    const parts = textDiff(a, b);
    expect(side(parts, "del")).toBe(a);
    expect(side(parts, "add")).toBe(b);
    expect(parts.filter((p) => p.op === "add").map((p) => p.text)).toEqual(["Line ten says something about step 10.\n", "Line 450 now says something about step 450.\n"]);
    expect(parts.filter((p) => p.op === "del").map((p) => p.text)).toEqual(["Line 10 says something about step 10.\n", "Line 450 says something about step 450.\n"]);
  });

  it("keeps line breaks and accents as they are", () => {
    const parts = textDiff("Café\nclosed", "Café\nopen");
    expect(parts).toEqual([
      { op: "same", text: "Café\n" },
      { op: "del", text: "closed" },
      { op: "add", text: "open" },
    ]);
  });
});
