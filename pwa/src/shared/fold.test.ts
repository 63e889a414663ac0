// The TypeScript fold against the same hand-checked fixtures as the Python fold
// (tests/golden/fold/*.json). The fixtures are the specification; nothing here rewrites them.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { answerLeadsSomewhere, compareCodePoints, fill, foldSession } from "./fold";
import { encodeUlid, ulid, ulidTime } from "./ulid";

const here = dirname(fileURLToPath(import.meta.url));
const goldenDir = resolve(here, "../../../tests/golden/fold");
const fixtures = readdirSync(goldenDir)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => ({ name, fx: JSON.parse(readFileSync(join(goldenDir, name), "utf-8")) }));

// Through JSON, as the state travels: also turns null-prototype maps into plain objects.
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));

function shuffled<T>(items: T[], seed: number): T[] {
  const out = items.slice();
  let s = seed + 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("golden fold fixtures", () => {
  it("are present", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(7);
  });

  for (const { name, fx } of fixtures) {
    it(`${name}: matches the hand-checked state`, () => {
      const state = foldSession(fx.tree, fx.events, fx.header, fx.client, fx.now_ms);
      expect(asJson(state)).toEqual(fx.state);
    });

    it(`${name}: does not depend on arrival order`, () => {
      for (let seed = 0; seed < 5; seed++) {
        const state = foldSession(fx.tree, shuffled(fx.events, seed), fx.header, fx.client, fx.now_ms);
        expect(asJson(state)).toEqual(fx.state);
      }
    });
  }
});

describe("fold details JavaScript makes easy to get wrong", () => {
  it("orders strings by code point, as Python does", () => {
    // U+FF5A is one UTF-16 unit above the surrogates of U+1F600, yet the smaller code point.
    expect(compareCodePoints("d-ｚ", "d-😀")).toBe(-1);
    expect(compareCodePoints("d-😀", "d-ｚ")).toBe(1);
    expect(compareCodePoints("a", "ab")).toBe(-1);
    expect(compareCodePoints("same", "same")).toBe(0);
  });

  it("treats names like constructor and __proto__ as plain node ids", () => {
    // Written as JSON text: an object literal would set the prototype instead of a key.
    const parsed = JSON.parse(
      '{"start":"constructor","nodes":{' +
        '"constructor":{"type":"question","title":"Q","next":{"yes":"__proto__","no":"__proto__"},"log":{"yes":"Y","no":"N"}},' +
        '"__proto__":{"type":"resolution","outcome":"resolved","title":"Done","summary":"ok"}}}',
    );
    const state = foldSession(parsed, [
      { _id: "e1", type: "note", ts: 1, device_id: "d", user_id: "u", node_id: "__proto__", note_id: "n", text: "kept" },
      { _id: "e2", type: "answered", ts: 2, device_id: "d", user_id: "u", node_id: "constructor", answer: "constructor" },
      { _id: "e3", type: "answered", ts: 3, device_id: "d", user_id: "u", node_id: "constructor", answer: "yes" },
    ]);
    expect(state.ignored).toEqual([{ event_id: "e2", type: "answered", reason: "bad_answer" }]);
    expect(state.current_node).toBe("__proto__");
    expect(asJson(state).notes).toEqual(JSON.parse('{"__proto__":[{"note_id":"n","text":"kept","ts":1,"updated_at":1,"device_id":"d","user_id":"u"}]}'));
  });

  it("never lets template syntax through", () => {
    // The leftmost `{{` opens the placeholder, so "{{{ b {{input.x}}" is one unknown name.
    expect(fill("a {{{ b {{input.x}}", { x: "X" }, {})).toBe("a <unknown placeholder>");
    expect(fill("{{input.x}} costs {{{ b", { x: "X" }, {})).toBe("X costs { b");
    expect(fill("{{ client.site.city }} {{client.nope}} {{oops}}", {}, { site: { city: "Köln" } })).toBe(
      "Köln <client.nope: not recorded> <unknown placeholder>",
    );
  });
});

describe("ulid", () => {
  it("encodes time then randomness in Crockford base32", () => {
    expect(encodeUlid(0, 0n)).toBe("00000000000000000000000000");
    expect(encodeUlid(2 ** 48 - 1, (1n << 80n) - 1n)).toBe("7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    expect(encodeUlid(1732600000000, 12345n)).toBe("01JDKG3VG00000000000000C1S"); // same vector as test_ids.py
    expect(encodeUlid(1469918176385, (1n << 79n) + 7n).slice(0, 10)).toBe("01ARYZ6S41");
    expect(ulidTime("01ARYZ6S41TSV4RRFFQ69G5FAV")).toBe(1469918176385);
  });

  it("stays strictly increasing within one millisecond", () => {
    const ids = Array.from({ length: 50 }, () => ulid(1732600000000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("answerLeadsSomewhere", () => {
  const nodes = { a: {}, b: {} };
  it("offers an action's answer only when it names a step of the tree", () => {
    const action = { type: "action", next: { done: "a", failed: "missing", skipped: null } };
    expect(answerLeadsSomewhere(action, "done", nodes)).toBe(true);
    expect(answerLeadsSomewhere(action, "failed", nodes)).toBe(false);
    expect(answerLeadsSomewhere(action, "skipped", nodes)).toBe(false);
    expect(answerLeadsSomewhere({ type: "action", next: { done: "a" } }, "skipped", nodes)).toBe(false);
  });
  it("reads a plain next as every answer's, like the fold", () => {
    expect(answerLeadsSomewhere({ type: "action", next: "b" }, "skipped", nodes)).toBe(true);
    expect(answerLeadsSomewhere({ type: "resolution" }, "done", nodes)).toBe(false);
  });
});
