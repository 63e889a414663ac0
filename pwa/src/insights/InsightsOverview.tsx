// The team dashboard (/insights): sessions over time, then per tree and, for admins and
// owners, per engineer. What a lead reads at a glance; each tree opens its own page.
import { useMemo, useState } from "react";
import { useSignIn } from "../data";
import { useLibrary } from "../data/hooks";
import { isAdminRole } from "../shared/access";
import { Card, ErrorBox, Link } from "../ui/kit";
import { percent, rangeQuery, series, shortDuration, sortRows, successRate, type Overview, type SortKey, type Summary } from "./figures";
import { CsvButton, DateRange, Freshness, LeadsOnly, Stat, useFilters } from "./parts";
import { SessionsChart } from "./SessionsChart";
import { useFigures } from "./useFigures";

export default function InsightsOverview() {
  return (
    <LeadsOnly>
      <OverviewBody />
    </LeadsOnly>
  );
}

function OverviewBody() {
  const signin = useSignIn();
  const admin = isAdminRole(signin?.account.role ?? "");
  const [range, setRange] = useFilters();
  const path = `/api/v1/analytics/overview?${rangeQuery(range.from, range.to)}`;
  const { figures, error, loading } = useFigures<Overview>(path);
  const library = useLibrary();
  const titles = useMemo(() => new Map((library.data || []).map((t) => [t.id, t.title])), [library.data]);
  const names = useEngineerNames(admin);
  const data = figures?.data;
  const chart = useMemo(() => series(data?.days || [], range.from, range.to), [data, range]);
  const totals = useMemo(() => sum(data?.trees || []), [data]);

  return (
    <div className="space-y-6" data-testid="insights-overview">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Insights</h1>
          <p className="mt-1 text-slate-600 dark:text-slate-300">How the team's sessions went, by the day they started (UTC).</p>
        </div>
        <div className="flex flex-wrap items-end gap-3">
          <DateRange from={range.from} to={range.to} onChange={(from, to) => setRange({ from, to })} />
          <CsvButton path={path} filename={`insights-${range.from}-${range.to}.csv`} />
        </div>
      </div>
      <Freshness figures={figures} loading={loading} />
      {error && !figures && <ErrorBox title="The figures could not be loaded">{error}</ErrorBox>}
      {data && (
        <>
          <section aria-label="Totals" className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Stat label="Sessions" value={String(totals.sessions)} hint={`${totals.completed} completed, ${totals.abandoned} abandoned`} testid="total-sessions" />
            <Stat label="Success rate" value={percent(successRate(totals))} hint={`${totals.outcomes.resolved} resolved of ${totals.completed} completed`} testid="total-success" />
            <Stat label="In progress" value={String(totals.in_progress)} />
            <Stat label="Trees used" value={String(data.trees.length)} />
          </section>
          <Card className="p-4 sm:p-5">
            <h2 className="mb-3 text-lg font-semibold">Sessions per {chart.unit}</h2>
            <SessionsChart buckets={chart.buckets} unit={chart.unit} />
          </Card>
          <Card className="p-4 sm:p-5">
            <h2 className="mb-3 text-lg font-semibold">Per tree</h2>
            <FigureTable
              testid="tree-table"
              rows={data.trees.map((r) => ({ ...r, id: r.tree_id }))}
              name={(r) => titles.get(r.id) || r.id.replace(/^tree:/, "")}
              link={(r) => `/insights/trees/${encodeURIComponent(r.id)}?${rangeQuery(range.from, range.to)}`}
              first="Tree"
              empty="No sessions in these days."
            />
          </Card>
          {admin && (
            <Card className="p-4 sm:p-5">
              <h2 className="mb-3 text-lg font-semibold">Per engineer</h2>
              <FigureTable
                testid="engineer-table"
                rows={data.engineers.map((r) => ({ ...r, id: r.user_id }))}
                name={(r) => names[r.id] || r.id}
                first="Engineer"
                empty="No sessions in these days."
              />
            </Card>
          )}
        </>
      )}
    </div>
  );
}

