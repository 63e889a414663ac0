// The last answers of the analytics API, kept per tenant and user so the dashboard opens
// offline with the figures of its last visit. In localStorage under `bl.insights.`, which
// signing out removes with the rest of the local data (data/index.ts).
import { api, ApiError, auth, saveBlob } from "../data";
import { readError } from "../data/auth";

export const CACHE_PREFIX = "bl.insights.";

export interface Fetched<T> {
  data: T;
  /** When the server gave these figures (ms). */
  at: number;
  /** True when they come from this device's copy because the server could not be reached. */
  stale: boolean;
}

function key(path: string): string | null {
  const s = auth.current;
  return s ? `${CACHE_PREFIX}${s.account.tenant.id}.${s.account.user.id}.${path}` : null;
}

/** The kept copy of an answer, if any. */
export function cached<T>(path: string): Fetched<T> | null {
  const k = key(path);
  const raw = k ? localStorage.getItem(k) : null;
  if (!raw) return null;
  try {
    const { at, data } = JSON.parse(raw) as { at: number; data: T };
    return { data, at, stale: true };
  } catch {
    return null;
  }
}

/** The answer from the server (and kept), or the kept copy when the server cannot be reached. */
export async function fetchFigures<T>(path: string): Promise<Fetched<T>> {
  try {
    const data = await api<T>(path);
    const at = Date.now();
    const k = key(path);
    if (k) {
      try {
        localStorage.setItem(k, JSON.stringify({ at, data }));
      } catch {
        // Storage full: the figures still show; only the offline copy is missing.
      }
    }
    return { data, at, stale: false };
  } catch (e) {
    // A refusal (a bad filter, a role without figures) is shown as such; anything else (no
    // network, a server that is down or a worker answering for it) falls back to the kept copy.
    const refused = e instanceof ApiError && e.status >= 400 && e.status < 500;
    const kept = refused ? null : cached<T>(path);
    if (kept) return kept;
    throw e;
  }
}

/** A CSV export as a download: fetched with the sign-in, which a bare link could not send. */
export async function downloadCsv(path: string, filename: string): Promise<void> {
  const res = await auth.fetch(path + (path.includes("?") ? "&" : "?") + "format=csv");
  if (!res.ok) throw await readError(res);
  saveBlob(await res.blob(), filename);
}
