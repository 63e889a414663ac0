// The device's copy of the tenant: three PouchDB databases per user and tenant, live
// replication with the server, and the sync status the app shows.
import PouchDB from "pouchdb-browser";
import type { Doc, PutResult, Replication } from "pouchdb-browser";
import type { Account, Auth } from "./auth";
import { SignInRequired } from "./auth";
import { Observable } from "./observable";
import { actionKey, PendingTracker, type Refused } from "./pending";
import { PULL_OPTIONS, replicationHandle, SYNC_OPTIONS, TREE_DOCS } from "./replication";
import type { SharedStatus, SyncTab } from "./tabs";

export type DbName = "trees" | "sessions" | "clients";
export const DB_NAMES: DbName[] = ["trees", "sessions", "clients"];

export interface SyncStatus {
  /** The server itself answered the latest request. A network that is up is not enough: a
   * captive portal or Wi-Fi without a route answers nothing, or its own login page. */
  online: boolean;
  /** A replication is moving documents right now. */
  active: boolean;
  /** What the engineer did on this device that the server does not have yet: changes
   * (answers, notes, ...; the repeated saves of one note count once) and files. */
  pending: number;
  /** The files among `pending`: photos and screenshots still only on this device. */
  files: number;
  refused: Refused[];
  /** When the server last confirmed it had every change and file made on this device. */
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


export interface LocalDeps {
  storage: Storage;
  now: () => number;
  /** Extra PouchDB options for local databases (tests use a memory-backed IndexedDB). */
  localOptions?: Record<string, unknown>;
  online?: () => boolean;
  /** Where a database URL from /api/v1/me is reached from this page (see index.ts). */
  remoteUrl?: (url: string) => string;
}

export class LocalData implements SyncTab {
  readonly db: Record<DbName, PouchDB>;
  readonly remote: Record<DbName, PouchDB>;
  /** The same databases as the live replications read them (`replicationHandle`). */
  private replicated: Record<DbName, PouchDB>;
  readonly pending: Record<DbName, PendingTracker>;
  readonly status: Observable<SyncStatus>;
  private reps: Replication[] = [];
  private running = false;
  private confirmTimer: ReturnType<typeof setTimeout> | null = null;
  private lastSyncKey: string;
  private treesReadyKey: string;
  /** Whether this tab runs the live replication (see tabs.ts); a follower asks the leader. */
  private leader = true;
  private askLeader: (() => void) | null = null;
  /** Files not uploaded yet: `open` counts refused ones too, `unsent` only those on their way. */
  private files = { open: 0, unsent: 0 };

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
    const quiet = (name: DbName) => replicationHandle(remoteOf(name), deps.now);
    this.replicated = { trees: quiet("trees"), sessions: quiet("sessions"), clients: quiet("clients") };
    this.pending = {
      trees: new PendingTracker(deps.storage, `bl.pending.${localName(t, u, "trees")}`),
      sessions: new PendingTracker(deps.storage, `bl.pending.${localName(t, u, "sessions")}`),
      clients: new PendingTracker(deps.storage, `bl.pending.${localName(t, u, "clients")}`),
    };
    this.lastSyncKey = `bl.lastsync.${t}.${u}`;
    this.treesReadyKey = `bl.treesready.${t}.${u}`;
    const last = Number(deps.storage.getItem(this.lastSyncKey)) || null;
    this.status = new Observable<SyncStatus>({
      online: false,
      active: false,
      pending: 0,
      files: 0,
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

  private changesCount(): number {
    return DB_NAMES.reduce((n, name) => n + this.pending[name].count, 0);
  }

  private refreshCounts(): void {
    const changes = this.changesCount();
    const refused = DB_NAMES.flatMap((name) => this.pending[name].refused);
    const files = this.files.open;
    this.status.update((s) => ({ ...s, pending: changes + files, files, refused }));
  }

  /** The attachment queue's count: `open` files are not on the server, `unsent` of them are
   * still being tried (the rest were refused and wait for the engineer). */
  setFiles(open: number, unsent: number): void {
    this.files = { open, unsent };
    this.refreshCounts();
  }

  /** Write a document locally and remember it until the server confirms it has it. */
  async put(name: DbName, doc: Doc): Promise<PutResult> {
    const res = await this.db[name].put(doc);
    this.pending[name].add(res.id, res.rev, actionKey(doc));
    return res;
  }

  start(): void {
    if (this.running || !this.leader) return;
    this.running = true;
    const trees = PouchDB.replicate(this.replicated.trees, this.db.trees, { ...PULL_OPTIONS, selector: TREE_DOCS });
    const sessions = PouchDB.sync(this.db.sessions, this.replicated.sessions, SYNC_OPTIONS);
    const clients = PouchDB.sync(this.db.clients, this.replicated.clients, SYNC_OPTIONS);
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
    if (!this.leader) {
      this.askLeader?.();
      return;
    }
    this.stop();
    this.start();
  }

  /** This tab syncs for all the tabs of the origin. */
  lead(): void {
    this.leader = true;
    this.askLeader = null;
    if (this.auth.current?.expired) this.needsSignIn();
    else this.start();
  }

  /** Another tab syncs: this one writes locally and shows the leader's status. */
  follow(askLeader: () => void): void {
    this.leader = false;
    this.askLeader = askLeader;
    this.stop();
  }

  shared(): SharedStatus {
    const { online, active, lastSync, error, treesReady } = this.status.get();
    return { online, active, lastSync, error, treesReady };
  }

  /** The leader's status, as it posted it. */
  mirror(shared: SharedStatus): void {
    if (this.leader) return;
    this.status.update((s) => ({ ...s, ...shared, treesReady: s.treesReady || shared.treesReady }));
  }

  onStatus(listener: () => void): () => void {
    return this.status.subscribe(listener);
  }

  /** Another tab changed a localStorage entry (a `storage` event): follow shared counts. */
  storageChanged(key: string | null): void {
    for (const name of DB_NAMES) if (key === null || key === this.pending[name].storageKey) this.pending[name].reload();
  }

  /** The browser's own idea of the network: offline is believed, online only once the server answers. */
  setOnline(online: boolean): void {
    if (!online) this.status.update((s) => ({ ...s, online: false, active: false }));
    else if (this.running) this.restart();
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
      if (name === "trees") this.deps.storage.setItem(this.treesReadyKey, "1");
      this.status.update((s) => ({ ...s, active: false, treesReady: s.treesReady || name === "trees" }));
      // A quiet replication proves nothing by itself: ask the server what it has.
      this.scheduleConfirm(0);
    });
    rep.on("denied", (err: { id?: string; doc?: { id?: string }; reason?: string; message?: string }) => {
      const id = err?.id || err?.doc?.id;
      if (id && name !== "trees") this.pending[name].deny(id, err.reason || err.message || "forbidden", this.deps.now());
    });
    rep.on("error", (err: unknown) => this.problem(err));
  }

