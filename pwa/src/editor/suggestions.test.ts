import { describe, expect, it } from "vitest";
import type { NodeDismissed, NodeSuggestions, Suggestion } from "./api";
import { dismissedAt, withoutGroup } from "./suggestions";

const group = (text_key: string, count: number): Suggestion => ({ text: text_key, text_key, count, answers: {}, session_ids: [], examples: [] });

const listing = (): NodeSuggestions[] => [
  { node_id: "scope", count: 3, suggestions: [group("checked the clock", 2), group("pinged the dc", 1)] },
  { node_id: "event", count: 1, suggestions: [group("checked the clock", 1)] },
];

describe("withoutGroup", () => {
  it("drops one group at one node and recounts that node", () => {
    const out = withoutGroup(listing(), "scope", "checked the clock");
    expect(out.map((g) => [g.node_id, g.count, g.suggestions.map((s) => s.text_key)])).toEqual([
      ["scope", 1, ["pinged the dc"]],
      ["event", 1, ["checked the clock"]],
    ]);
  });

  it("drops a node whose last group goes", () => {
    expect(withoutGroup(listing(), "event", "checked the clock").map((g) => g.node_id)).toEqual(["scope"]);
  });

  it("leaves the listing alone for a group it does not hold", () => {
    const before = listing();
    expect(withoutGroup(before, "scope", "nothing like it")).toEqual(before);
  });
});

describe("dismissedAt", () => {
  const dismissedGroup = (text_key: string) => ({ ...group(text_key, 1), dismissed_at: "2026-11-26T05:00:00Z", dismissed_by: "u-author" });
  const dismissed: NodeDismissed[] = [
    { node_id: "scope", count: 2, suggestions: [dismissedGroup("checked the clock"), dismissedGroup("pinged the dc")] },
    { node_id: "event", count: 1, suggestions: [dismissedGroup("checked the clock")] },
  ];

  it("lists the node's dismissed groups", () => {
    expect(dismissedAt(dismissed, "scope", []).map((s) => s.text_key)).toEqual(["checked the clock", "pinged the dc"]);
    expect(dismissedAt(dismissed, "elsewhere", [])).toEqual([]);
  });

  it("leaves out a group still offered back with an undo at that node, not at another", () => {
    const undo = [{ node_id: "event", text_key: "checked the clock", text: "Checked the clock" }];
    expect(dismissedAt(dismissed, "scope", undo).map((s) => s.text_key)).toEqual(["checked the clock", "pinged the dc"]);
    expect(dismissedAt(dismissed, "event", undo)).toEqual([]);
  });
});
