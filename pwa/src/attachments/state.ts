// The life of one queued attachment, as pure functions (no IndexedDB, no network), so the
// rules are tested on their own:
//
//   queued ──upload──> uploading ──server stored it──> stored ──event written──> done
//     ^                   │  \
//     │   retryable error │   \ refused by the server (too large, wrong type, not your session)
//     └──── failed <──────┘    └──> refused   (kept, shown, retried only when the user asks)
//
// `stored` sits between the upload and the event on purpose: the `attachment_added` event is
// written only once the server has the file, so no export ever points at a missing file, and
// a crash between the two re-writes the event without uploading again.

export type Status = "queued" | "uploading" | "stored" | "failed" | "refused" | "done";

/** What the server answered for a stored attachment: the `attachment_added` event's body. */
export interface StoredAttachment {
  attachment_id: string;
  node_id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  caption?: string | null;
  uploaded_at?: string;
  event: {
    type: "attachment_added";
    node_id: string;
    attachment_id: string;
    name: string;
    content_type: string;
    size: number;
    sha256: string;
    caption?: string;
  };
}

export interface QueueItem {
  attachment_id: string;
  session_id: string;
  node_id: string;
  name: string;
  type: string; // the type the device saw; the server reads the real one from the bytes
  size: number;
  sha256: string;
  caption: string | null;
  created_at: number; // when the engineer added it (ms): the event's `ts`
  status: Status;
  attempts: number;
  next_attempt_at: number; // ms; 0 = now
  last_error: string | null;
  stored: StoredAttachment | null;
  updated_at: number;
  /** Who is uploading it (a random token per attempt): every tab of the origin works on the
   * same queue, and an outcome is written only by the attempt that still holds the item. */
  claim?: string | null;
}

/** How an attempt ended. `retryable` errors are network trouble, 5xx, an expired sign-in. */
export type Outcome =
  | { kind: "stored"; stored: StoredAttachment }
  | { kind: "retryable"; error: string }
  | { kind: "refused"; error: string }
  | { kind: "event_written" }
  | { kind: "event_failed"; error: string };

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  jitter: number; // 0..1, a fraction of the delay added at random
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 5 * 60_000, jitter: 0.2 };

/** The wait before attempt number `attempts + 1`: doubling from baseMs, capped at maxMs. */
export function retryDelay(attempts: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(1, attempts);
  const plain = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(n - 1, 30));
  return Math.round(plain * (1 + opts.jitter * random()));
}

/** Whether `item` should be attempted now (uploaded, or its event written). */
export function isDue(item: QueueItem, now: number): boolean {
  if (item.status === "queued" || item.status === "stored") return item.next_attempt_at <= now;
  if (item.status === "failed") return item.next_attempt_at <= now;
  return false;
}

/** Whether the engineer still has something to wait for (or to act on) with this item. */
export function isOpen(item: QueueItem): boolean {
  return item.status !== "done";
}

export function startUpload(item: QueueItem, now: number, claim: string | null = null): QueueItem {
  if (item.status !== "queued" && item.status !== "failed") throw new Error(`cannot upload a ${item.status} item`);
  return { ...item, status: "uploading", updated_at: now, claim };
}

/** Whether `current` (as stored now) is still the item a tab read as `seen`: the same status,
 * attempt count, time and claim. Anything else means another tab moved it on meanwhile. */
export function unchanged(current: QueueItem | undefined, seen: QueueItem): boolean {
  return !!current && current.status === seen.status && current.attempts === seen.attempts
    && current.updated_at === seen.updated_at && (current.claim ?? null) === (seen.claim ?? null);
}

/** The item after an attempt ended with `outcome`. */
export function applyOutcome(item: QueueItem, outcome: Outcome, now: number, opts: BackoffOptions = DEFAULT_BACKOFF,
                             random: () => number = Math.random): QueueItem {
  switch (outcome.kind) {
    case "stored":
      return { ...item, status: "stored", stored: outcome.stored, last_error: null, next_attempt_at: 0, updated_at: now };
    case "retryable": {
      const attempts = item.attempts + 1;
      return { ...item, status: "failed", attempts, last_error: outcome.error,
               next_attempt_at: now + retryDelay(attempts, opts, random), updated_at: now };
    }
    case "refused":
      return { ...item, status: "refused", attempts: item.attempts + 1, last_error: outcome.error, updated_at: now };
    case "event_written":
      if (item.status !== "stored") throw new Error("the event is written only after the file is stored");
      return { ...item, status: "done", last_error: null, updated_at: now };
    case "event_failed": {
      const attempts = item.attempts + 1;
      // Stays `stored`: the file is safe on the server; only the event is retried.
      return { ...item, status: "stored", attempts, last_error: outcome.error,
               next_attempt_at: now + retryDelay(attempts, opts, random), updated_at: now };
    }
  }
}

/** After a reload: an upload cut off mid-way is simply queued again (uploads are idempotent). */
export function recover(item: QueueItem): QueueItem {
  return item.status === "uploading" ? { ...item, status: "queued", next_attempt_at: 0, claim: null } : item;
}

/** The engineer asked to try again now (a refused item after an admin raised a limit, or impatience). */
export function retryNow(item: QueueItem, now: number): QueueItem {
  if (item.status === "done" || item.status === "uploading") return item;
  const status = item.stored ? "stored" : "queued";
  return { ...item, status, next_attempt_at: 0, updated_at: now };
}

export interface Summary {
  waiting: number; // queued or failed, to be uploaded
  uploading: number;
  refused: number; // needs the engineer's attention
  done: number;
  lastError: string | null;
}

export function summarize(items: QueueItem[]): Summary {
  const s: Summary = { waiting: 0, uploading: 0, refused: 0, done: 0, lastError: null };
  for (const item of items) {
    if (item.status === "queued" || item.status === "failed" || item.status === "stored") s.waiting++;
    else if (item.status === "uploading") s.uploading++;
    else if (item.status === "refused") s.refused++;
    else s.done++;
    if (item.last_error && item.status !== "done") s.lastError = item.last_error;
  }
  return s;
}
