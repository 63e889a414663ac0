// The device's copy of the tenant: three PouchDB databases per user and tenant, live
// replication with the server, and the sync status the app shows.
import PouchDB from "pouchdb-browser";
import type { Doc, PutResult, Replication } from "pouchdb-browser";
import type { Account, Auth } from "./auth";
import { SignInRequired } from "./auth";
import { Observable } from "./observable";
import { PendingTracker, type Refused } from "./pending";

export type DbName = "trees" | "sessions" | "clients";
export const DB_NAMES: DbName[] = ["trees", "sessions", "clients"];

export interface SyncStatus {
  online: boolean;
  /** A replication is moving documents right now. */
  active: boolean;
  /** Local writes the server does not have yet. */
  pending: number;
  refused: Refused[];
  lastSync: number | null;
  /** The last replication problem, if the latest attempt failed. */
  error: string | null;
  /** The trees database has finished its first pull (the library is complete). */
  treesReady: boolean;
}

/** The local database name for one user of one tenant. */
export function localName(tenantId: string, userId: string, db: DbName): string {
  return `bl_${tenantId}_${userId}_${db}`;
}

/** Retry quickly while a phone drifts in and out of signal, never slower than every 15 s. */
export function backOff(delay: number): number {
  if (!delay) return 1000;
  return Math.min(delay * 2, 15000);
}

const TREE_DOCS = { _id: { $regex: "^(tree|treever|treemeta):" } };

export interface LocalDeps {
  storage: Storage;
  now: () => number;
  /** Extra PouchDB options for local databases (tests use a memory-backed IndexedDB). */
  localOptions?: Record<string, unknown>;
  online?: () => boolean;
  /** Where a database URL from /api/v1/me is reached from this page (see index.ts). */
  remoteUrl?: (url: string) => string;
}

export class LocalData {
  readonly db: Record<DbName, PouchDB>;
  readonly remote: Record<DbName, PouchDB>;
  readonly pending: Record<DbName, PendingTracker>;
  readonly status: Observable<SyncStatus>;
  private reps: Replication[] = [];
  private running = false;
  private confirmTimer: ReturnType<typeof setTimeout> | null = null;
  private lastSyncKey: string;
  private treesReadyKey: string;

  constructor(
    readonly account: Account,
    private auth: Auth,
    private deps: LocalDeps,
  ) {
    const t = account.tenant.id;
    const u = account.user.id;
    const mk = (name: DbName) => new PouchDB(localName(t, u, name), { ...(deps.localOptions || {}) });
    this.db = { trees: mk("trees"), sessions: mk("sessions"), clients: mk("clients") };
    const remoteOf = (name: DbName) =>
      new PouchDB((deps.remoteUrl || ((u: string) => u))(account.sync.databases[name]), {
        skip_setup: true,
        fetch: (url: string, opts: RequestInit) => auth.fetch(url, opts),
      });
    this.remote = { trees: remoteOf("trees"), sessions: remoteOf("sessions"), clients: remoteOf("clients") };
    this.pending = {
      trees: new PendingTracker(deps.storage, `bl.pending.${localName(t, u, "trees")}`),
      sessions: new PendingTracker(deps.storage, `bl.pending.${localName(t, u, "sessions")}`),
      clients: new PendingTracker(deps.storage, `bl.pending.${localName(t, u, "clients")}`),
    };
    this.lastSyncKey = `bl.lastsync.${t}.${u}`;
    this.treesReadyKey = `bl.treesready.${t}.${u}`;
    const last = Number(deps.storage.getItem(this.lastSyncKey)) || null;
    this.status = new Observable<SyncStatus>({
      online: this.isOnline(),
      active: false,
      pending: 0,
      refused: [],
      lastSync: last,
      error: null,
      treesReady: deps.storage.getItem(this.treesReadyKey) === "1",
    });
    for (const name of DB_NAMES) this.pending[name].onChange(() => this.refreshCounts());
    this.refreshCounts();
  }

  private isOnline(): boolean {
    return this.deps.online ? this.deps.online() : typeof navigator === "undefined" || navigator.onLine;
  }

  private refreshCounts(): void {
    const pending = DB_NAMES.reduce((n, name) => n + this.pending[name].count, 0);
    const refused = DB_NAMES.flatMap((name) => this.pending[name].refused);
    this.status.update((s) => ({ ...s, pending, refused }));
  }

