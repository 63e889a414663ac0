// Attachments for the signed-in user: the device queue (src/attachments) wired to this
// user's sessions database and sign-in. One queue per user and tenant on a shared device.
import { AttachmentQueue, UploadError, attachmentEventDoc, createUploader, startAutoUpload, summarize } from "../attachments";
import type { QueueItem, UploadFn, WriteEventFn } from "../attachments";
import type { Auth } from "./auth";
import type { LocalData } from "./local";

export interface Attachments {
  queue: AttachmentQueue;
  upload: UploadFn;
  writeEvent: WriteEventFn;
  /** Count the queue again now (the count otherwise follows the queue's own changes). */
  recount: () => Promise<void>;
  stop: () => void;
}

export function queueName(local: LocalData): string {
  return `bl-attachments-${local.account.tenant.id}-${local.account.user.id}`;
}

export function startAttachments(local: LocalData, auth: Auth, deviceId: string, base: string): Attachments {
  const queue = new AttachmentQueue({ dbName: queueName(local) });
  const direct = createUploader({ base, apiFetch: (url, init) => auth.fetch(url, init) });
  // The server takes a file only for a session it has: a session started offline must
  // reach it first, so until then the upload waits (a retryable failure, not a refusal).
  const upload: UploadFn = async (item, data) => {
    const header = `session:${item.session_id}`;
    if (local.pending.sessions.ids.includes(header)) {
      await local.confirm();
      if (local.pending.sessions.ids.includes(header)) throw new UploadError("Waiting for the session to reach the server.", true);
    }
    return direct(item, data);
  };
  const writeEvent: WriteEventFn = async (item, stored) => {
    try {
      await local.put("sessions", attachmentEventDoc(item, stored, { userId: local.account.user.id, deviceId }));
    } catch (e) {
      if ((e as { status?: number }).status !== 409) throw e; // 409: an earlier attempt wrote it
    }
  };
  const stopUploads = startAutoUpload({ queue, upload, writeEvent });
  // Files waiting here are changes the server does not have: the badge and sign-out count them.
  const count = (items: QueueItem[]) => {
    const summary = summarize(items);
    local.setFiles(items.filter((i) => i.status !== "done").length, summary.waiting + summary.uploading);
  };
  // Another tab's messages can arrive in a burst and reads finish out of order: only the
  // newest read may set the count, or an older one could leave a finished file counted.
  let recounts = 0;
  const recount = async () => {
    const n = ++recounts;
    const items = await queue.list();
    if (n === recounts) count(items);
  };
  // Every tab of the origin shares the queue, but hears only of its own changes: tell the others.
  const others = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(queueName(local)) : null;
  if (others) others.onmessage = () => void recount();
  const stopCounting = queue.subscribe(() => {
    void recount();
    others?.postMessage("changed");
  });
  const stop = () => {
    stopUploads();
    stopCounting();
    others?.close();
  };
  return { queue, upload, writeEvent, recount, stop };
}
