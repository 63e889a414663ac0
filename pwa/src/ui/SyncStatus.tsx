// Online or offline, changes waiting, last sync, and any write the server refused.
import { useState } from "react";
import { useLocal, useOnline, useSyncStatus } from "../data";
import { Dialog, timeAgo, useNow } from "./kit";

export function SyncStatus() {
  const status = useSyncStatus();
  const online = useOnline();
  const local = useLocal();
  const now = useNow(10000);
  const [open, setOpen] = useState(false);
  if (!status) return null;
  const refused = status.refused.length;
  const tone = refused ? "bg-rose-500" : !online ? "bg-amber-500" : status.error ? "bg-amber-500" : "bg-emerald-500";
  const label = !online ? "Offline" : status.active ? "Syncing" : status.error ? "Reconnecting" : "Online";
  return (
    <>
      <button
        type="button"
        data-testid="sync-status"
        data-online={online ? "yes" : "no"}
        data-pending={status.pending}
        onClick={() => setOpen(true)}
        className="ml-auto flex min-h-11 shrink-0 items-center gap-2 rounded-full px-3 text-sm font-medium text-slate-200 hover:bg-white/10"
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
            <dd className="font-medium" data-testid="sync-connection">{online ? "Online" : "Offline — everything you do is saved on this device"}</dd>
            <dt className="text-slate-500">Not synced yet</dt>
            <dd className="font-medium">{status.pending === 0 ? "Nothing — all changes are on the server" : `${status.pending} change${status.pending === 1 ? "" : "s"}`}</dd>
            <dt className="text-slate-500">Last sync</dt>
            <dd className="font-medium" data-testid="last-sync">{status.lastSync ? `${timeAgo(status.lastSync, now)} (${new Date(status.lastSync).toLocaleTimeString()})` : "Not yet"}</dd>
            {status.error && online && (
              <>
                <dt className="text-slate-500">Last problem</dt>
                <dd className="text-amber-700 dark:text-amber-300">{status.error}</dd>
              </>
            )}
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
          {online && (
            <button type="button" className="mt-5 min-h-11 font-semibold text-indigo-700 dark:text-indigo-300" onClick={() => local?.restart()}>
              Sync now
            </button>
          )}
        </Dialog>
      )}
    </>
  );
}
