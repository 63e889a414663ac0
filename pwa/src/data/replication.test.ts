import { describe, expect, it } from "vitest";
import { quietInfo, strictId } from "./replication";

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

describe("strictId", () => {
  it("keeps the name PouchDB gives from the server's uuid", async () => {
    const db = strictId({ id: async () => "5f0c2e9a41d8b7c6a3e2f1d0c9b8a7e6sessions" });
    expect(await db.id()).toBe("5f0c2e9a41d8b7c6a3e2f1d0c9b8a7e6sessions");
  });

  it("refuses the address PouchDB falls back to when the welcome failed, so the replication retries", async () => {
    const db = strictId({ id: async () => "https://msp.example/sync/acme/sessions/" });
    await expect(db.id()).rejects.toThrow("trying again shortly");
  });
});
