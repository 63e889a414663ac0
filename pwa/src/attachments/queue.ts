// The device's attachment queue: files added at a step are kept in IndexedDB (bytes and
// all) until the server has them, then their `attachment_added` event is written into the
// local PouchDB through a callback, never before. Works the same offline: the file waits
// in the queue, the step shows it, and it uploads when the network returns.
//
// The bytes are stored as an ArrayBuffer (plus the type), not a Blob: every browser
// stores ArrayBuffers in IndexedDB, while Blobs there failed on older iOS Safari.

import { ulid } from "../shared/ulid";
import {
  DEFAULT_BACKOFF,
  applyOutcome,
  isDue,
  recover,
  retryNow,
  startUpload,
  summarize,
  unchanged,
  type BackoffOptions,
  type Outcome,
  type QueueItem,
  type StoredAttachment,
  type Summary,
} from "./state";

const ITEMS = "items";
const BYTES = "bytes";

/** Uploads one item's bytes; answers what the server stored, or throws an UploadError. */
export type UploadFn = (item: QueueItem, data: Blob) => Promise<StoredAttachment>;
/** Writes the `attachment_added` event into the local PouchDB (idempotent by its _id). */
export type WriteEventFn = (item: QueueItem, stored: StoredAttachment) => Promise<void>;

/** An upload that failed: `retryable` for network trouble and 5xx, false for a refusal. */
export class UploadError extends Error {
  constructor(message: string, public retryable: boolean, public status = 0) {
    super(message);
  }
}

export interface AddAttachment {
  sessionId: string;
  nodeId: string;
  file: Blob;
  name?: string;
  caption?: string | null;
}

export interface QueueOptions {
  dbName?: string;
  indexedDB?: IDBFactory;
  now?: () => number;
  isOnline?: () => boolean;
  backoff?: BackoffOptions;
  random?: () => number;
}

function req<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
  });
}

/** SHA-256 of the bytes as 64 hex digits (WebCrypto: needs HTTPS or localhost). */
export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A name for a pasted screenshot, which has none: "Screenshot 2026-11-26 01-02-03.png". */
export function defaultName(type: string, now: number): string {
  const ext = { "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
                "application/pdf": ".pdf", "text/plain": ".txt" }[type] ?? "";
  const stamp = new Date(now).toISOString().slice(0, 19).replace("T", " ").replace(/:/g, "-");
  return `${type.startsWith("image/") ? "Screenshot" : "Attachment"} ${stamp}${ext}`;
}

export class AttachmentQueue {
  private db: Promise<IDBDatabase>;
  private listeners = new Set<(items: QueueItem[], summary: Summary) => void>();
  private running: Promise<void> | null = null;
  private emits = 0;
  private now: () => number;
  private isOnline: () => boolean;
  private backoff: BackoffOptions;
  private random: () => number;

