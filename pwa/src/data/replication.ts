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

interface HasId {
  id(): Promise<string>;
}

/** A server database as the live replications read it: named strictly (`strictId`), its info
 * asked rarely (`quietInfo`). A handle of its own: see `quietInfo`. */
export function replicationHandle<T extends HasInfo & HasId>(remote: T, now: () => number = Date.now): T {
  return strictId(quietInfo(remote, now));
}

/** PouchDB names a replication, and so its checkpoint, after the server's welcome `uuid`.
 * When that question fails (a drop, a proxy's error page), its http adapter falls back to the
 * database's address, which ignores the server's history: after a restore, a device could
 * resume from a checkpoint of the old history and never send what the restore lost. Here the
 * replication fails instead, and PouchDB tries it again with the back-off until it is named
 * properly. */
export function strictId<T extends HasId>(remote: T): T {
  const ask = remote.id.bind(remote);
  remote.id = async () => {
    const id = await ask();
    if (/^https?:\/\//.test(id)) throw new Error("The server did not say which copy of the data it holds; trying again shortly.");
    return id;
  };
  return remote;
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
