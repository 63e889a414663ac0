// Usage (owners and admins): what the team stores against its quota, who is in it, what it ran,
// its integrations, and every limit that applies with what happens past it. The quota is set
// by the operator of the server, never here; the page says who and how. Online only, like the
// other tabs. Figures come from GET /api/v1/tenant/usage; storage is a measurement up to
// `refresh_seconds` old (the one writes are checked against), so the page says how old.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { api, useSignIn } from "../data";
import { Button, Card, ErrorBox, Loading, useNow } from "../ui/kit";
import { AdminTabs } from "./AdminTabs";
import { formatBytes } from "./sizes";

export interface UsageWarning {
  code: "storage_high" | "storage_full";
  level: "warning" | "critical";
  message: string;
}

interface Limit {
  key: string;
  label: string;
  value: number | null;
  unit: "bytes" | "requests_per_minute" | "requests_per_hour" | "items" | "failures";
  applies_to: string;
  explanation: string;
}

export interface Usage {
  tenant_id: string;
  storage: {
    databases: { name: string; label: string; bytes: number; documents: number }[];
    used_bytes: number;
    quota_bytes: number | null;
    quota_source: "default" | "operator";
    percent: number | null;
    attachments: { files: number; bytes: number; storage: string; counts_toward_quota: boolean };
    measured_at: string;
    age_seconds: number;
    refresh_seconds: number;
    quota_managed_by: string;
  };
  members: { active: Record<string, number>; active_total: number; invited: number; deactivated: number; seats: number | null };
  content: {
    trees: { published: number; never_published: number; archived: number };
    sessions: { total: number; this_month: number; last_30_days: number; completed: number; abandoned: number; in_progress: number };
    clients: number;
  };
  integrations: {
    api_keys_active: number;
    api_keys_revoked: number;
    webhooks: number;
    webhooks_failing: number;
    deliveries_last_24h: { delivered: number; failed: number; pending: number; capped: boolean };
  };
  limits: Limit[];
  warnings: UsageWarning[];
}

const count = (n: number) => n.toLocaleString("en");

function limitValue(l: Limit): string {
  if (l.value === null) return l.unit === "bytes" ? "No limit" : "No limit (off)";
  switch (l.unit) {
    case "bytes":
      return formatBytes(l.value);
    case "requests_per_minute":
      return `${count(l.value)} a minute`;
    case "requests_per_hour":
      return `${count(l.value)} an hour`;
    case "failures":
      return `${count(l.value)} in a row`;
    default:
      return count(l.value);
  }
}

