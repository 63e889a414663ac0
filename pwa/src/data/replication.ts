// How a device replicates with the server: the options of its live replications and the
// handle on a server database they read through. Kept apart from local.ts (which needs a
// browser) so that Node tests and the team load benchmark run exactly these.
//
// Round trips are what a phone with one bar of signal pays for, and what the server pays for
// when a whole team syncs at once. With PouchDB's defaults, every batch (one note is a batch)
// cost the server a GET and a PUT of a checkpoint per direction, and every batch pulled a GET
// of the database's info: about 16 requests per note between its writer and the partner who
// shares the session, 10 of them bookkeeping. Here a note costs 6.
import type { ReplicateOptions, SyncOptions } from "pouchdb-browser";

type Info = { doc_count: number; update_seq: number | string; db_name: string };

/** Retry quickly while a phone drifts in and out of signal, never slower than every 15 s. */
export function backOff(delay: number): number {
  if (!delay) return 1000;
  return Math.min(delay * 2, 15000);
}

const LIVE: ReplicateOptions = { live: true, retry: true, back_off_function: backOff, batch_size: 100 };

/** Checkpoints stay on the device, in both directions. The server learns that its data went
 * back in time (a restore) through its welcome `uuid`, which names every replication: a new
 * history there means new replications that start from the beginning (api/sync_history.py). */
export const PULL_OPTIONS: ReplicateOptions = { ...LIVE, checkpoint: "target" };
export const SYNC_OPTIONS: SyncOptions = { ...LIVE, push: { checkpoint: "source" }, pull: { checkpoint: "target" } };

/** The trees the device keeps: published versions and their metadata, not drafts. */
export const TREE_DOCS = { _id: { $regex: "^(tree|treever|treemeta):" } };

interface HasInfo {
  info(): Promise<Info>;
}

/** `remote` for a replication to read from: PouchDB asks its source for the database's info
 * after every batch, only to report progress in `activeTasks`, which nothing here reads. That
 * question is answered from the last real answer, asked again at most every `maxAgeMs`. Use
 * a handle of its own: anything else that asks for the info wants the server's answer now. */
export function quietInfo<T extends HasInfo>(remote: T, now: () => number = Date.now, maxAgeMs = 60000): T {
  const ask = remote.info.bind(remote);
  let kept: { at: number; info: Promise<Info> } | null = null;
  remote.info = () => {
    const t = now();
    if (!kept || t - kept.at >= maxAgeMs) {
      const info = ask();
      const mine = { at: t, info };
      kept = mine;
      info.catch(() => {
        if (kept === mine) kept = null; // a failure is never kept: the next batch asks again
      });
    }
    return kept.info;
  };
  return remote;
}
