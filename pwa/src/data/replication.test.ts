import { describe, expect, it } from "vitest";
import { quietInfo } from "./replication";

function server() {
  let asked = 0;
  let seq = 0;
  let failing = false;
  const db = {
    info: async () => {
      asked += 1;
      if (failing) throw new Error("offline");
      return { doc_count: seq, update_seq: seq, db_name: "sessions" };
    },
  };
  return { db, asked: () => asked, write: () => void (seq += 1), fail: (on: boolean) => void (failing = on) };
}

describe("quietInfo", () => {
  it("asks the server once per minute however many batches ask", async () => {
    const s = server();
    let now = 0;
    const db = quietInfo(s.db, () => now);
    for (let i = 0; i < 50; i++) {
      s.write();
      await db.info();
      now += 1000;
    }
    expect(s.asked()).toBe(1);
    now = 60000;
    expect((await db.info()).update_seq).toBe(50);
    expect(s.asked()).toBe(2);
  });

  it("never keeps a failed answer: the next batch asks again", async () => {
    const s = server();
    const db = quietInfo(s.db, () => 0);
    s.fail(true);
    await expect(db.info()).rejects.toThrow("offline");
    s.fail(false);
    expect((await db.info()).db_name).toBe("sessions");
    expect(s.asked()).toBe(2);
  });
});