function ago(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ago` : `${Math.floor(m / 60)} h ago`;
}

/** A bar with its figure in words beside it and for screen readers: never colour alone. */
function Meter({ label, pct, text, testid }: { label: string; pct: number; text: string; testid?: string }) {
  const shown = Math.min(100, Math.max(0, pct));
  const tone = pct >= 100 ? "bg-rose-700" : pct >= 80 ? "bg-amber-500" : "bg-indigo-600";
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(shown * 10) / 10}
      aria-valuetext={text}
      className="h-3 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
      data-testid={testid}
    >
      <div className={`h-full rounded-full ${tone}`} style={{ width: `${Math.max(shown, shown > 0 ? 1 : 0)}%` }} />
    </div>
  );
}

/** The storage banner; `compact` is the one-line notice above the other admin tabs. */
export function StorageWarning({ warning, compact = false }: { warning: UsageWarning; compact?: boolean }) {
  const critical = warning.level === "critical";
  const box = critical
    ? "border-rose-300 bg-rose-50 text-rose-950 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-100"
    : "border-amber-300 bg-amber-50 text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100";
  return (
    <div role={critical ? "alert" : "status"} className={`rounded-xl border p-3 text-sm ${box}`} data-testid={compact ? "usage-notice" : "usage-warning"}>
      <p>
        <span className="font-semibold">{critical ? "Storage full: " : "Storage warning: "}</span>
        {warning.message}
      </p>
    </div>
  );
}

function Figure({ label, value, note, testid }: { label: string; value: string; note?: string; testid?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="mt-0.5 text-lg font-semibold tabular-nums text-slate-900 dark:text-white" data-testid={testid}>
        {value}
      </dd>
      {note && <dd className="text-xs text-slate-500 dark:text-slate-400">{note}</dd>}
    </div>
  );
}

function Section({ title, children, testid }: { title: string; children: ReactNode; testid?: string }) {
  return (
    <Card className="space-y-4 p-4 sm:p-5">
      <h2 className="text-lg font-semibold" data-testid={testid}>
        {title}
      </h2>
      {children}
    </Card>
  );
}

const grid = "grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-3";

function StorageCard({ s }: { s: Usage["storage"] }) {
  const quota = s.quota_bytes;
  const summary = quota === null ? `${formatBytes(s.used_bytes)} used, no quota` : `${formatBytes(s.used_bytes)} of ${formatBytes(quota)} (${s.percent}%)`;
  return (
    <Section title="Storage">
      <div className="space-y-2">
        <p className="text-2xl font-semibold tabular-nums" data-testid="storage-summary">
          {summary}
        </p>
        {quota !== null && s.percent !== null && <Meter label="Storage used" pct={s.percent} text={summary} testid="storage-meter" />}
        <p className="text-sm text-slate-600 dark:text-slate-300" data-testid="quota-source">
          {quota === null
            ? "This server sets no storage quota."
            : s.quota_source === "operator"
              ? "Your team's own quota, set by the operator of this server."
              : "The server's default quota for every team."}{" "}
          {s.quota_managed_by}
        </p>
      </div>
      <ul className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Storage per database">
        {s.databases.map((d) => {
          const share = s.used_bytes ? (d.bytes * 100) / s.used_bytes : 0;
          return (
            <li key={d.name} className="space-y-1 py-2" data-testid={`db-${d.name}`}>
              <div className="flex flex-wrap items-baseline justify-between gap-x-3">
                <span className="min-w-0 text-sm font-semibold">{d.label}</span>
                <span className="text-sm tabular-nums">
                  {formatBytes(d.bytes)} · {count(d.documents)} {d.documents === 1 ? "document" : "documents"}
                </span>
              </div>
              <Meter label={`${d.label}: share of the storage used`} pct={share} text={`${formatBytes(d.bytes)}, ${Math.round(share)}% of the storage used`} />
            </li>
          );
        })}
      </ul>
      <div className="rounded-xl bg-slate-50 p-3 text-sm dark:bg-slate-800/60" data-testid="attachments-usage">
        <p className="font-semibold">
          Attachment files: {count(s.attachments.files)} {s.attachments.files === 1 ? "file" : "files"}, {formatBytes(s.attachments.bytes)}
        </p>
        <p className="text-slate-600 dark:text-slate-300">
          Stored {s.attachments.storage === "s3" ? "in S3-compatible storage" : "in a folder on the server"}; they do not count toward the quota, each file has its own size limit (see Limits).
        </p>
      </div>
    </Section>
  );
}

const fetchUsage = (fresh: boolean) => api<Usage>(`/api/v1/tenant/usage${fresh ? "?refresh=true" : ""}`);

const ROLE_LABEL: Record<string, string> = { owner: "Owners", admin: "Admins", author: "Authors", engineer: "Engineers", viewer: "Viewers" };

export default function UsageAdmin() {
  const [usage, setUsage] = useState<Usage | null>(null);
  const [fetchedAt, setFetchedAt] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const now = useNow(1000);
  const signin = useSignIn();

  const show = useCallback((u: Usage) => {
    setUsage(u);
    setFetchedAt(Date.now());
    setError(null);
  }, []);
  const fail = useCallback((e: unknown) => setError(e instanceof Error ? e.message : String(e)), []);

  useEffect(() => {
    let live = true;
    fetchUsage(false)
      .then((u) => live && show(u))
      .catch((e: unknown) => live && fail(e));
    return () => {
      live = false;
    };
  }, [show, fail]);

  async function load(fresh: boolean) {
    setBusy(true);
    try {
      show(await fetchUsage(fresh));
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  }

  // Server-side age plus the time since the answer came: the device's clock plays no part.
  const age = usage ? usage.storage.age_seconds + Math.max(0, now - fetchedAt) / 1000 : 0;
  const m = usage?.members;
  const c = usage?.content;
  const i = usage?.integrations;

  if (signin && !["owner", "admin"].includes(signin.account.role)) return <ErrorBox title="Admins only">The team's usage is shown to owners and admins.</ErrorBox>;
  return (
    <div className="space-y-5">
      <AdminTabs tab="usage" />
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Usage</h1>
          {usage && (
            <p className="text-sm text-slate-500 dark:text-slate-400" data-testid="measured">
              Storage measured {ago(age)}
            </p>
          )}
        </div>
        <Button onClick={() => void load(true)} busy={busy} disabled={!usage && !error}>
          Refresh
        </Button>
      </div>
      {!usage && !error && <Loading />}
      {error && (
        <ErrorBox title={usage ? "The figures could not be refreshed; these are the last ones" : "Usage could not be loaded"} onRetry={() => void load(usage !== null)}>
          <p>{error}</p>
        </ErrorBox>
      )}
      {usage && (
        <>
          {usage.warnings.map((w) => (
            <StorageWarning key={w.code} warning={w} />
          ))}
          <StorageCard s={usage.storage} />
          <Section title="Members">
            <dl className={grid} data-testid="members">
              {Object.entries(m!.active).map(([role, n]) => (
                <Figure key={role} label={ROLE_LABEL[role] ?? role} value={count(n)} testid={`members-${role}`} />
              ))}
              <Figure label="Active in all" value={count(m!.active_total)} testid="members-active" />
              <Figure label="Invited" value={count(m!.invited)} note="Not yet accepted" testid="members-invited" />
              <Figure label="Deactivated" value={count(m!.deactivated)} testid="members-deactivated" />
              <Figure label="Seats" value={m!.seats === null ? "No limit" : count(m!.seats)} />
            </dl>
          </Section>
          <Section title="Trees and sessions">
            <dl className={grid} data-testid="content">
              <Figure label="Published trees" value={count(c!.trees.published)} testid="trees-published" />
              <Figure label="Never published" value={count(c!.trees.never_published)} note="Drafts" testid="trees-drafts" />
              <Figure label="Archived trees" value={count(c!.trees.archived)} />
              <Figure label="Sessions this month" value={count(c!.sessions.this_month)} testid="sessions-month" />
              <Figure label="Last 30 days" value={count(c!.sessions.last_30_days)} testid="sessions-30" />
              <Figure label="All sessions" value={count(c!.sessions.total)} testid="sessions-total" />
              <Figure label="Completed" value={count(c!.sessions.completed)} testid="sessions-completed" />
              <Figure label="Abandoned" value={count(c!.sessions.abandoned)} testid="sessions-abandoned" />
              <Figure label="In progress" value={count(c!.sessions.in_progress)} />
              <Figure label="Client contexts" value={count(c!.clients)} testid="clients" />
            </dl>
          </Section>
          <Section title="Integrations">
            <dl className={grid} data-testid="integrations">
              <Figure label="API keys in use" value={count(i!.api_keys_active)} note={i!.api_keys_revoked ? `${count(i!.api_keys_revoked)} revoked` : undefined} testid="keys-active" />
              <Figure label="Webhooks" value={count(i!.webhooks)} note={i!.webhooks_failing ? `${count(i!.webhooks_failing)} failing` : undefined} />
              <Figure
                label="Deliveries, 24 h"
                value={`${i!.deliveries_last_24h.capped ? "at least " : ""}${count(i!.deliveries_last_24h.delivered)} ok`}
                note={`${count(i!.deliveries_last_24h.failed)} failed, ${count(i!.deliveries_last_24h.pending)} waiting`}
              />
            </dl>
          </Section>
          <Section title="Limits">
            <p className="text-sm text-slate-600 dark:text-slate-300">Every limit that applies to your team, and what happens past it. The operator of this server sets them; owners and admins change only the attachment size, in the attachment settings.</p>
            <table className="w-full table-fixed text-left text-sm" data-testid="limits">
              <thead>
                <tr className="border-b border-slate-200 dark:border-slate-700">
                  <th scope="col" className="py-2 pr-3 font-semibold">
                    Limit
                  </th>
                  <th scope="col" className="w-28 py-2 text-right font-semibold sm:w-40">
                    Value
                  </th>
                </tr>
              </thead>
              <tbody>
                {usage.limits.map((l) => (
                  <tr key={l.key} className="border-b border-slate-100 align-top dark:border-slate-800" data-testid={`limit-${l.key}`}>
                    <th scope="row" className="py-2 pr-3 font-normal [overflow-wrap:anywhere]">
                      <span className="block font-semibold">{l.label}</span>
                      <span className="block text-slate-600 dark:text-slate-300">Applies to {l.applies_to}.</span>
                      <span className="block text-slate-500 dark:text-slate-400">{l.explanation}</span>
                    </th>
                    <td className="py-2 text-right font-semibold tabular-nums [overflow-wrap:anywhere]">{limitValue(l)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
        </>
      )}
    </div>
  );
}
