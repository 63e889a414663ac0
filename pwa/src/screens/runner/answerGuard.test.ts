import { describe, expect, it } from "vitest";
import { AnswerGuard, stepKey } from "./answerGuard";

const shown = (node: string, answers: number, tried = 0, refused = 0) =>
  stepKey({
    current_node: node,
    path: Array(answers).fill({}),
    tried: Array(tried).fill({}),
    ignored: [...Array(refused).fill({ type: "answered" }), { type: "note" }],
  } as never);

describe("AnswerGuard", () => {
  it("takes one answer per showing of a step", () => {
    const g = new AnswerGuard();
    const a = shown("scope", 0);
    expect(g.take(a, a)).toBe(true);
    expect(g.take(a, a)).toBe(false);
    const b = shown("service", 1);
    expect(g.take(b, b)).toBe(true);
  });

  it("refuses an answer made against a step no longer shown", () => {
    const g = new AnswerGuard();
    expect(g.take(shown("scope", 0), shown("service", 1))).toBe(false);
  });

  it("lets the same node be answered again after stepping back to it", () => {
    const g = new AnswerGuard();
    const first = shown("scope", 0);
    expect(g.take(first, first)).toBe(true);
    const again = shown("scope", 0, 1);
    expect(again).not.toBe(first);
    expect(g.take(again, again)).toBe(true);
  });

  it("opens the showing again when the answer could not be saved or the fold refused it", () => {
    const g = new AnswerGuard();
    const a = shown("scope", 0);
    g.take(a, a);
    g.release(a);
    expect(g.take(a, a)).toBe(true);
    expect(shown("scope", 0, 0, 1)).not.toBe(a);
  });
});
