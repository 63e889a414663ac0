// Which local writes the server does not have yet, and which it refused.
//
// Every write the app makes goes through `LocalData.put`, which records the document's id
// and revision here. After the push side of a replication goes quiet, `confirm` asks the
// server's `_revs_diff` which of them it still misses: that answer is the truth, whatever
// replication events were or were not seen (another tab may have pushed them, the page may
// have reloaded in between). A write the server refused (`forbidden`) moves to `refused`:
// it stays in the local database and stays visible to the user, never silently dropped.

export interface Refused {
  id: string;
  reason: string;
  at: number;
}

interface Saved {
  pending: Record<string, string>;
  refused: Refused[];
}

type RevsDiff = (diff: Record<string, string[]>) => Promise<Record<string, { missing: string[] }>>;

export class PendingTracker {
  private pending: Record<string, string>;
  private refusedList: Refused[];
  private listeners = new Set<() => void>();

  constructor(
    private storage: Storage,
    private key: string,
  ) {
    let saved: Saved = { pending: {}, refused: [] };
    try {
      const raw = storage.getItem(key);
      if (raw) saved = JSON.parse(raw) as Saved;
    } catch {
      // A damaged entry only loses the count, never data: the documents are in PouchDB.
    }
    this.pending = saved.pending || {};
    this.refusedList = saved.refused || [];
  }

  private persist(): void {
    this.storage.setItem(this.key, JSON.stringify({ pending: this.pending, refused: this.refusedList }));
    for (const l of [...this.listeners]) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get count(): number {
    return Object.keys(this.pending).length;
  }

  get ids(): string[] {
    return Object.keys(this.pending);
  }

  get refused(): Refused[] {
    return this.refusedList;
  }

  add(id: string, rev: string): void {
    this.pending[id] = rev;
    this.refusedList = this.refusedList.filter((r) => r.id !== id);
    this.persist();
  }

  deny(id: string, reason: string, now: number): void {
    const wasPending = id in this.pending;
    delete this.pending[id];
    if (!this.refusedList.some((r) => r.id === id)) this.refusedList = [...this.refusedList, { id, reason, at: now }];
    else if (!wasPending) return;
    this.persist();
  }

  dismissRefused(id: string): void {
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
    this.refusedList = [];
    this.storage.removeItem(this.key);
    for (const l of [...this.listeners]) l();
  }
}
