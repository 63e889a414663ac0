import { describe, expect, it } from "vitest";
import { toggled } from "./teamScope";

describe("toggled", () => {
  it("adds a permission in the server's order", () => {
    expect(toggled({ a: ["publish"] }, "a", "run", true)).toEqual({ a: ["run", "publish"] });
  });
  it("drops a team left with no permission, so the tree can open again", () => {
    expect(toggled({ a: ["run"], b: ["edit"] }, "a", "run", false)).toEqual({ b: ["edit"] });
  });
  it("scopes an open tree to a first team", () => {
    expect(toggled({}, "net", "run", true)).toEqual({ net: ["run"] });
  });
});
