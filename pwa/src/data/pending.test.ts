import { describe, expect, it } from "vitest";
import { actionKey, PendingTracker } from "./pending";
import { MemoryStorage } from "./memoryStorage";

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

  it("counts the saves of one note as one change, and each answer as its own", async () => {
    const t = new PendingTracker(new MemoryStorage(), "k");
    const note = (ev: string) => ({ _id: `session:S:ev:${ev}`, type: "note", session_id: "S", note_id: "N1" });
    for (const ev of ["1", "2", "3"]) t.add(note(ev)._id, "1-a", actionKey(note(ev)));
    const answer = { _id: "session:S:ev:4", type: "answered", session_id: "S" };
    t.add(answer._id, "1-b", actionKey(answer));
    expect(t.count).toBe(2);
    // The server has the first saves only: the note is still one change waiting.
    await t.confirm(async () => ({ "session:S:ev:3": { missing: ["1-a"] } }));
    expect(t.count).toBe(1);
    expect(t.ids).toEqual(["session:S:ev:3"]);
  });

  it("counts finishing a session once: its event and the header's new status", () => {
    const t = new PendingTracker(new MemoryStorage(), "k");
    const header = { _id: "session:S", type: "session" };
    const completed = { _id: "session:S:ev:9", type: "completed", session_id: "S" };
    t.add(completed._id, "1-c", actionKey(completed));
    t.add(header._id, "2-h", actionKey(header));
    expect(t.count).toBe(1);
  });

  it("shares one list between the tabs of the origin", async () => {
    const storage = new MemoryStorage();
    const leader = new PendingTracker(storage, "k");
    const follower = new PendingTracker(storage, "k");
    follower.add("a", "1-x");
    leader.add("b", "1-y"); // re-reads first: the follower's write is not lost
    follower.reload();
    expect(follower.ids.sort()).toEqual(["a", "b"]);
    await leader.confirm(async () => ({}));
    follower.reload();
    expect(follower.count).toBe(0);
  });
});
