// Which local writes the server does not have yet, and which it refused.
//
// Every write the app makes goes through `LocalData.put`, which records the document's id
// and revision here. After the push side of a replication goes quiet, `confirm` asks the
// server's `_revs_diff` which of them it still misses: that answer is the truth, whatever
// replication events were or were not seen (another tab may have pushed them, the page may
// have reloaded in between). A write the server refused (`forbidden`) moves to `refused`:
// it stays in the local database and stays visible to the user, never silently dropped.
//
// The count shown to the engineer is of things they did, not of documents: typing a note
// writes a new event every couple of seconds (same `note_id`), and those saves count once.
//
// The list lives in localStorage, which every tab of the origin shares: each change re-reads
// it first, and a tab hears the others' changes through the `storage` event (`reload`).

export interface Refused {
  id: string;
  reason: string;
  at: number;
}

interface Saved {
  pending: Record<string, string>;
  refused: Refused[];
  /** The action each pending document belongs to (absent: the document is its own). */
  actions?: Record<string, string>;
}

/** Events that come with an edit of the session's header (its status): one action with it. */
const HEADER_EVENTS = new Set(["completed", "abandoned", "reopened"]);

/** What the engineer did that `doc` records: the saves of one note are one action, and
 * finishing a session (its `completed` event and the header's new status) is one too. */
export function actionKey(doc: { _id: string; type?: unknown; session_id?: unknown; note_id?: unknown }): string {
  if (typeof doc.session_id === "string") {
    if (doc.type === "note" && typeof doc.note_id === "string") return `note:${doc.session_id}:${doc.note_id}`;
    if (typeof doc.type === "string" && HEADER_EVENTS.has(doc.type)) return `session:${doc.session_id}`;
  }
  return doc._id;
}

type RevsDiff = (diff: Record<string, string[]>) => Promise<Record<string, { missing: string[] }>>;

export class PendingTracker {
  private pending: Record<string, string> = {};
  private actions: Record<string, string> = {};
  private refusedList: Refused[] = [];
  private listeners = new Set<() => void>();

  constructor(
    private storage: Storage,
    private key: string,
  ) {
    this.read();
  }

  private read(): void {
    let saved: Saved = { pending: {}, refused: [] };
    try {
      const raw = this.storage.getItem(this.key);
      if (raw) saved = JSON.parse(raw) as Saved;
    } catch {
      // A damaged entry only loses the count, never data: the documents are in PouchDB.
    }
    this.pending = saved.pending || {};
    this.actions = saved.actions || {};
    this.refusedList = saved.refused || [];
  }

  private persist(): void {
    for (const id of Object.keys(this.actions)) if (!(id in this.pending)) delete this.actions[id];
    this.storage.setItem(this.key, JSON.stringify({ pending: this.pending, refused: this.refusedList, actions: this.actions }));
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Another tab changed the list: take its version (see the `storage` event). */
  reload(): void {
    this.read();
    this.notify();
  }

  get storageKey(): string {
    return this.key;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** How many things the engineer did that the server does not have yet. */
  get count(): number {
    return new Set(Object.keys(this.pending).map((id) => this.actions[id] || id)).size;
  }

  get ids(): string[] {
    return Object.keys(this.pending);
  }

  get refused(): Refused[] {
    return this.refusedList;
  }

  add(id: string, rev: string, action: string = id): void {
    this.read();
    this.pending[id] = rev;
    if (action !== id) this.actions[id] = action;
    this.refusedList = this.refusedList.filter((r) => r.id !== id);
    this.persist();
  }

  deny(id: string, reason: string, now: number): void {
    this.read();
    const wasPending = id in this.pending;
    delete this.pending[id];
    if (!this.refusedList.some((r) => r.id === id)) this.refusedList = [...this.refusedList, { id, reason, at: now }];
    else if (!wasPending) return;
    this.persist();
  }

  dismissRefused(id: string): void {
    this.read();
    this.refusedList = this.refusedList.filter((r) => r.id !== id);
    this.persist();
  }

  /** Drop every pending entry the server already has; returns how many are still missing. */
  async confirm(revsDiff: RevsDiff): Promise<number> {
    const snapshot = { ...this.pending };
    const ids = Object.keys(snapshot);
    if (!ids.length) return 0;
    const query: Record<string, string[]> = {};
    for (const id of ids) query[id] = [snapshot[id]];
    const missing = await revsDiff(query);
    this.read();
    let changed = false;
    for (const id of ids) {
      // Only drop what was asked about and not rewritten meanwhile.
      if (!missing[id] && this.pending[id] === snapshot[id]) {
        delete this.pending[id];
        changed = true;
      }
    }
    if (changed) this.persist();
    return this.count;
  }

  clear(): void {
    this.pending = {};
    this.actions = {};
    this.refusedList = [];
    this.storage.removeItem(this.key);
    this.notify();
  }
}
