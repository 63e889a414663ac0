// Uploading one queued file to Branchline: pre-signed PUT straight to S3 when the server
// offers it, else the direct upload route. Either way the answer is the stored metadata,
// and the attachment id makes a retried upload answer the same file instead of a second one.

import type { QueueItem, StoredAttachment } from "./state";
import { UploadError, type UploadFn } from "./queue";

export type ApiFetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface UploaderOptions {
  /** The server's origin ("" for the page's own), e.g. https://branchline.example.net */
  base: string;
  /** fetch with the Bearer token (the app's `auth.fetch`); throws when the network is down. */
  apiFetch: ApiFetch;
  /** plain fetch, for the pre-signed PUT (which must not carry the Bearer token) */
  fetch?: typeof fetch;
}

// A refusal the same request would meet again: shown to the engineer, not retried alone.
const REFUSALS = new Set([400, 403, 404, 409, 413, 415, 422]);

async function reasonOf(res: Response): Promise<{ error: string; reason: string }> {
  try {
    const body = await res.clone().json();
    return { error: body.error || "error", reason: body.reason || res.statusText };
  } catch {
    return { error: "error", reason: `${res.status} ${res.statusText}`.trim() };
  }
}

/** UploadError for a failed answer: refusals are final, the rest (5xx, 401, 429) retried. */
export async function errorFor(res: Response): Promise<UploadError> {
  const { error, reason } = await reasonOf(res);
  // A checksum mismatch means the bytes were damaged on the way: sending them again helps.
  const retryable = !REFUSALS.has(res.status) || error === "checksum_mismatch";
  return new UploadError(reason, retryable, res.status);
}

async function call(apiFetch: ApiFetch, url: string, init: RequestInit): Promise<Response> {
  try {
    return await apiFetch(url, init);
  } catch (e) {
    // Offline, or the sign-in must be renewed: both pass, so the item waits and retries.
    throw new UploadError(e instanceof Error ? e.message : "The server cannot be reached.", true);
  }
}

export function createUploader(opts: UploaderOptions): UploadFn {
  const plainFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const root = `${opts.base}/api/v1/sessions`;
  let presigns: boolean | null = null; // false once the server said it has no pre-signed uploads

  async function direct(item: QueueItem, data: Blob): Promise<StoredAttachment> {
    const params = new URLSearchParams({ name: item.name, node_id: item.node_id, attachment_id: item.attachment_id,
                                         sha256: item.sha256 });
    if (item.caption) params.set("caption", item.caption);
    const res = await call(opts.apiFetch, `${root}/${item.session_id}/attachments?${params}`, {
      method: "POST", body: data, headers: { "Content-Type": item.type || "application/octet-stream" },
    });
    if (!res.ok) throw await errorFor(res);
    return res.json();
  }

  // "unsupported": the server keeps files itself; "unreachable": this device cannot reach the storage.
  async function viaPresign(item: QueueItem, data: Blob): Promise<StoredAttachment | "unsupported" | "unreachable"> {
    const res = await call(opts.apiFetch, `${root}/${item.session_id}/attachments/presign`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ node_id: item.node_id, name: item.name, size: item.size, sha256: item.sha256,
                             content_type: item.type, attachment_id: item.attachment_id, caption: item.caption }),
    });
    if (res.status === 501) return "unsupported";
    if (!res.ok) throw await errorFor(res);
    const answer = await res.json();
    if (!answer.upload) return answer as StoredAttachment; // already stored by an earlier attempt
    let put: Response;
    try {
      put = await plainFetch(answer.upload.url, { method: answer.upload.method, headers: answer.upload.headers, body: data });
    } catch {
      // The API answered but the storage cannot be reached from here (an internal endpoint
      // such as http://minio:9000, or a bucket without CORS for this origin): send the bytes
      // through the server instead, which works on every backend.
      return "unreachable";
    }
    if (!put.ok) throw new UploadError(`The storage refused the upload (${put.status}); it will be retried.`, true, put.status);
    const confirmed = await call(opts.apiFetch, `${opts.base}${answer.confirm_url}`, { method: "POST" });
    if (!confirmed.ok) throw await errorFor(confirmed);
    return confirmed.json();
  }

  return async (item, data) => {
    if (presigns !== false) {
      const stored = await viaPresign(item, data);
      if (typeof stored === "object") return stored;
      if (stored === "unsupported") presigns = false; // learnt once; "unreachable" is per attempt
    }
    return direct(item, data);
  };
}
