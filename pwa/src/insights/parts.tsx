// Pieces every insights screen shares: who may see it, how fresh the figures are, a CSV button.
import { useEffect, useState, type ReactNode } from "react";
import { useSignIn } from "../data";
import { Button, ErrorBox, inputClass, Link, useNow, timeAgo } from "../ui/kit";
import { downloadCsv, type Fetched } from "./cache";
import { filtersFrom, filtersQuery, type Filters } from "./figures";

/** The screen's filters, opened from the address and kept in it (replacing the entry, so Back
 * leaves the screen rather than stepping through filter changes). */
export function useFilters(): [Filters, (change: Partial<Filters>) => void] {
  const [filters, setFilters] = useState(() => filtersFrom(location.search));
  useEffect(() => {
    const search = `?${filtersQuery(filters)}`;
    if (location.search !== search) history.replaceState(history.state, "", location.pathname + search);
  }, [filters]);
  return [filters, (change) => setFilters((cur) => ({ ...cur, ...change }))];
}

export const INSIGHTS_ROLES = ["owner", "admin", "author"];

/** The screen for leads; anyone else is told why they do not see it. */
export function LeadsOnly({ children }: { children: ReactNode }) {
  const signin = useSignIn();
  const role = signin?.account.role ?? "";
  if (INSIGHTS_ROLES.includes(role)) return <>{children}</>;
  return (
    <div className="py-16 text-center" data-testid="insights-refused">
      <h1 className="text-lg font-semibold">Insights are not available for your role.</h1>
      <p className="mx-auto mt-2 max-w-md text-slate-600 dark:text-slate-300">
        The team dashboard is for authors, admins and owners ({role ? `you are signed in as ${article(role)} ${role}` : "you are not signed in"}). Ask an admin for the author role if you need it.
      </p>
      <Link to="/history" className="mt-3 inline-flex min-h-11 items-center font-semibold text-indigo-700 dark:text-indigo-300">
        See your own sessions
      </Link>
    </div>
  );
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

/** "Figures as of …" when the copy on this device is shown because the server is out of reach. */
export function Freshness({ figures, loading }: { figures: Fetched<unknown> | null; loading: boolean }) {
  const now = useNow();
  if (!figures) return null;
  const when = new Date(figures.at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  if (!figures.stale && !loading) return <p className="text-sm text-slate-600 dark:text-slate-300" data-testid="figures-fresh">Figures up to date ({when}).</p>;
  return (
    <p role="status" data-testid="figures-as-of" className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:bg-amber-950 dark:text-amber-100">
      {loading
        ? `Refreshing; showing the figures as of ${when} (${timeAgo(figures.at, now)}).`
        : `Offline: figures as of ${when} (${timeAgo(figures.at, now)}). They refresh when you are back online.`}
    </p>
  );
}

export function CsvButton({ path, filename, label = "Download CSV" }: { path: string; filename: string; label?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <Button
        busy={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          downloadCsv(path, filename).then(
            () => setBusy(false),
            (e: unknown) => {
              setBusy(false);
              setError(`The CSV could not be downloaded: ${e instanceof Error ? e.message : String(e)}. It needs a connection; try again when online.`);
            },
          );
        }}
      >
        {label}
      </Button>
      {error && <span role="alert" className="max-w-xs text-right text-xs text-rose-800 dark:text-rose-300">{error}</span>}
    </span>
  );
}

export function DateRange({ from, to, onChange }: { from: string; to: string; onChange: (from: string, to: string) => void }) {
  return (
    <div className="flex flex-wrap items-end gap-3">
      <label className="text-sm font-semibold text-slate-800 dark:text-slate-200">
        From
        <input type="date" id="insights-from" className={`${inputClass} mt-1 w-auto`} value={from} max={to} onChange={(e) => e.target.value && onChange(e.target.value, to)} />
      </label>
      <label className="text-sm font-semibold text-slate-800 dark:text-slate-200">
        To
        <input type="date" id="insights-to" className={`${inputClass} mt-1 w-auto`} value={to} min={from} onChange={(e) => e.target.value && onChange(from, e.target.value)} />
      </label>
    </div>
  );
}

export function Stat({ label, value, hint, testid }: { label: string; value: string; hint?: string; testid?: string }) {
  return (
    <div className="rounded-2xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <p className="text-sm text-slate-600 dark:text-slate-300">{label}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums" data-testid={testid}>{value}</p>
      {hint && <p className="mt-0.5 text-xs text-slate-600 dark:text-slate-400">{hint}</p>}
    </div>
  );
}

export { ErrorBox };
