import { IDBFactory } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { AttachmentQueue, UploadError, addAttachment, attachmentEventDoc, sha256Hex, type WriteEventFn } from "./queue";
import type { QueueItem, StoredAttachment } from "./state";
import { createUploader } from "./upload";

const SID = "01JD3Z8Q6V9R1W0K2M4N5P7S8A";

function storedFor(item: QueueItem): StoredAttachment {
  const event = { type: "attachment_added" as const, node_id: item.node_id, attachment_id: item.attachment_id,
                  name: item.name, content_type: item.type, size: item.size, sha256: item.sha256 };
  return { ...event, event };
}

function setup(opts: { online?: () => boolean; now?: () => number } = {}) {
  const factory = new IDBFactory();
  let clock = 1_000_000;
  const now = opts.now ?? (() => clock);
  const make = () => new AttachmentQueue({ indexedDB: factory, now, isOnline: opts.online, random: () => 0 });
  return { factory, make, queue: make(), tick: (ms: number) => (clock += ms) };
}

const png = () => new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])], { type: "image/png" });

describe("AttachmentQueue", () => {
  it("keeps the file with its sha256 and a ULID, and writes the event only after the upload", async () => {
    const { queue } = setup();
    const item = await queue.add({ sessionId: SID, nodeId: "scope", file: png() });
    expect(item.attachment_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(item.sha256).toBe(await sha256Hex(await png().arrayBuffer()));
    expect(item.name).toMatch(/^Screenshot \d{4}-\d\d-\d\d \d\d-\d\d-\d\d\.png$/);
    expect((await queue.blob(item.attachment_id))?.size).toBe(7);

    const order: string[] = [];
    await queue.processQueue(async (it, data) => {
      order.push(`upload ${data.size}`);
      expect((await queue.list())[0].status).toBe("uploading");
      return storedFor(it);
    }, async (it, stored) => {
      order.push("event");
      expect(stored.sha256).toBe(it.sha256);
      expect((await queue.list())[0].status).toBe("stored"); // the file is on the server first
    });
    expect(order).toEqual(["upload 7", "event"]);
    const [done] = await queue.list();
    expect(done.status).toBe("done");
    expect(await queue.blob(done.attachment_id)).toBeNull(); // bytes freed once the server has them
  });

  it("waits while offline without spending attempts, then uploads when online", async () => {
    let online = false;
    const { queue } = setup({ online: () => online });
    await queue.add({ sessionId: SID, nodeId: "scope", file: png(), name: "a.png" });
    let uploads = 0;
    const upload = async (it: QueueItem) => (uploads++, storedFor(it));
    const events: string[] = [];
    const write: WriteEventFn = async (it) => void events.push(it.attachment_id);
    await queue.processQueue(upload, write);
    expect(uploads).toBe(0);
    expect((await queue.list())[0]).toMatchObject({ status: "queued", attempts: 0 });
    online = true;
    await queue.processQueue(upload, write);
    expect(uploads).toBe(1);
    expect(events).toHaveLength(1);
  });

  it("retries a failed upload with backoff and shows why; never loses it", async () => {
    const { queue, tick } = setup();
    await queue.add({ sessionId: SID, nodeId: "scope", file: png() });
    const seen: string[] = [];
    queue.subscribe((items, summary) => seen.push(`${items[0]?.status}:${summary.lastError ?? ""}`));
    let fail = true;
    const upload = async (it: QueueItem) => {
      if (fail) throw new UploadError("The server cannot be reached.", true);
      return storedFor(it);
    };
    const write = async () => undefined;
    await queue.processQueue(upload, write);
    let [item] = await queue.list();
    expect(item).toMatchObject({ status: "failed", attempts: 1, last_error: "The server cannot be reached." });
    expect(item.next_attempt_at).toBe(1_000_000 + 2000);
    await queue.processQueue(upload, write); // not due yet
    expect((await queue.list())[0].attempts).toBe(1);
    tick(2000);
    fail = false;
    await queue.processQueue(upload, write);
    [item] = await queue.list();
    expect(item.status).toBe("done");
    expect(seen).toContain("failed:The server cannot be reached.");
  });

  it("keeps a refused file for the engineer to see, and retries it only when asked", async () => {
    const { queue } = setup();
    const added = await queue.add({ sessionId: SID, nodeId: "scope", file: png() });
    let refuse = true;
    const upload = async (it: QueueItem) => {
      if (refuse) throw new UploadError("The file is 9 MB; this team's limit is 5 MB.", false, 413);
      return storedFor(it);
    };
    await queue.processQueue(upload, async () => undefined);
    await queue.processQueue(upload, async () => undefined);
    expect((await queue.list())[0]).toMatchObject({ status: "refused", attempts: 1 });
    expect(await queue.blob(added.attachment_id)).not.toBeNull();
    refuse = false;
    await queue.retry(added.attachment_id);
    await queue.processQueue(upload, async () => undefined);
    expect((await queue.list())[0].status).toBe("done");
  });

  it("re-writes only the event when writing it failed, without uploading again", async () => {
    const { queue, tick } = setup();
    await queue.add({ sessionId: SID, nodeId: "scope", file: png() });
    let uploads = 0;
    let writes = 0;
    const upload = async (it: QueueItem) => (uploads++, storedFor(it));
    const write = async () => {
      writes++;
      if (writes === 1) throw new Error("PouchDB is busy");
    };
    await queue.processQueue(upload, write);
    expect((await queue.list())[0]).toMatchObject({ status: "stored", last_error: "PouchDB is busy" });
    tick(60_000);
    await queue.processQueue(upload, write);
    expect([uploads, writes, (await queue.list())[0].status]).toEqual([1, 2, "done"]);
  });

  it("survives a reload in the middle of an upload", async () => {
    const { make, queue } = setup();
    await queue.add({ sessionId: SID, nodeId: "scope", file: png() });
    let release: () => void = () => undefined;
    const hanging = queue.processQueue(() => new Promise<StoredAttachment>((_, reject) => {
      release = () => reject(new Error("page closed"));
    }), async () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect((await queue.list())[0].status).toBe("uploading");
    await queue.close();
    const reopened = make(); // the next page load
    expect((await reopened.list())[0]).toMatchObject({ status: "queued" });
    await reopened.processQueue(async (it) => storedFor(it), async () => undefined);
    expect((await reopened.list())[0].status).toBe("done");
    release();
    await hanging.catch(() => undefined);
  });

  it("two tabs running the same queue upload a file once", async () => {
    const { make, queue: tabA } = setup();
    const tabB = make(); // every tab of the origin opens the same IndexedDB queue
    await tabA.add({ sessionId: SID, nodeId: "scope", file: png() });
    let uploads = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const upload = async (it: QueueItem) => {
      uploads++;
      await gate;
      return storedFor(it);
    };
    const events: string[] = [];
    const write: WriteEventFn = async (it) => void events.push(it.attachment_id);
    const runs = [tabA.processQueue(upload, write), tabB.processQueue(upload, write)];
    await new Promise((r) => setTimeout(r, 20));
    release();
    await Promise.all(runs);
    expect(uploads).toBe(1);
    expect(events).toHaveLength(1);
    expect((await tabB.list()).map((i) => i.status)).toEqual(["done"]);
  });

  it("a tab working from an old list never marks another tab's finished file as missing", async () => {
    const { make, queue: tabA, tick } = setup();
    const tabB = make();
    const first = await tabA.add({ sessionId: SID, nodeId: "scope", file: png(), name: "first.png" });
    tick(1);
    await tabA.add({ sessionId: SID, nodeId: "scope", file: png(), name: "second.png" });
    // Tab B lists both files, then spends a while on the first one...
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slowB = tabB.processQueue(async (it) => {
      if (it.attachment_id === first.attachment_id) await gate;
      return storedFor(it);
    }, async () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    // ...while tab A uploads the second one and frees its bytes.
    await tabA.processQueue(async (it) => storedFor(it), async () => undefined);
    expect((await tabA.list()).map((i) => [i.name, i.status])).toEqual([["first.png", "uploading"], ["second.png", "done"]]);
    release();
    await slowB;
    const items = await tabA.list();
    expect(items.map((i) => [i.name, i.status, i.last_error])).toEqual([["first.png", "done", null], ["second.png", "done", null]]);
  });

  it("addAttachment queues and tries at once; the event document has a deterministic id", async () => {
    const { queue } = setup();
    const docs: unknown[] = [];
    const item = await addAttachment(queue, { sessionId: SID, nodeId: "scope", file: png(), caption: "Studio" },
      async (it) => storedFor(it),
      async (it, stored) => void docs.push(attachmentEventDoc(it, stored, { userId: "u1", deviceId: "dev-1" })));
    await queue.processQueue(async (it) => storedFor(it), async () => undefined);
    expect(docs).toEqual([{
      _id: `session:${SID}:ev:${item.attachment_id}`, schema_version: 1, session_id: SID, ts: item.created_at,
      device_id: "dev-1", user_id: "u1", type: "attachment_added", node_id: "scope",
      attachment_id: item.attachment_id, name: item.name, content_type: "image/png", size: 7, sha256: item.sha256,
    }]);
  });
});

describe("createUploader", () => {
  const item = { attachment_id: "01JD3Z8Q6V9R1W0K2M4N5P7S8T", session_id: SID, node_id: "scope", name: "a b.png",
                 type: "image/png", size: 7, sha256: "c".repeat(64), caption: null } as QueueItem;
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status,
    headers: { "content-type": "application/json" } });

  it("falls back to the direct route when the server keeps files itself", async () => {
    const calls: string[] = [];
    const upload = createUploader({ base: "https://bl.test", apiFetch: async (url, init) => {
      calls.push(`${init?.method} ${url}`);
      if (url.endsWith("/presign")) return json(501, { error: "not_implemented", reason: "folder" });
      return json(201, storedFor(item));
    } });
    await upload(item, png());
    await upload(item, png());
    expect(calls).toEqual([
      `POST https://bl.test/api/v1/sessions/${SID}/attachments/presign`,
      `POST https://bl.test/api/v1/sessions/${SID}/attachments?name=a+b.png&node_id=scope&attachment_id=${item.attachment_id}&sha256=${"c".repeat(64)}`,
      `POST https://bl.test/api/v1/sessions/${SID}/attachments?name=a+b.png&node_id=scope&attachment_id=${item.attachment_id}&sha256=${"c".repeat(64)}`,
    ]);
  });

  it("uses presign, PUT and confirm on S3", async () => {
    const calls: string[] = [];
    const upload = createUploader({
      base: "",
      apiFetch: async (url, init) => {
        calls.push(`${init?.method} ${url}`);
        if (url.endsWith("/presign")) return json(201, { upload: { method: "PUT", url: "https://s3.test/b/k", headers: { "Content-Type": "image/png" } },
                                                          confirm_url: `/api/v1/sessions/${SID}/attachments/X/confirm` });
        return json(200, storedFor(item));
      },
      fetch: (async (url: string, init: RequestInit) => {
        calls.push(`${init.method} ${url} (no token: ${!(init.headers as Record<string, string>).Authorization})`);
        return new Response("", { status: 200 });
      }) as typeof fetch,
    });
    expect((await upload(item, png())).sha256).toBe(item.sha256);
    expect(calls).toEqual([`POST /api/v1/sessions/${SID}/attachments/presign`, "PUT https://s3.test/b/k (no token: true)",
                           `POST /api/v1/sessions/${SID}/attachments/X/confirm`]);
  });

  it("tells refusals from trouble worth retrying", async () => {
    const answer = (status: number, error = "x") => createUploader({ base: "", apiFetch: async (url) =>
      url.endsWith("/presign") ? json(501, {}) : json(status, { error, reason: `r${status}` }) });
    for (const [status, error, retryable] of [[413, "too_large", false], [415, "bad_content_type", false],
      [403, "forbidden", false], [400, "checksum_mismatch", true], [502, "bad_gateway", true], [401, "unauthorized", true]] as const) {
      const err = await answer(status, error)(item, png()).catch((e) => e);
      expect(err).toBeInstanceOf(UploadError);
      expect([err.status, err.retryable, err.message]).toEqual([status, retryable, `r${status}`]);
    }
    const offline = createUploader({ base: "", apiFetch: async () => { throw new Error("You are offline"); } });
    const err = await offline(item, png()).catch((e) => e);
    expect([err.retryable, err.message]).toEqual([true, "You are offline"]);
  });
});

describe("createUploader with storage the device cannot reach", () => {
  it("sends the bytes through the server when the pre-signed PUT fails on the network", async () => {
    const item = { attachment_id: "01JD3Z8Q6V9R1W0K2M4N5P7S8T", session_id: SID, node_id: "scope", name: "a.png",
                   type: "image/png", size: 7, sha256: "c".repeat(64), caption: null } as QueueItem;
    const calls: string[] = [];
    const upload = createUploader({
      base: "",
      apiFetch: async (url) => {
        calls.push(url.split("?")[0]);
        if (url.endsWith("/presign")) return new Response(JSON.stringify({ upload: { method: "PUT", url: "http://minio:9000/b/k",
          headers: {} }, confirm_url: "/confirm" }), { status: 201 });
        return new Response(JSON.stringify(storedFor(item)), { status: 201 });
      },
      fetch: (async () => { throw new TypeError("Failed to fetch"); }) as unknown as typeof fetch,
    });
    expect((await upload(item, png())).attachment_id).toBe(item.attachment_id);
    expect(calls).toEqual([`/api/v1/sessions/${SID}/attachments/presign`, `/api/v1/sessions/${SID}/attachments`]);
  });
});
