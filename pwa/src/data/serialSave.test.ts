import { describe, expect, it } from "vitest";
import { SerialSaver, type SerialSaverView } from "./serialSave";

/** A server whose answers the test releases one by one, in any order it likes. */
function slowServer() {
  let kept = "";
  const received: string[] = [];
  const pending: { value: string; answer: () => void; refuse: (m: string) => void }[] = [];
  const put = (value: string) =>
    new Promise<string>((resolve, reject) => {
      pending.push({
        value,
        answer: () => {
          kept = value;
          received.push(value);
          resolve(kept);
        },
        refuse: (m) => reject(new Error(m)),
      });
    });
  return { put, pending, received, kept: () => kept };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("SerialSaver", () => {
  it("sends each change only after the one before it, so the server keeps the last one shown", async () => {
    const server = slowServer();
    const views: SerialSaverView<string>[] = [];
    const s = new SerialSaver(server.put, (v) => views.push(v));
    s.loaded("none");
    const done = [s.change("run"), s.change("run+edit")];
    await tick();
    // Only the first is on its way; the screen already shows the second.
    expect(server.pending.map((p) => p.value)).toEqual(["run"]);
    expect(views.at(-1)).toEqual({ value: "run+edit", state: "saving", error: null });
    server.pending[0].answer();
    await tick();
    // The first answer does not put the screen back to "run" while "run+edit" is still to send.
    expect(views.at(-1)?.value).toBe("run+edit");
    expect(server.pending.map((p) => p.value)).toEqual(["run", "run+edit"]);
    server.pending[1].answer();
    await Promise.all(done);
    expect(server.received).toEqual(["run", "run+edit"]);
    expect(server.kept()).toBe("run+edit");
    expect(views.at(-1)).toEqual({ value: "run+edit", state: "saved", error: null });
    expect(s.saving).toBe(false);
  });

  it("puts the server's value back and says why when the last change is refused", async () => {
    const server = slowServer();
    const views: SerialSaverView<string>[] = [];
    const s = new SerialSaver(server.put, (v) => views.push(v));
    s.loaded("none");
    const done = s.change("run");
    await tick();
    server.pending[0].refuse("Only owners and admins change a tree's teams.");
    await done;
    expect(views.at(-1)).toEqual({ value: "none", state: "idle", error: "Only owners and admins change a tree's teams." });
  });

  it("shows a later save, not an earlier refusal, when the later change went through", async () => {
    const server = slowServer();
    const views: SerialSaverView<string>[] = [];
    const s = new SerialSaver(server.put, (v) => views.push(v));
    s.loaded("none");
    const done = [s.change("a"), s.change("a+b")];
    await tick();
    server.pending[0].refuse("offline");
    await tick();
    expect(views.at(-1)?.error).toBe("offline");
    expect(views.at(-1)?.state).toBe("saving");
    server.pending[1].answer();
    await Promise.all(done);
    expect(views.at(-1)).toEqual({ value: "a+b", state: "saved", error: null });
  });
});
