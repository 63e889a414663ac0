import { describe, expect, it } from "vitest";
import { formatDuration } from "../ui/kit";
import { duration } from "./duration";

describe("one duration format", () => {
  it("reads as the exports write it", () => {
    expect(duration(0)).toBe("under 1 min");
    expect(duration(29_999)).toBe("under 1 min");
    expect(duration(30_000)).toBe("1 min");
    expect(duration(27 * 60_000)).toBe("27 min");
    expect(duration(65 * 60_000)).toBe("1 h 05 min");
    expect(duration(-1)).toBeNull();
    expect(duration(1.5)).toBeNull();
    expect(duration(true)).toBeNull();
  });

  it("is the one the runner shows", () => {
    for (const ms of [0, 29_999, 30_000, 27 * 60_000, 65 * 60_000, 3 * 3_600_000 + 59_000]) {
      expect(formatDuration(ms)).toBe(duration(ms));
    }
    expect(formatDuration(null)).toBe("–");
  });
});