  /** The sign-in stopped working: nothing syncs until the engineer signs in again. */
  needsSignIn(): void {
    this.stop();
    this.status.update((s) => ({ ...s, active: false, online: false, error: "Sign in again to sync." }));
  }

  private problem(err: unknown): void {
    if (err instanceof SignInRequired || this.auth.current?.expired) {
      this.needsSignIn();
      return;
    }
    this.status.update((s) => ({ ...s, active: false, online: false, error: unreachableReason(err, this.isOnline()) }));
  }

  private scheduleConfirm(delay: number): void {
    if (!this.running) return;
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = null;
      void this.confirm();
    }, delay);
  }

  /** Ask the server which pending writes it has; cheap, and safe to call at any time. With
   * nothing pending it still asks the server something, so `online` means the server answered. */
  async confirm(): Promise<number> {
    let left = 0;
    let asked = false;
    try {
      for (const name of ["sessions", "clients"] as DbName[]) {
        asked ||= this.pending[name].ids.length > 0;
        left += await this.pending[name].confirm((diff) => this.remote[name].revsDiff(diff));
      }
      if (!asked) await this.probe();
    } catch (err) {
      this.problem(err); // ask again after the next sync
      return this.changesCount();
    }
    this.reached(left);
    return left;
  }

  /** The server's own answer about the sessions database (a portal's page is not JSON). */
  private async probe(): Promise<void> {
    const info = (await this.remote.sessions.info()) as { db_name?: unknown } | null;
    if (!info || typeof info.db_name !== "string") throw new Error("not the server");
  }

  /** The server answered; with nothing left to send, this is a completed sync. */
  private reached(changesLeft: number): void {
    const complete = changesLeft === 0 && this.files.unsent === 0;
    const now = this.deps.now();
    if (complete) this.deps.storage.setItem(this.lastSyncKey, String(now));
    this.status.update((s) => ({ ...s, online: true, error: null, lastSync: complete ? now : s.lastSync }));
  }

  /** Wait until every change and file is on the server (true) or the time is up (false). */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.deps.now() + timeoutMs;
    const clear = async () => (await this.confirm()) === 0 && this.files.open === 0;
    while (this.deps.now() < deadline) {
      if (await clear()) return true;
      await new Promise((r) => setTimeout(r, 400));
    }
    return clear();
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

/** Why the server was not reached, in the engineer's words. */
export function unreachableReason(err: unknown, networkUp: boolean): string {
  if (!networkUp) return "This device is offline.";
  if (err instanceof SyntaxError || (err instanceof Error && err.message === "not the server")) {
    return "Something on the network answered instead of the server: a Wi-Fi sign-in page, or a proxy. Open any web page to sign in to the network.";
  }
  const status = (err as { status?: number })?.status;
  if (typeof status === "number" && status >= 500) return `The server had a problem (${status}); retrying.`;
  return "The server does not answer. Check the Wi-Fi or mobile data; everything is kept on this device meanwhile.";
}
