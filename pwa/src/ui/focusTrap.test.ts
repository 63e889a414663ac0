import { describe, expect, it } from "vitest";
import { trapTarget } from "./focusTrap";

describe("trapTarget", () => {
  it("wraps Tab from the last stop to the first, and Shift+Tab from the first to the last", () => {
    expect(trapTarget(4, 3, false)).toBe(0);
    expect(trapTarget(4, 0, true)).toBe(3);
  });

  it("leaves moves between stops inside the dialog to the browser", () => {
    expect(trapTarget(4, 1, false)).toBeNull();
    expect(trapTarget(4, 2, true)).toBeNull();
    expect(trapTarget(4, 0, false)).toBeNull();
    expect(trapTarget(4, 3, true)).toBeNull();
  });

  it("brings focus that is elsewhere back in at the start, or the end going backwards", () => {
    expect(trapTarget(4, -1, false)).toBe(0);
    expect(trapTarget(4, -1, true)).toBe(3);
  });

  it("keeps a single stop focused either way", () => {
    expect(trapTarget(1, 0, false)).toBe(0);
    expect(trapTarget(1, 0, true)).toBe(0);
  });

  it("has nothing to move to in a dialog without stops", () => {
    expect(trapTarget(0, -1, false)).toBeNull();
  });
});
