// Backups (owners and admins): how this workspace is backed up, its part of the recent snapshots,
// and, for owners, Back up now and the download of the workspace's data. Admins see the status
// only, as the server allows them; engineers and viewers are refused. Online only.
import { useCallback, useEffect, useState } from "react";
import { api, downloadWorkspaceArchive, OfflineError, useSignIn } from "../data";
import { Button, Card, ErrorBox, Loading } from "../ui/kit";
import { AdminTabs } from "./AdminTabs";

type BackupDatabase = { name: string; bytes: number; doc_count: number };
type Snapshot = {
  id: string;
  kind: "nightly" | "workspace";
  created_at: string;
  ok: boolean;
  error: string | null;
  bytes: number;
  doc_count: number;
  databases: BackupDatabase[];
};
type Status = {
  backend: "embedded" | "couchdb";
  managed_by: "branchline" | "couchdb";
  how: string;
  schedule: { enabled: boolean; cron: string; description: string; next_run: string | null } | null;
  retention: number | null;
  running: boolean;
  can_back_up: boolean;
  can_download: boolean;
  snapshots: Snapshot[];
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function errText(e: unknown): string {
  if (e instanceof OfflineError) return "You are offline. Backups need a connection; try again once you are back online.";
  return e instanceof Error ? e.message : String(e);
}

function SnapshotRow({ s }: { s: Snapshot }) {
  return (
    <li className="py-3" data-testid="snapshot">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className="font-semibold text-slate-900 dark:text-white">{when(s.created_at)}</span>
        <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-semibold text-slate-700 dark:bg-slate-800 dark:text-slate-300">{s.kind === "nightly" ? "Nightly" : "Back up now"}</span>
        {s.ok ? (
          <span className="rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-semibold text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200">OK</span>
        ) : (
          <span className="rounded-full bg-rose-100 px-2 py-0.5 text-xs font-semibold text-rose-900 dark:bg-rose-950 dark:text-rose-200">Failed</span>
        )}
        {s.ok && (
          <span className="text-sm text-slate-600 dark:text-slate-400" data-testid="snapshot-size">
            {formatBytes(s.bytes)} · {s.doc_count} documents
          </span>
        )}
      </div>
      {!s.ok && s.error && <p className="mt-1 break-words text-sm text-rose-800 dark:text-rose-300">{s.error}</p>}
      {s.databases.length > 0 && (
        <details className="mt-1 text-sm">
          <summary className="inline-flex min-h-11 cursor-pointer items-center text-slate-600 dark:text-slate-400">{s.databases.length} databases</summary>
          <ul className="ml-1 space-y-0.5 text-slate-700 dark:text-slate-300">
            {s.databases.map((d) => (
              <li key={d.name} className="flex flex-wrap gap-x-2">
                <span className="font-mono">{d.name}</span>
                <span className="text-slate-500">
                  {formatBytes(d.bytes)}, {d.doc_count} documents
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

export default function BackupsAdmin() {
  const signin = useSignIn();
  const role = signin?.account.role;
  const [status, setStatus] = useState<Status | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<{ title: string; reason: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [backingUp, setBackingUp] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const allowed = role === "owner" || role === "admin";

  const load = useCallback(
    () =>
      api<Status>("/api/v1/backups").then(
        (s) => {
          setStatus(s);
          setLoadError(null);
        },
        (e) => setLoadError(errText(e)),
      ),
    [],
  );

  useEffect(() => {
    if (allowed) void load();
  }, [allowed, load]);

  // Another owner's Back up now (or this one's, in another tab) is running: look again until it ends.
  useEffect(() => {
    if (!status?.running) return;
    const timer = window.setInterval(() => void load(), 2000);
    return () => window.clearInterval(timer);
  }, [status?.running, load]);

  if (signin && !allowed) {
    return (
      <ErrorBox title="Owners and admins only">
        The workspace's backups are shown to its owners and admins; backing up and downloading the data is for owners.
      </ErrorBox>
    );
  }

  async function backUpNow() {
    setBackingUp(true);
    setActionError(null);
    setMessage(null);
    try {
      const s = await api<Snapshot>("/api/v1/backups", { method: "POST" });
      setMessage(`Backed up: ${s.databases.length} databases, ${formatBytes(s.bytes)}, ${s.doc_count} documents.`);
      await load();
    } catch (e) {
      setActionError({ title: "The backup was not made", reason: errText(e) });
      await load();
    } finally {
      setBackingUp(false);
    }
  }

  async function download() {
    setDownloading(true);
    setActionError(null);
    setMessage(null);
    try {
      const name = await downloadWorkspaceArchive();
      setMessage(`Downloaded ${name}. Keep it somewhere safe: it holds all of the workspace's sessions and notes.`);
    } catch (e) {
      setActionError({ title: "The download did not start", reason: errText(e) });
    } finally {
      setDownloading(false);
    }
  }

  return (
    <div className="space-y-5">
      <AdminTabs tab="backups" />
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Backups</h1>
        <p className="text-sm text-slate-500">{signin?.account.tenant.name}</p>
      </div>
      {!status && !loadError && <Loading />}
      {loadError && (
        <ErrorBox title="The backups could not be loaded" onRetry={() => void load()}>
          {loadError}
        </ErrorBox>
      )}
      {status && (
        <>
          <Card className="space-y-3 p-5">
            <h2 className="text-lg font-semibold">How this workspace is backed up</h2>
            <p className="text-slate-700 dark:text-slate-300">{status.how}</p>
            {status.schedule && (
              <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-3">
                <div>
                  <dt className="text-slate-500">Schedule</dt>
                  <dd className="font-semibold">{status.schedule.description}</dd>
                </div>
                <div>
                  <dt className="text-slate-500">Next run</dt>
                  <dd className="font-semibold">{status.schedule.next_run ? when(status.schedule.next_run) : "None"}</dd>
                </div>
                <div>
                  <dt className="text-slate-500">Kept</dt>
                  <dd className="font-semibold">{status.retention} newest snapshots</dd>
                </div>
              </dl>
            )}
          </Card>

          <Card className="space-y-3 p-5">
            <h2 className="text-lg font-semibold">Back up and download</h2>
            {status.can_back_up || status.can_download ? (
              <>
                <div className="flex flex-col gap-2 sm:flex-row">
                  {status.can_back_up && (
                    <Button tone="primary" busy={backingUp || status.running} onClick={() => void backUpNow()}>
                      {status.running && !backingUp ? "A backup is running…" : "Back up now"}
                    </Button>
                  )}
                  {status.can_download && (
                    <Button busy={downloading} onClick={() => void download()}>
                      Download this workspace's data
                    </Button>
                  )}
                </div>
                <p className="text-xs text-slate-500 dark:text-slate-400">
                  Back up now copies this workspace's databases on the server. The download is a zip of every tree, session, client and attachment, with the members (never their passwords); branchline tenant import recreates the workspace from it on
                  any Branchline. Webhooks, connectors, single sign-on and API keys are not in it: set them up again after a move.
                </p>
              </>
            ) : (
              <p className="text-sm text-slate-600 dark:text-slate-400">Only owners can back up this workspace now or download its data.</p>
            )}
            {message && (
              <p role="status" className="font-semibold text-emerald-800 dark:text-emerald-300">
                {message}
              </p>
            )}
            {actionError && (
              <ErrorBox title={actionError.title}>
                <p>{actionError.reason}</p>
              </ErrorBox>
            )}
          </Card>

          {status.managed_by === "branchline" && (
            <Card className="p-5">
              <h2 className="text-lg font-semibold">Recent snapshots</h2>
              {status.snapshots.length === 0 ? (
                <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">No snapshot holds this workspace yet.</p>
              ) : (
                <ul className="divide-y divide-slate-200 dark:divide-slate-800" aria-label="Snapshots">
                  {status.snapshots.map((s) => (
                    <SnapshotRow key={s.id} s={s} />
                  ))}
                </ul>
              )}
            </Card>
          )}
        </>
      )}
    </div>
  );
}
