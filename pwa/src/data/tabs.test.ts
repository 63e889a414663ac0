import { describe, expect, it, vi } from "vitest";
import { shareSync, type SharedStatus, type SyncTab, type TabDeps } from "./tabs";

/** Web Locks as the browser grants them: one holder per name, the rest wait in order. */
class Locks {
  private held = new Set<string>();
  private waiting: { name: string; grant: () => void; signal?: AbortSignal }[] = [];

  request(name: string, opts: LockOptions, fn: () => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.held.add(name);
        void fn().then(resolve, reject).finally(() => {
          this.held.delete(name);
          this.next(name);
        });
      };
      opts.signal?.addEventListener("abort", () => {
        const i = this.waiting.findIndex((w) => w.grant === grant);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          reject(new DOMException("aborted", "AbortError"));
        }
      });
      if (this.held.has(name)) this.waiting.push({ name, grant, signal: opts.signal ?? undefined });
      else grant();
    });
  }

  private next(name: string): void {
    const i = this.waiting.findIndex((w) => w.name === name);
    if (i >= 0) this.waiting.splice(i, 1)[0].grant();
  }
}

class Tab implements SyncTab {
  leading = false;
  restarts = 0;
  asked = 0;
  status: SharedStatus = { online: false, active: false, lastSync: null, error: null, treesReady: false };
  private listeners = new Set<() => void>();
  private askLeader: (() => void) | null = null;

  lead() {
    this.leading = true;
  }
  follow(ask: () => void) {
    this.leading = false;
    this.askLeader = ask;
  }
  mirror(s: SharedStatus) {
    this.status = s;
  }
  shared() {
    return this.status;
  }
  restart() {
    if (this.leading) this.restarts++;
    else this.askLeader?.();
  }
  onStatus(l: () => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(s: Partial<SharedStatus>) {
    this.status = { ...this.status, ...s };
    for (const l of this.listeners) l();
  }
}

describe("shareSync", () => {
  it("lets one tab sync for all, mirrors its status, and hands over when it stops", async () => {
    const deps: TabDeps = { locks: new Locks() as unknown as LockManager, channel: (n) => new BroadcastChannel(n) };
    const a = new Tab();
    const b = new Tab();
    const stopA = shareSync(a, "sync-x", deps);
    await vi.waitFor(() => expect(a.leading).toBe(true));
    const stopB = shareSync(b, "sync-x", deps);
    a.set({ online: true, lastSync: 42 });
    await vi.waitFor(() => expect(b.status).toMatchObject({ online: true, lastSync: 42 }));
    expect(b.leading).toBe(false);

    b.restart(); // "Sync now" in the follower
    await vi.waitFor(() => expect(a.restarts).toBe(1));

    stopA(); // the leader's tab closes
    await vi.waitFor(() => expect(b.leading).toBe(true));
    stopB();
  });

  it("syncs in every tab where the browser cannot coordinate", () => {
    const tab = new Tab();
    shareSync(tab, "sync-y", { locks: null, channel: null })();
    expect(tab.leading).toBe(true);
  });
});
