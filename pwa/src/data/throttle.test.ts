import { describe, expect, it } from "vitest";
import { ThrottledSaver, type ThrottleDeps } from "./throttle";
import { MemoryStorage } from "./memoryStorage";

function fakeTimers() {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const deps: ThrottleDeps = {
    now: () => now,
    setTimer: (fn, ms) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimer: (h) => {
      const i = timers.findIndex((t) => t.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    storage: new MemoryStorage(),
  };
  const advance = async (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.at <= now)) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
    await new Promise((r) => setTimeout(r, 0));
  };
  return { deps, advance };
}

describe("ThrottledSaver", () => {
  it("writes the first keystroke at once, then at most once per interval, and always the last text", async () => {
    const { deps, advance } = fakeTimers();
    const writes: string[] = [];
    const s = new ThrottledSaver(async (t) => void writes.push(t), null, 2000, deps, "draft");
    s.update("a");
    await advance(0);
    s.update("ab");
    await advance(500);
    s.update("abc");
    await advance(500);
    expect(writes).toEqual(["a"]);
    await advance(1000);
    expect(writes).toEqual(["a", "abc"]);
    await advance(5000);
    expect(writes).toEqual(["a", "abc"]);
    expect(deps.storage!.getItem("draft")).toBeNull();
  });

  it("flush writes what is waiting; an unchanged text is not written again", async () => {
    const { deps, advance } = fakeTimers();
    const writes: string[] = [];
    const s = new ThrottledSaver(async (t) => void writes.push(t), "same", 2000, deps);
    s.update("same");
    await advance(0);
    expect(writes).toEqual([]);
    s.update("new");
    s.update("newer");
    await s.flush();
    expect(writes).toEqual(["new", "newer"]);
  });

  it("keeps the draft in storage when a write fails, and retries on the next change", async () => {
    const { deps, advance } = fakeTimers();
    let fail = true;
    const writes: string[] = [];
    const s = new ThrottledSaver(
      async (t) => {
        if (fail) throw new Error("disk full");
        writes.push(t);
      },
      null,
      2000,
      deps,
      "draft",
    );
    s.update("keep me");
    await s.flush();
    expect(deps.storage!.getItem("draft")).toBe("keep me");
    fail = false;
    await advance(2000);
    s.update("keep me!");
    await s.flush();
    expect(writes).toEqual(["keep me!"]);
    expect(deps.storage!.getItem("draft")).toBeNull();
  });
});
