import { describe, expect, it } from "vitest";
import { PendingTracker } from "./pending";
import { MemoryStorage } from "./testing/memoryStorage";

describe("PendingTracker", () => {
  it("counts writes until the server has them, and survives a reload", async () => {
    const storage = new MemoryStorage();
    const t = new PendingTracker(storage, "k");
    t.add("a", "1-x");
    t.add("b", "1-y");
    expect(t.count).toBe(2);
    const reloaded = new PendingTracker(storage, "k");
    expect(reloaded.count).toBe(2);
    const left = await reloaded.confirm(async (diff) => {
      expect(diff).toEqual({ a: ["1-x"], b: ["1-y"] });
      return { b: { missing: ["1-y"] } };
    });
    expect(left).toBe(1);
    expect(reloaded.ids).toEqual(["b"]);
  });

  it("keeps a document rewritten while the server was being asked", async () => {
    const t = new PendingTracker(new MemoryStorage(), "k");
    t.add("a", "1-x");
    await t.confirm(async () => {
      t.add("a", "2-z");
      return {};
    });
    expect(t.ids).toEqual(["a"]);
  });

  it("moves a refused write to the refused list, visible and kept", () => {
    const t = new PendingTracker(new MemoryStorage(), "k");
    t.add("session:X:ev:1", "1-x");
    t.deny("session:X:ev:1", "not yours", 5);
    expect(t.count).toBe(0);
    expect(t.refused).toEqual([{ id: "session:X:ev:1", reason: "not yours", at: 5 }]);
    t.dismissRefused("session:X:ev:1");
    expect(t.refused).toEqual([]);
  });
});