function sum(rows: Summary[]): Summary {
  const out: Summary = { sessions: 0, completed: 0, abandoned: 0, in_progress: 0, outcomes: { resolved: 0, escalated: 0, unresolved: 0 }, duration_ms: { p50: null, p90: null } };
  for (const r of rows) {
    out.sessions += r.sessions;
    out.completed += r.completed;
    out.abandoned += r.abandoned;
    out.in_progress += r.in_progress;
    out.outcomes.resolved += r.outcomes.resolved;
    out.outcomes.escalated += r.outcomes.escalated;
    out.outcomes.unresolved += r.outcomes.unresolved;
  }
  return out;
}

/** How the engineer table names people: display name and e-mail (names repeat in a team),
 * from the members list admins may read, kept for offline like the figures. */
function useEngineerNames(enabled: boolean): Record<string, string> {
  const { figures } = useFigures<{ items: { id: string; email: string; display_name: string }[] }>(enabled ? "/api/v1/users?limit=200" : null);
  return useMemo(() => Object.fromEntries((figures?.data.items || []).map((u) => [u.id, `${u.display_name} (${u.email})`])), [figures]);
}

type Row = Summary & { id: string };

const COLUMNS: { key: SortKey; label: string; numeric: boolean }[] = [
  { key: "sessions", label: "Sessions", numeric: true },
  { key: "success", label: "Success rate", numeric: true },
  { key: "p50", label: "Median time", numeric: true },
  { key: "p90", label: "90th percentile", numeric: true },
];

function FigureTable({ rows, name, link, first, empty, testid }: { rows: Row[]; name: (r: Row) => string; link?: (r: Row) => string; first: string; empty: string; testid: string }) {
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "sessions", desc: true });
  const sorted = useMemo(() => sortRows(rows, sort.key, sort.desc, name), [rows, sort, name]);
  if (!rows.length) return <p className="text-slate-600 dark:text-slate-300">{empty}</p>;
  const header = (key: SortKey, label: string, numeric: boolean) => {
    const on = sort.key === key;
    return (
      <th key={key} scope="col" aria-sort={on ? (sort.desc ? "descending" : "ascending") : "none"} className={`py-1 font-semibold ${numeric ? "text-right" : "text-left"}`}>
        <button
          type="button"
          className="inline-flex min-h-11 items-center gap-1 rounded px-1 hover:bg-slate-100 dark:hover:bg-slate-800"
          onClick={() => setSort({ key, desc: on ? !sort.desc : key !== "name" })}
        >
          {label}
          <span aria-hidden="true" className="text-xs">{on ? (sort.desc ? "▼" : "▲") : "↕"}</span>
        </button>
      </th>
    );
  };
  return (
    <div className="overflow-x-auto">
      <table className="w-full min-w-[36rem] text-sm" data-testid={testid}>
        <thead className="text-slate-600 dark:text-slate-300">
          <tr>
            {header("name", first, false)}
            {COLUMNS.map((c) => header(c.key, c.label, c.numeric))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={r.id} data-row={r.id} className="border-t border-slate-100 dark:border-slate-800">
              <th scope="row" className="py-2 pr-3 text-left font-medium">
                {link ? (
                  <Link to={link(r)} className="inline-flex min-h-11 items-center text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300">
                    {name(r)}
                  </Link>
                ) : (
                  name(r)
                )}
              </th>
              <td className="py-2 pr-1 text-right tabular-nums" data-col="sessions">{r.sessions}</td>
              <td className="py-2 pr-1 text-right tabular-nums" data-col="success">
                {percent(successRate(r))}
                <span className="block text-xs text-slate-600 dark:text-slate-400">{r.outcomes.resolved} of {r.completed}</span>
              </td>
              <td className="py-2 pr-1 text-right tabular-nums" data-col="p50">{shortDuration(r.duration_ms.p50)}</td>
              <td className="py-2 pr-1 text-right tabular-nums" data-col="p90">{shortDuration(r.duration_ms.p90)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
