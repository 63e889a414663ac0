import { describe, expect, it } from "vitest";
import {
  DEFAULT_BACKOFF, applyOutcome, isDue, recover, retryDelay, retryNow, startUpload, summarize,
  type QueueItem, type StoredAttachment,
} from "./state";

const item = (over: Partial<QueueItem> = {}): QueueItem => ({
  attachment_id: "01JD3Z8Q6V9R1W0K2M4N5P7S8T", session_id: "01JD3Z8Q6V9R1W0K2M4N5P7S8A", node_id: "scope",
  name: "shot.png", type: "image/png", size: 10, sha256: "a".repeat(64), caption: null, created_at: 1000,
  status: "queued", attempts: 0, next_attempt_at: 0, last_error: null, stored: null, updated_at: 1000, ...over,
});
const stored: StoredAttachment = {
  attachment_id: "01JD3Z8Q6V9R1W0K2M4N5P7S8T", node_id: "scope", name: "shot.png", content_type: "image/png",
  size: 10, sha256: "b".repeat(64),
  event: { type: "attachment_added", node_id: "scope", attachment_id: "01JD3Z8Q6V9R1W0K2M4N5P7S8T",
           name: "shot.png", content_type: "image/png", size: 10, sha256: "b".repeat(64) },
};
const noJitter = () => 0;

describe("retryDelay", () => {
  it("doubles from the base and stops at the cap", () => {
    const opts = { baseMs: 1000, maxMs: 30_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n, opts))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(retryDelay(0, opts)).toBe(1000);
    expect(retryDelay(10_000, opts)).toBe(30000);
  });
  it("adds at most the jitter fraction", () => {
    expect(retryDelay(1, { baseMs: 1000, maxMs: 5000, jitter: 0.5 }, () => 0.999)).toBe(1500);
    expect(retryDelay(1, DEFAULT_BACKOFF, () => 0)).toBe(DEFAULT_BACKOFF.baseMs);
  });
});

describe("the state machine", () => {
  it("goes queued → uploading → stored → done, the event only after the file", () => {
    let it1 = startUpload(item(), 2000);
    expect(it1.status).toBe("uploading");
    it1 = applyOutcome(it1, { kind: "stored", stored }, 2100);
    expect(it1).toMatchObject({ status: "stored", stored, last_error: null });
    it1 = applyOutcome(it1, { kind: "event_written" }, 2200);
    expect(it1.status).toBe("done");
    expect(() => applyOutcome(item(), { kind: "event_written" }, 1)).toThrow(/only after the file is stored/);
  });

  it("a retryable failure waits with backoff and keeps the reason to show", () => {
    const failed = applyOutcome(startUpload(item(), 0), { kind: "retryable", error: "offline" }, 5000, DEFAULT_BACKOFF, noJitter);
    expect(failed).toMatchObject({ status: "failed", attempts: 1, last_error: "offline", next_attempt_at: 7000 });
    expect(isDue(failed, 6999)).toBe(false);
    expect(isDue(failed, 7000)).toBe(true);
    const again = applyOutcome(startUpload(failed, 7000), { kind: "retryable", error: "502" }, 7000, DEFAULT_BACKOFF, noJitter);
    expect(again).toMatchObject({ attempts: 2, next_attempt_at: 11000 });
  });

  it("a refusal is kept and shown, never retried on its own, retried when asked", () => {
    const refused = applyOutcome(startUpload(item(), 0), { kind: "refused", error: "too large" }, 10);
    expect(refused.status).toBe("refused");
    expect(isDue(refused, Number.MAX_SAFE_INTEGER)).toBe(false);
    const retried = retryNow(refused, 20);
    expect(retried).toMatchObject({ status: "queued", next_attempt_at: 0 });
  });

  it("a failed event write keeps the stored file and retries only the event", () => {
    const s = applyOutcome(startUpload(item(), 0), { kind: "stored", stored }, 10);
    const f = applyOutcome(s, { kind: "event_failed", error: "pouch" }, 20, DEFAULT_BACKOFF, noJitter);
    expect(f).toMatchObject({ status: "stored", stored, last_error: "pouch", next_attempt_at: 2020 });
    expect(retryNow(f, 30).status).toBe("stored");
  });

  it("an upload cut off by a reload is queued again", () => {
    expect(recover(startUpload(item(), 0)).status).toBe("queued");
    expect(recover(item({ status: "refused" })).status).toBe("refused");
  });

  it("summarizes what the status UI shows", () => {
    const s = summarize([item(), item({ status: "failed", last_error: "offline" }), item({ status: "uploading" }),
                         item({ status: "refused", last_error: "wrong type" }), item({ status: "done" })]);
    expect(s).toEqual({ waiting: 2, uploading: 1, refused: 1, done: 1, lastError: "wrong type" });
  });
});
