// The data layer over real PouchDB (pouchdb-browser with the memory adapter for IndexedDB): sessions are
// written as DOCUMENTS.md says, folded like the server folds them, and counted as pending
// until a replica has them.
import "./testing/browserGlobals";
import PouchDB from "pouchdb-browser";
// @ts-expect-error: the adapter ships no types
import memoryAdapter from "pouchdb-adapter-memory";
import { beforeEach, describe, expect, it } from "vitest";
import { Auth, type Account } from "./auth";
import { LocalData, localName } from "./local";
import { addEvent, editHeader, foldBundle, listHeaders, loadBundle, sessionSent, startSession, unsentOf } from "./sessions";
import { MemoryStorage } from "./memoryStorage";

const tree = {
  _id: "tree:t",
  type: "tree",
  schema_version: 1,
  title: "Tiny",
  start: "q",
  nodes: {
    q: { type: "question", title: "Is it plugged in?", next: { yes: "fixed", no: "plug" }, log: { yes: "It was plugged in.", no: "It was unplugged." } },
    plug: { type: "action", title: "Plug it in", next: "fixed", log: { done: "Plugged it in.", failed: "Could not plug it in.", skipped: "Skipped plugging." } },
    fixed: { type: "resolution", outcome: "resolved", title: "Works", summary: "Works again." },
  },
};

PouchDB.plugin(memoryAdapter);

let n = 0;
function makeLocal(): LocalData {
  n += 1;
  const account: Account = {
    user: { id: `u${n}`, email: "e@example.com", display_name: "Emma", role: "engineer" },
    tenant: { id: `t${n}`, name: "Demo" },
    role: "engineer",
    sync: { root: "http://127.0.0.1:9/sync/t/", databases: { trees: "http://127.0.0.1:9/t", sessions: "http://127.0.0.1:9/s", clients: "http://127.0.0.1:9/c" } },
  };
  const storage = new MemoryStorage();
  const auth = new Auth({ fetch: fetch, storage, now: () => Date.now(), base: "http://127.0.0.1:9" });
  return new LocalData(account, auth, { storage, now: () => Date.now(), online: () => true, localOptions: { adapter: "memory" } });
}

