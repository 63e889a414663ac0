// Keeps the queue moving: a run when started, whenever the browser comes back online, when
// the app returns to the foreground, and when the next retry is due.

import type { AttachmentQueue, UploadFn, WriteEventFn } from "./queue";

export interface AutoUploadOptions {
  queue: AttachmentQueue;
  upload: UploadFn;
  writeEvent: WriteEventFn;
  target?: Pick<Window, "addEventListener" | "removeEventListener">;
  now?: () => number;
  isOnline?: () => boolean;
}

export function startAutoUpload(opts: AutoUploadOptions): () => void {
  const target = opts.target ?? window;
  const now = opts.now ?? Date.now;
  const isOnline = opts.isOnline ?? (() => typeof navigator === "undefined" || navigator.onLine !== false);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const schedule = async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const due = await opts.queue.nextDue();
    // Offline there is nothing to poll for: the "online" event starts the next run.
    if (stopped || due === null || !isOnline()) return;
    timer = setTimeout(kick, Math.max(250, Math.min(due - now(), 5 * 60_000)));
  };
  const kick = () => {
    if (stopped) return;
    void opts.queue.processQueue(opts.upload, opts.writeEvent).finally(schedule);
  };
  const onVisible = () => {
    if (typeof document === "undefined" || document.visibilityState === "visible") kick();
  };
  target.addEventListener("online", kick);
  target.addEventListener("visibilitychange", onVisible);
  const unsubscribe = opts.queue.subscribe((_items, summary) => {
    // Something new was added (or retried by hand): try now.
    if (summary.waiting && !timer) kick();
  });
  kick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    target.removeEventListener("online", kick);
    target.removeEventListener("visibilitychange", onVisible);
    unsubscribe();
  };
}