  /** Write a document locally and remember it until the server confirms it has it. */
  async put(name: DbName, doc: Doc): Promise<PutResult> {
    const res = await this.db[name].put(doc);
    this.pending[name].add(res.id, res.rev);
    return res;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.status.update((s) => ({ ...s, online: this.isOnline() }));
    const opts = { live: true, retry: true, back_off_function: backOff, batch_size: 100 };
    const trees = PouchDB.replicate(this.remote.trees, this.db.trees, { ...opts, selector: TREE_DOCS });
    const sessions = PouchDB.sync(this.db.sessions, this.remote.sessions, opts);
    const clients = PouchDB.sync(this.db.clients, this.remote.clients, opts);
    this.watch(trees, "trees");
    this.watch(sessions, "sessions");
    this.watch(clients, "clients");
    this.reps = [trees, sessions, clients];
    this.scheduleConfirm(0);
  }

  stop(): void {
    this.running = false;
    for (const rep of this.reps) rep.cancel();
    this.reps = [];
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.confirmTimer = null;
    this.status.update((s) => ({ ...s, active: false }));
  }

  /** Start over without waiting for the back-off (the network just came back). */
  restart(): void {
    this.stop();
    this.start();
  }

  setOnline(online: boolean): void {
    this.status.update((s) => ({ ...s, online }));
    if (online && this.running) this.restart();
  }

  private watch(rep: Replication, name: DbName): void {
    rep.on("active", () => this.status.update((s) => ({ ...s, active: true })));
    rep.on("change", (info: { direction?: string }) => {
      if (name !== "trees" && info && info.direction === "push") this.scheduleConfirm(300);
    });
    rep.on("paused", (err?: unknown) => {
      if (err) {
        this.problem(err);
        return;
      }
      const now = this.deps.now();
      this.deps.storage.setItem(this.lastSyncKey, String(now));
      if (name === "trees") this.deps.storage.setItem(this.treesReadyKey, "1");
      this.status.update((s) => ({
        ...s,
        active: false,
        error: null,
        lastSync: now,
        online: true,
        treesReady: s.treesReady || name === "trees",
      }));
      if (name !== "trees") this.scheduleConfirm(0);
    });
    rep.on("denied", (err: { id?: string; doc?: { id?: string }; reason?: string; message?: string }) => {
      const id = err?.id || err?.doc?.id;
      if (id && name !== "trees") this.pending[name].deny(id, err.reason || err.message || "forbidden", this.deps.now());
    });
    rep.on("error", (err: unknown) => this.problem(err));
  }

  private problem(err: unknown): void {
    if (err instanceof SignInRequired || this.auth.current?.expired) {
      this.stop();
      this.status.update((s) => ({ ...s, active: false, error: "Sign in again to sync." }));
      return;
    }
    const message = err instanceof Error ? err.message : String((err as { reason?: string })?.reason || err);
    this.status.update((s) => ({ ...s, active: false, error: message, online: this.isOnline() && s.online }));
  }

  private scheduleConfirm(delay: number): void {
    if (!this.running) return;
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = null;
      void this.confirm();
    }, delay);
  }

  /** Ask the server which pending writes it has; cheap, and safe to call at any time. */
  async confirm(): Promise<number> {
    let left = 0;
    for (const name of ["sessions", "clients"] as DbName[]) {
      try {
        left += await this.pending[name].confirm((diff) => this.remote[name].revsDiff(diff));
      } catch {
        left += this.pending[name].count; // offline: ask again after the next sync
      }
    }
    return left;
  }

  /** Wait until nothing is pending (true) or the time is up (false). */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.deps.now() + timeoutMs;
    while (this.deps.now() < deadline) {
      if ((await this.confirm()) === 0) return true;
      await new Promise((r) => setTimeout(r, 400));
    }
    return (await this.confirm()) === 0;
  }

  /** Remove everything this user has on the device (signing out on a shared device). */
  async destroy(): Promise<void> {
    this.stop();
    for (const name of DB_NAMES) {
      await this.db[name].destroy();
      this.pending[name].clear();
    }
    this.deps.storage.removeItem(this.lastSyncKey);
    this.deps.storage.removeItem(this.treesReadyKey);
  }
}