  constructor(opts: QueueOptions = {}) {
    const factory = opts.indexedDB ?? globalThis.indexedDB;
    this.now = opts.now ?? Date.now;
    this.isOnline = opts.isOnline ?? (() => (typeof navigator === "undefined" ? true : navigator.onLine !== false));
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.random = opts.random ?? Math.random;
    this.db = new Promise<IDBDatabase>((resolve, reject) => {
      const open = factory.open(opts.dbName ?? "branchline-attachments", 1);
      open.onupgradeneeded = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains(ITEMS)) db.createObjectStore(ITEMS, { keyPath: "attachment_id" });
        if (!db.objectStoreNames.contains(BYTES)) db.createObjectStore(BYTES);
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    }).then(async (db) => {
      // Uploads cut off by a reload or a crash are queued again (the server is idempotent).
      const tx = db.transaction(ITEMS, "readwrite");
      const store = tx.objectStore(ITEMS);
      for (const item of (await req(store.getAll())) as QueueItem[]) {
        if (item.status === "uploading") store.put(recover(item));
      }
      await done(tx);
      return db;
    });
  }

  /** Every item (without bytes), oldest first. */
  async list(): Promise<QueueItem[]> {
    const db = await this.db;
    const items = (await req(db.transaction(ITEMS).objectStore(ITEMS).getAll())) as QueueItem[];
    return items.sort((a, b) => a.created_at - b.created_at || (a.attachment_id < b.attachment_id ? -1 : 1));
  }

  /** The items of one step, to show under its card (pending ones with a local preview). */
  async forNode(sessionId: string, nodeId: string): Promise<QueueItem[]> {
    return (await this.list()).filter((i) => i.session_id === sessionId && i.node_id === nodeId);
  }

  /** The queued bytes of an item, as a Blob (for a preview while it waits), or null once uploaded. */
  async blob(attachmentId: string): Promise<Blob | null> {
    const db = await this.db;
    const tx = db.transaction([ITEMS, BYTES]);
    const item = (await req(tx.objectStore(ITEMS).get(attachmentId))) as QueueItem | undefined;
    const data = (await req(tx.objectStore(BYTES).get(attachmentId))) as ArrayBuffer | undefined;
    return item && data ? new Blob([data], { type: item.type }) : null;
  }

  /** Called with every item and a summary after each change (and once right away). */
  subscribe(listener: (items: QueueItem[], summary: Summary) => void): () => void {
    this.listeners.add(listener);
    void this.list().then((items) => this.listeners.has(listener) && listener(items, summarize(items)));
    return () => this.listeners.delete(listener);
  }

  private async emit(): Promise<void> {
    if (!this.listeners.size) return;
    // Reads may finish out of order; only the newest one tells the current state.
    const n = ++this.emits;
    const items = await this.list();
    if (n !== this.emits) return;
    const summary = summarize(items);
    for (const l of [...this.listeners]) l(items, summary);
  }

  private async put(item: QueueItem, data?: ArrayBuffer | null): Promise<void> {
    const db = await this.db;
    const tx = db.transaction([ITEMS, BYTES], "readwrite");
    tx.objectStore(ITEMS).put(item);
    if (data) tx.objectStore(BYTES).put(data, item.attachment_id);
    if (data === null) tx.objectStore(BYTES).delete(item.attachment_id);
    await done(tx);
    await this.emit();
  }

  private async get(attachmentId: string): Promise<QueueItem | undefined> {
    const db = await this.db;
    return (await req(db.transaction(ITEMS).objectStore(ITEMS).get(attachmentId))) as QueueItem | undefined;
  }

  /** Keep a file for a step: stored locally first (so it survives offline and reloads). */
  async add(input: AddAttachment): Promise<QueueItem> {
    const data = await input.file.arrayBuffer();
    const now = this.now();
    const type = input.file.type || "application/octet-stream";
    const fileName = (input.file as File).name;
    const item: QueueItem = {
      attachment_id: ulid(now),
      session_id: input.sessionId,
      node_id: input.nodeId,
      name: input.name || fileName || defaultName(type, now),
      type,
      size: data.byteLength,
      sha256: await sha256Hex(data),
      caption: input.caption ?? null,
      created_at: now,
      status: "queued",
      attempts: 0,
      next_attempt_at: 0,
      last_error: null,
      stored: null,
      updated_at: now,
    };
    await this.put(item, data);
    return item;
  }

  /** Upload what is due (when online), then write each stored file's event. One run at a time. */
  processQueue(upload: UploadFn, writeEvent: WriteEventFn): Promise<void> {
    if (!this.running) {
      this.running = this.run(upload, writeEvent).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  /** Write `next` in place of `seen` only if no other tab changed the item since it was read
   * (one readwrite transaction: two tabs cannot both win). With `bytes`, the item's stored
   * bytes are read in the same transaction. Answers whether it was written, and the bytes. */
  private async swap(seen: QueueItem, next: (bytes: ArrayBuffer | undefined) => QueueItem,
                     opts: { bytes?: boolean; data?: null } = {}): Promise<{ ok: boolean; bytes?: ArrayBuffer }> {
    const db = await this.db;
    const tx = db.transaction([ITEMS, BYTES], "readwrite");
    const items = tx.objectStore(ITEMS);
    const current = (await req(items.get(seen.attachment_id))) as QueueItem | undefined;
    let ok = false;
    let bytes: ArrayBuffer | undefined;
    if (unchanged(current, seen)) {
      if (opts.bytes) bytes = (await req(tx.objectStore(BYTES).get(seen.attachment_id))) as ArrayBuffer | undefined;
      items.put(next(bytes));
      if (opts.data === null) tx.objectStore(BYTES).delete(seen.attachment_id);
      ok = true;
    }
    await done(tx);
    if (ok) await this.emit();
    return { ok, bytes };
  }

  private async run(upload: UploadFn, writeEvent: WriteEventFn): Promise<void> {
    for (const candidate of await this.list()) {
      if (!isDue(candidate, this.now())) continue;
      let item = candidate;
      if (item.status === "queued" || item.status === "failed") {
        if (!this.isOnline()) continue; // offline: wait without spending an attempt
        // Claim it first: another tab of the origin runs this same queue, and may have
        // uploaded it (and freed its bytes) since the list above was read.
        const claimed = startUpload(item, this.now(), ulid(this.now()));
        const missing = applyOutcome(item, { kind: "refused", error: "The file's local copy is missing." }, this.now());
        const { ok, bytes } = await this.swap(item, (b) => (b ? claimed : missing), { bytes: true });
        if (!ok || !bytes) continue;
        item = claimed;
        let outcome: Outcome;
        try {
          outcome = { kind: "stored", stored: await upload(item, new Blob([bytes], { type: item.type })) };
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          const retryable = !(e instanceof UploadError) || e.retryable;
          outcome = retryable ? { kind: "retryable", error: message } : { kind: "refused", error: message };
        }
        const next = { ...applyOutcome(item, outcome, this.now(), this.backoff, this.random), claim: null };
        // A tab that opened meanwhile re-queued the upload it thought was cut off: its own
        // attempt decides now (uploads are idempotent, so nothing is lost either way).
        if (!(await this.swap(item, () => next)).ok) continue;
        item = next;
        if (item.status !== "stored") continue;
      }
      // The file is on the server: only now may its event exist.
      try {
        await writeEvent(item, item.stored as StoredAttachment);
        const written = applyOutcome(item, { kind: "event_written" }, this.now());
        await this.swap(item, () => written, { data: null }); // the server has the bytes; free the device's copy
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const failed = applyOutcome(item, { kind: "event_failed", error: message }, this.now(), this.backoff, this.random);
        await this.swap(item, () => failed);
      }
    }
  }

  /** The engineer asked to retry an item now (e.g. a refused one after an admin raised a limit). */
  async retry(attachmentId: string): Promise<void> {
    const item = await this.get(attachmentId);
    if (item) await this.put(retryNow(item, this.now()));
  }

  /** Drop a refused item: only when the engineer explicitly chooses to (it is never dropped otherwise). */
  async discard(attachmentId: string): Promise<void> {
    const item = await this.get(attachmentId);
    if (!item || item.status !== "refused") return;
    const db = await this.db;
    const tx = db.transaction([ITEMS, BYTES], "readwrite");
    tx.objectStore(ITEMS).delete(attachmentId);
    tx.objectStore(BYTES).delete(attachmentId);
    await done(tx);
    await this.emit();
  }

  /** Forget finished items older than `ageMs` (their events are in PouchDB, their files on the server). */
  async prune(ageMs: number): Promise<number> {
    const cutoff = this.now() - ageMs;
    const old = (await this.list()).filter((i) => i.status === "done" && i.updated_at < cutoff);
    if (!old.length) return 0;
    const db = await this.db;
    const tx = db.transaction([ITEMS, BYTES], "readwrite");
    for (const i of old) tx.objectStore(ITEMS).delete(i.attachment_id);
    await done(tx);
    await this.emit();
    return old.length;
  }

  /** When the next failed item is due again (ms), or null: for the auto-uploader's timer. */
  async nextDue(): Promise<number | null> {
    const times = (await this.list())
      .filter((i) => i.status === "failed" || i.status === "stored" || i.status === "queued")
      .map((i) => i.next_attempt_at);
    return times.length ? Math.min(...times) : null;
  }

  async close(): Promise<void> {
    (await this.db).close();
  }
}

/** Queue a file and try to upload it right away (the queue keeps it if that fails). */
export async function addAttachment(queue: AttachmentQueue, input: AddAttachment, upload: UploadFn,
                                    writeEvent: WriteEventFn): Promise<QueueItem> {
  const item = await queue.add(input);
  void queue.processQueue(upload, writeEvent);
  return item;
}

/** The `attachment_added` event document for the local PouchDB, with a deterministic _id. */
export function attachmentEventDoc(item: QueueItem, stored: StoredAttachment, who: { userId: string; deviceId: string }) {
  return {
    _id: `session:${item.session_id}:ev:${item.attachment_id}`,
    schema_version: 1,
    session_id: item.session_id,
    ts: item.created_at,
    device_id: who.deviceId,
    user_id: who.userId,
    ...stored.event,
  };
}