describe("sessions on the device", () => {
  let local: LocalData;
  beforeEach(async () => {
    local = makeLocal();
    await local.db.trees.put({ _id: "treever:t:1", type: "tree_version", tree_id: "tree:t", version: 1, tree });
  });

  it("names the local databases per tenant and user", () => {
    expect(local.db.sessions.name).toBe(localName(local.account.tenant.id, local.account.user.id, "sessions"));
    expect(localName("t1", "u1", "trees")).toBe("bl_t1_u1_trees");
  });

  it("writes a header and events in the documented shape and folds them", async () => {
    const sid = await startSession(local, "dev-a", 1000, { treeId: "tree:t", version: 1, ticket: " T-1 ", clientId: null, title: "" });
    expect(sid).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    await addEvent(local, "dev-a", 2000, sid, "note", { node_id: "q", note_id: "n1", text: "first" });
    await addEvent(local, "dev-a", 3000, sid, "answered", { node_id: "q", answer: "no" });
    await addEvent(local, "dev-a", 4000, sid, "note", { node_id: "q", note_id: "n1", text: "replaced" });
    const ev = await addEvent(local, "dev-a", 5000, sid, "answered", { node_id: "plug", answer: "done" });
    expect(ev._id.startsWith(`session:${sid}:ev:`)).toBe(true);
    expect(ev).toMatchObject({ type: "answered", session_id: sid, ts: 5000, device_id: "dev-a", user_id: local.account.user.id });

    const bundle = await loadBundle(local, sid);
    expect(bundle.header).toMatchObject({ type: "session", schema_version: 1, tree_id: "tree:t", tree_version: 1, ticket: "T-1", owner_id: local.account.user.id, status: "in_progress", created_at: 1000 });
    expect(bundle.events).toHaveLength(4);
    const state = foldBundle(bundle);
    expect(state.current_node).toBe("fixed");
    expect(state.path.map((s) => s.log)).toEqual(["It was unplugged.", "Plugged it in."]);
    expect(state.notes.q.map((x) => x.text)).toEqual(["replaced"]);
    expect(state.resolution?.outcome).toBe("resolved");
  });

  it("lists headers only, newest first, and edits header fields with their edit times", async () => {
    const a = await startSession(local, "d", 1000, { treeId: "tree:t", version: 1, ticket: "", clientId: null, title: "A" });
    const b = await startSession(local, "d", 2000, { treeId: "tree:t", version: 1, ticket: "", clientId: null, title: "B" });
    await addEvent(local, "d", 2500, a, "back", {});
    await editHeader(local, 3000, a, { status: "completed" });
    const headers = await listHeaders(local);
    expect(headers.map((h) => h._id)).toEqual([`session:${b}`, `session:${a}`]);
    expect(headers[1]).toMatchObject({ status: "completed", updated_at: 3000 });
    expect(headers[1].edited.status).toBe(3000);
  });

  it("marks only the fields a save really changes (issue 14)", async () => {
    const sid = await startSession(local, "d", 1000, { treeId: "tree:t", version: 1, ticket: "T-1", clientId: null, title: "Printer" });
    await editHeader(local, 2000, sid, { ticket: "T-1", title: "PRN-02 offline" });
    const { header } = await loadBundle(local, sid);
    expect(header).toMatchObject({ ticket: "T-1", title: "PRN-02 offline", updated_at: 2000 });
    expect(header.edited).toMatchObject({ ticket: 1000, title: 2000 });
    expect(header.edited_values).toMatchObject({ ticket: { at: 1000, value: "T-1" }, title: { at: 2000, value: "PRN-02 offline" } });
    const rev = header._rev;
    await editHeader(local, 3000, sid, { ticket: "T-1", title: "PRN-02 offline" });
    expect((await loadBundle(local, sid)).header._rev).toBe(rev); // nothing changed: no new revision
  });

  it("counts every write as pending until a replica has it", async () => {
    const sid = await startSession(local, "d", 1000, { treeId: "tree:t", version: 1, ticket: "", clientId: null, title: "" });
    await addEvent(local, "d", 2000, sid, "answered", { node_id: "q", answer: "yes" });
    expect(local.status.get().pending).toBe(2);
    const replica = new PouchDB(`replica-${n}`, { adapter: "memory" });
    const diff = (d: Record<string, string[]>) => replica.revsDiff(d);
    expect(await local.pending.sessions.confirm(diff)).toBe(2);
    await PouchDB.replicate(local.db.sessions, replica);
    expect(await local.pending.sessions.confirm(diff)).toBe(0);
    expect(local.status.get().pending).toBe(0);
  });

  it("waits, within its time, for one session's changes to reach the server (a run or a PSA push checks them there)", async () => {
    const replica = new PouchDB(`replica-${n}`, { adapter: "memory" });
    local.remote.sessions = replica; // confirm() asks the "server" which writes it has
    const other = await startSession(local, "d", 500, { treeId: "tree:t", version: 1, ticket: "", clientId: null, title: "" });
    const sid = await startSession(local, "d", 1000, { treeId: "tree:t", version: 1, ticket: "", clientId: null, title: "" });
    await addEvent(local, "d", 2000, sid, "answered", { node_id: "q", answer: "yes" });
    expect(unsentOf(local, sid)).toHaveLength(2);
    expect(unsentOf(local, other)).toHaveLength(1);

    // Not on the server within the time: false, and the screen was told it waits.
    let waited = 0;
    expect(await sessionSent(local, sid, 100, () => (waited += 1))).toBe(false);
    expect(waited).toBe(1);

    // The replication delivers them while it waits: true, as soon as the server has them.
    const ids = unsentOf(local, sid);
    setTimeout(() => void PouchDB.replicate(local.db.sessions, replica, { doc_ids: ids }), 200);
    expect(await sessionSent(local, sid, 5000)).toBe(true);
    expect(unsentOf(local, sid)).toEqual([]);

    // Another session's unsent header is no reason to wait.
    waited = 0;
    expect(await sessionSent(local, sid, 5000, () => (waited += 1))).toBe(true);
    expect(waited).toBe(0);
    expect(unsentOf(local, other)).toHaveLength(1);
  });

  // One session's header not on the server yet; the server's answers as each case has them.
  const waitingOn = (confirm: () => Promise<number>) =>
    ({ pending: { sessions: { ids: ["session:S"] } }, confirm }) as unknown as Pick<LocalData, "pending" | "confirm">;

  it("gives up at its time even when the server never answers the check (one bar of signal, stalled)", async () => {
    const start = Date.now();
    expect(await sessionSent(waitingOn(() => new Promise(() => {})), "S", 300)).toBe(false);
    expect(Date.now() - start).toBeLessThan(3000);
  });

  it("is called off at once by its signal (Cancel, or the screen closed)", async () => {
    const ctl = new AbortController();
    const start = Date.now();
    setTimeout(() => ctl.abort(), 100);
    expect(await sessionSent(waitingOn(async () => 1), "S", 30_000, undefined, ctl.signal)).toBe(false);
    expect(Date.now() - start).toBeLessThan(3000);
  });
});
