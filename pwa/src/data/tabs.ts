// One tab syncs for every tab of the origin.
//
// A browser opens at most six connections to one host, and each tab's live replication holds
// three of them (the long-polled `_changes` feeds): two tabs used them all, and every other
// request (an editor's save, a sign-in renewal) waited until a feed timed out. So the tabs
// elect a leader with a Web Lock: the tab holding the lock runs the live replication; when
// it closes, the browser hands the lock to the next tab waiting. The other tabs follow:
//
// - they write to the same IndexedDB databases, and PouchDB tells the leader's live push
//   replication about those writes (it signals other tabs through `storage` events);
// - the list of writes the server does not have yet lives in localStorage, shared by all
//   tabs (`PendingTracker`), so each tab counts the same changes;
// - the leader posts its sync status (online, last sync, problems) on a BroadcastChannel,
//   and a follower's "Sync now" asks the leader to sync.
//
// Without Web Locks or BroadcastChannel every tab syncs on its own, as before.

/** What a tab shares of its sync status (the counts each tab reads from shared storage). */
export interface SharedStatus {
  online: boolean;
  active: boolean;
  lastSync: number | null;
  error: string | null;
  treesReady: boolean;
}

type Message = { type: "hello" } | { type: "sync-now" } | { type: "status"; status: SharedStatus };

/** The part of LocalData the coordination drives. */
export interface SyncTab {
  lead(): void;
  follow(askLeader: () => void): void;
  mirror(status: SharedStatus): void;
  shared(): SharedStatus;
  restart(): void;
  onStatus(listener: () => void): () => void;
}

export interface TabDeps {
  locks: Pick<LockManager, "request"> | null;
  channel: ((name: string) => BroadcastChannel) | null;
}

export function browserTabs(): TabDeps {
  return {
    locks: typeof navigator !== "undefined" && "locks" in navigator ? navigator.locks : null,
    channel: typeof BroadcastChannel !== "undefined" ? (name) => new BroadcastChannel(name) : null,
  };
}

/** Take part in the election for `name` (one per user and tenant); answers a stop function. */
export function shareSync(tab: SyncTab, name: string, deps: TabDeps): () => void {
  if (!deps.locks || !deps.channel) {
    tab.lead();
    return () => undefined;
  }
  const channel = deps.channel(name);
  const abort = new AbortController();
  let leading = false;
  let release: (() => void) | null = null;
  const post = (m: Message) => {
    try {
      channel.postMessage(m);
    } catch {
      // Closed while stopping: nobody is listening any more.
    }
  };
  const announce = () => {
    if (leading) post({ type: "status", status: tab.shared() });
  };
  channel.onmessage = (e: MessageEvent<Message>) => {
    const m = e.data;
    if (leading && m.type === "hello") announce();
    else if (leading && m.type === "sync-now") tab.restart();
    else if (!leading && m.type === "status") tab.mirror(m.status);
  };
  const stopWatching = tab.onStatus(announce);
  tab.follow(() => post({ type: "sync-now" }));
  deps.locks
    .request(name, { signal: abort.signal }, () => {
      leading = true;
      tab.lead();
      announce();
      // Held until this tab closes or signs out: then the next tab in line takes over.
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    })
    .catch(() => undefined); // aborted while waiting: this tab stopped before it led
  post({ type: "hello" });
  return () => {
    leading = false;
    abort.abort();
    release?.();
    stopWatching();
    channel.close();
  };
}
