// What this device keeps about a session's scripts, beside its sessions database: the last
// rendering of each step's script (shown and copied when offline), the devices last listed,
// runs queued while offline, and queued runs that were dropped because their step was over.
//
// One `_local/` document per session in the local sessions database: IndexedDB, kept across
// reloads, never replicated (a queued run is this device's request, not part of the session).
import type PouchDB from "pouchdb-browser";

export interface Rendering {
  key: string;
  script: string;
  version: number | null;
  risk: string;
  /** Names of the secret parameters shown masked in `script` (never their values). */
  secrets?: string[];
}

export interface Device {
  id: string;
  name: string;
  online?: boolean | null;
}

export interface QueuedRun {
  request_id: string;
  node_id: string;
  at_step: string;
  step_title: string;
  script_id: string;
  script_name: string;
  version: number | null;
  parameters: Record<string, string>;
  script_text: string;
  target: { device_id: string; device_name?: string };
  system: string;
  queued_at: number;
}

export interface DroppedRun {
  request_id: string;
  step_title: string;
  script_name: string;
  reason: string;
  at: number;
}

export interface ScriptRecord {
  renders: Record<string, Rendering>;
  devices: { system: string; client_id: string | null; items: Device[] } | null;
  queue: QueuedRun[];
  dropped: DroppedRun[];
  /** Runs this device asked for, by step: followed until their result reaches the session. */
  asked: Record<string, string[]>;
}

const EMPTY: ScriptRecord = { renders: {}, devices: null, queue: [], dropped: [], asked: {} };

const docId = (sid: string) => `_local/bl-scripts:${sid}`;

export async function readRecord(db: PouchDB, sid: string): Promise<ScriptRecord> {
  try {
    const doc = (await db.get(docId(sid))) as unknown as Partial<ScriptRecord>;
    return { ...EMPTY, ...doc };
  } catch {
    return { ...EMPTY };
  }
}

/** Change the record with `fn`, read fresh (another tab may have written it); retried on a conflict. */
export async function updateRecord(db: PouchDB, sid: string, fn: (r: ScriptRecord) => ScriptRecord): Promise<ScriptRecord> {
  for (let attempt = 0; ; attempt++) {
    let rev: string | undefined;
    let current: ScriptRecord = { ...EMPTY };
    try {
      const doc = await db.get(docId(sid));
      rev = doc._rev;
      current = { ...EMPTY, ...(doc as unknown as Partial<ScriptRecord>) };
    } catch {
      rev = undefined;
    }
    const next = fn(current);
    try {
      await db.put({ ...next, _id: docId(sid), ...(rev ? { _rev: rev } : {}) });
      return next;
    } catch (e) {
      if (attempt >= 3 || (e as { status?: number }).status !== 409) throw e;
    }
  }
}
