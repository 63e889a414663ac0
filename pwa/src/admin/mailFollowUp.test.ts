import { describe, expect, it } from "vitest";
import { followUpDelay } from "./mailFollowUp";

const now = Date.parse("2026-12-04T12:00:00Z");
const at = (ms: number) => new Date(now + ms).toISOString();

describe("followUpDelay", () => {
  it("stops when every mail is sent or failed", () => {
    expect(followUpDelay([], now)).toBeNull();
    expect(followUpDelay([{ status: "delivered", next_attempt_at: null }, { status: "failed", next_attempt_at: null }], now)).toBeNull();
  });
  it("looks again soon while a mail is being sent or about to be", () => {
    expect(followUpDelay([{ status: "sending", next_attempt_at: null }], now)).toBe(2000);
    expect(followUpDelay([{ status: "pending", next_attempt_at: at(3000) }], now)).toBe(2000);
    expect(followUpDelay([{ status: "pending", next_attempt_at: null }], now)).toBe(2000);
  });
  it("looks again slowly for a retry minutes ahead, unless another row is due", () => {
    expect(followUpDelay([{ status: "pending", next_attempt_at: at(5 * 60_000) }], now)).toBe(15000);
    expect(
      followUpDelay([{ status: "pending", next_attempt_at: at(5 * 60_000) }, { status: "sending", next_attempt_at: null }], now),
    ).toBe(2000);
  });
});
