// Online or offline, changes waiting, last sync, and any write the server refused.
//
// "Online" means the server itself answered, not that the network is up: behind a captive
// portal or on Wi-Fi without a route the badge says so, and "Last sync" moves only when the
// server confirmed it has everything done on this device.
import { useState } from "react";
import { syncNow, useLocal, useOnline, useSyncStatus, type SyncStatus as Status } from "../data";
import { Dialog, timeAgo, useNow } from "./kit";

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The badge's word for the connection. */
export function connectionLabel(status: Status, networkUp: boolean): string {
  if (!networkUp) return "Offline";
  if (status.online) return status.active ? "Syncing" : "Online";
  if (status.error) return status.error.startsWith("Sign in") ? "Sign in to sync" : "No server";
  return "Connecting";
}

/** What is waiting, in the engineer's words: "2 changes and 1 photo waiting to upload". */
export function waitingText(changes: number, files: number): string {
  const parts = [];
  if (changes > 0) parts.push(plural(changes, "change", "changes"));
  if (files > 0) parts.push(`${plural(files, "photo", "photos")} waiting to upload`);
  return parts.join(" and ") || "Nothing";
}

export function SyncStatus() {
  const status = useSyncStatus();
  const networkUp = useOnline();
  const local = useLocal();
  const now = useNow(10000);
  const [open, setOpen] = useState(false);
  if (!status) return null;
  const refused = status.refused.length;
  const online = networkUp && status.online;
  const tone = refused ? "bg-rose-500" : online ? "bg-emerald-500" : "bg-amber-500";
  const label = connectionLabel(status, networkUp);
  const connection = !networkUp
    ? "Offline — everything you do is saved on this device"
    : online
      ? "Online — connected to the server"
      : status.error
        ? `The server cannot be reached. ${status.error}`
        : "Reaching the server…";
  return (
    <>
      <button
        type="button"
        data-testid="sync-status"
        data-online={online ? "yes" : "no"}
        data-pending={status.pending}
        onClick={() => setOpen(true)}
        className="brand-text ml-auto flex min-h-11 shrink-0 items-center gap-2 rounded-full px-3 text-sm font-medium text-slate-200 hover:bg-white/10"
      >
        {/* The name a screen reader announces is the visible text with the hidden words
            between, so it starts with what a sighted user reads on the badge. */}
        <span className={`h-2.5 w-2.5 rounded-full ${tone} ${status.active ? "animate-pulse" : ""}`} aria-hidden="true" />
        <span>{label}</span>{" "}
        {status.pending > 0 && (
          <span className="rounded-full bg-amber-400 px-2 py-0.5 text-xs font-bold text-slate-900" data-testid="pending-count">
            {status.pending}
          </span>
        )}
        <span className="sr-only">
          {status.pending > 0 ? ` change${status.pending === 1 ? "" : "s"} not synced yet.` : ", nothing waiting."} Last synced {timeAgo(status.lastSync, now)}.
        </span>
        {refused > 0 && <span className="rounded-full bg-rose-500 px-2 py-0.5 text-xs font-bold text-white">!</span>}
        {refused > 0 && <span className="sr-only"> The server refused {refused} change{refused === 1 ? "" : "s"}.</span>}
      </button>
      {open && (
        <Dialog title="Sync" onClose={() => setOpen(false)}>
          <dl className="grid grid-cols-[auto_1fr] gap-x-6 gap-y-3 text-[0.9375rem]">
            <dt className="text-slate-500">Connection</dt>
            <dd className="font-medium" data-testid="sync-connection">{connection}</dd>
            <dt className="text-slate-500">Not synced yet</dt>
            <dd className="font-medium" data-testid="sync-waiting">{status.pending === 0 ? "Nothing — all changes are on the server" : `${waitingText(status.pending - status.files, status.files)}, kept on this device`}</dd>
            <dt className="text-slate-500">Last sync</dt>
            <dd className="font-medium" data-testid="last-sync">{status.lastSync ? `${timeAgo(status.lastSync, now)} (${new Date(status.lastSync).toLocaleTimeString()})` : "Not yet"}</dd>
          </dl>
          {refused > 0 && (
            <div className="mt-5 rounded-xl border border-rose-200 bg-rose-50 p-4 text-rose-900 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-100" role="alert">
              <p className="font-semibold">The server refused {refused} change{refused === 1 ? "" : "s"}</p>
              <p className="mt-1 text-sm">They are kept on this device. Ask an admin to share the session with you or change your role, then edit again.</p>
              <ul className="mt-3 space-y-2 text-sm">
                {status.refused.map((r) => (
                  <li key={r.id} className="flex items-start justify-between gap-3">
                    <span>
                      <code className="break-all">{r.id}</code>
                      <br />
                      {r.reason}
                    </span>
                    <button type="button" className="min-h-11 shrink-0 rounded-lg px-3 font-semibold hover:bg-rose-100 dark:hover:bg-rose-900" onClick={() => local && Object.values(local.pending).forEach((p) => p.dismissRefused(r.id))}>
                      Dismiss
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {networkUp && (
            <button type="button" className="mt-5 min-h-11 font-semibold text-indigo-700 dark:text-indigo-300" onClick={syncNow}>
              Sync now
            </button>
          )}
        </Dialog>
      )}
    </>
  );
}
