// One tree's page (/insights/trees/:id): filters (days, client, version, a second version to
// compare with), the graph coloured by drop-off, every step's figures, the top paths and the
// steps where engineers add their own (linking to the editor's suggestions for that step).
import { useMemo, type ReactNode } from "react";
import { useClients } from "../data/hooks";
import { diffTrees } from "../editor/diff";
import type { TreeDoc } from "../editor/model";
import { Card, ErrorBox, inputClass, Link } from "../ui/kit";
import { dropOffRate, percent, rangeQuery, rankedPaths, shortDuration, successRate, type NodeFigures, type TreeFigures } from "./figures";
import { CsvButton, DateRange, Freshness, LeadsOnly, Stat, useFilters } from "./parts";
import { TreeHeatGraph } from "./TreeHeatGraph";
import { useFigures } from "./useFigures";

interface VersionRow {
  version: number;
  published_at: string;
  change_note: string;
}

export default function InsightsTree({ treeId }: { treeId: string }) {
  return (
    <LeadsOnly>
      <TreeBody treeId={treeId} />
    </LeadsOnly>
  );
}

function figuresPath(treeId: string, q: string, version: number | null, client: string): string {
  return `/api/v1/analytics/trees/${encodeURIComponent(treeId)}?${q}${version ? `&version=${version}` : ""}${client ? `&client_id=${encodeURIComponent(client)}` : ""}`;
}

function TreeBody({ treeId }: { treeId: string }) {
  const [filters, setFilters] = useFilters();
  const { client, version, compare } = filters;
  const range = { from: filters.from, to: filters.to };
  const q = rangeQuery(range.from, range.to);
  const base = `/api/v1/trees/${encodeURIComponent(treeId)}`;
  const path = figuresPath(treeId, q, version, client);
  const main = useFigures<TreeFigures>(path);
  const other = useFigures<TreeFigures>(version && compare ? figuresPath(treeId, q, compare, client) : null);
  const versions = useFigures<{ items: VersionRow[] }>(`${base}/versions`);
  const list = versions.figures?.data.items || [];
  const shown = version ?? list[0]?.version ?? null;
  const doc = useFigures<{ tree: TreeDoc }>(shown ? `${base}/versions/${shown}` : null);
  const otherDoc = useFigures<{ tree: TreeDoc }>(version && compare ? `${base}/versions/${compare}` : null);
  const clients = useClients();
  const tree = doc.figures?.data.tree;
  const changed = useMemo(() => {
    const a = otherDoc.figures?.data.tree;
    if (!a || !tree) return new Set<string>();
    const d = compare! < version! ? diffTrees(a, tree) : diffTrees(tree, a);
    return new Set([...d.added.map((n) => n.id), ...d.changed.map((n) => n.id)]);
  }, [otherDoc.figures, tree, compare, version]);
  const title = (id: string) => String(tree?.nodes[id]?.title || id);
  const data = main.figures?.data;

  return (
    <div className="space-y-6" data-testid="insights-tree">
      <div>
        <Link to="/insights" className="inline-flex min-h-11 items-center text-sm font-semibold text-indigo-700 dark:text-indigo-300">
          ← All trees
        </Link>
        <h1 className="text-2xl font-semibold tracking-tight">{String(tree?.title || treeId.replace(/^tree:/, ""))}</h1>
      </div>
      <section aria-label="Filters" className="flex flex-wrap items-end gap-3">
        <DateRange from={range.from} to={range.to} onChange={(from, to) => setFilters({ from, to })} />
        <Select id="insights-client" label="Client" value={client} onChange={(v) => setFilters({ client: v })}>
          <option value="">All clients</option>
          {(clients.data || []).map((c) => (
            <option key={c._id} value={c._id}>{String((c as { name?: string }).name || c._id)}</option>
          ))}
        </Select>
        <Select id="insights-version" label="Version" value={version ? String(version) : ""} onChange={(v) => setFilters({ version: v ? Number(v) : null, compare: null })}>
          <option value="">All versions</option>
          {list.map((v) => (
            <option key={v.version} value={v.version}>Version {v.version}</option>
          ))}
        </Select>
        {version !== null && list.length > 1 && (
          <Select id="insights-compare" label="Compare with" value={compare ? String(compare) : ""} onChange={(v) => setFilters({ compare: v ? Number(v) : null })}>
            <option value="">No comparison</option>
            {list.filter((v) => v.version !== version).map((v) => (
              <option key={v.version} value={v.version}>Version {v.version}</option>
            ))}
          </Select>
        )}
        <span className="ml-auto">
          <CsvButton path={path} filename={`insights-${treeId.replace(/^tree:/, "")}-${range.from}-${range.to}.csv`} />
        </span>
      </section>
      <Freshness figures={main.figures} loading={main.loading} />
      {main.error && !data && <ErrorBox title="The figures could not be loaded">{main.error}</ErrorBox>}
      {data && (
        <>
          {version && compare && other.figures ? (
            <Comparison a={{ version, f: data }} b={{ version: compare, f: other.figures.data }} changed={changed.size} />
          ) : (
            <section aria-label="Totals" className="grid grid-cols-2 gap-3 md:grid-cols-4">
              <Stat label="Sessions" value={String(data.sessions)} hint={`${data.completed} completed, ${data.abandoned} abandoned`} testid="tree-sessions" />
              <Stat label="Success rate" value={percent(successRate(data))} hint={`${data.outcomes.resolved} resolved of ${data.completed} completed`} testid="tree-success" />
              <Stat label="Median time" value={shortDuration(data.duration_ms.p50)} hint="completed sessions" testid="tree-p50" />
              <Stat label="90th percentile" value={shortDuration(data.duration_ms.p90)} hint="9 in 10 finish within" />
            </section>
          )}
          <Card className="p-4 sm:p-5">
            <h2 className="text-lg font-semibold">Where sessions leave the tree</h2>
            <p className="mb-3 text-sm text-slate-600 dark:text-slate-300">
              {shown ? `Version ${shown}${version ? "" : " (the latest) drawn"}; figures ${version ? "of this version" : "of every version"}.` : "No published version yet."}
            </p>
            {tree ? <TreeHeatGraph tree={tree} nodes={data.nodes} changed={changed} /> : doc.error ? <ErrorBox title="The tree could not be loaded">{doc.error}</ErrorBox> : null}
            <NodeTable data={data} title={title} version={version} other={version && compare && other.figures ? { version: compare, data: other.figures.data } : null} />
          </Card>
          <div className="grid gap-6 lg:grid-cols-2">
            <Card className="p-4 sm:p-5">
              <h2 className="mb-3 text-lg font-semibold">Top paths</h2>
              <PathList data={data} title={title} />
            </Card>
            <Card className="p-4 sm:p-5">
              <h2 className="mb-1 text-lg font-semibold">Custom-step hot spots</h2>
              <p className="mb-3 text-sm text-slate-600 dark:text-slate-300">Where engineers add steps of their own: the tree may be missing one there.</p>
              <HotSpots data={data} title={title} treeId={treeId} />
            </Card>
          </div>
        </>
      )}
    </div>
  );
}

function Select({ id, label, value, onChange, children }: { id: string; label: string; value: string; onChange: (v: string) => void; children: ReactNode }) {
  return (
    <label htmlFor={id} className="text-sm font-semibold text-slate-800 dark:text-slate-200">
      {label}
      <select id={id} className={`${inputClass} mt-1 w-auto`} value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </select>
    </label>
  );
}

function Comparison({ a, b, changed }: { a: { version: number; f: TreeFigures }; b: { version: number; f: TreeFigures }; changed: number }) {
  const rows: [string, (f: TreeFigures) => string][] = [
    ["Sessions", (f) => String(f.sessions)],
    ["Success rate", (f) => percent(successRate(f))],
    ["Abandoned", (f) => String(f.abandoned)],
    ["Median time", (f) => shortDuration(f.duration_ms.p50)],
    ["90th percentile", (f) => shortDuration(f.duration_ms.p90)],
  ];
  const [older, newer] = a.version < b.version ? [a, b] : [b, a];
  return (
    <Card className="p-4 sm:p-5">
      <h2 className="mb-2 text-lg font-semibold">Version {older.version} and version {newer.version}</h2>
      <table className="w-full max-w-xl text-sm" data-testid="compare-table">
        <thead className="text-slate-600 dark:text-slate-300">
          <tr>
            <th scope="col" className="py-1 text-left font-semibold">Figure</th>
            <th scope="col" className="py-1 text-right font-semibold">Version {older.version}</th>
            <th scope="col" className="py-1 text-right font-semibold">Version {newer.version}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, get]) => (
            <tr key={label} className="border-t border-slate-100 dark:border-slate-800">
              <th scope="row" className="py-1.5 text-left font-medium">{label}</th>
              <td className="py-1.5 text-right tabular-nums">{get(older.f)}</td>
              <td className="py-1.5 text-right tabular-nums">{get(newer.f)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
        {changed ? `${changed} step${changed === 1 ? "" : "s"} added or changed between them, outlined with dashes on the graph.` : "No step differs between them."}
      </p>
    </Card>
  );
}

function dropCell(n: NodeFigures | undefined): string {
  if (!n) return "–";
  return n.drop_offs ? `${n.drop_offs} (${percent(dropOffRate(n))})` : "0";
}

/** Every step's figures; when two versions are compared, the other version's drop-offs and
 * median time sit beside this one's, step by step. */
function NodeTable({ data, title, version, other }: { data: TreeFigures; title: (id: string) => string; version: number | null; other: { version: number; data: TreeFigures } | null }) {
  const ids = new Set([...Object.keys(data.nodes), ...Object.keys(other?.data.nodes || {})]);
  const zero: NodeFigures = { visits: 0, answers: {}, drop_offs: 0, median_ms: null, back_steps: 0, custom_steps: 0 };
  const rows = [...ids]
    .map((id): [string, NodeFigures] => [id, data.nodes[id] || zero])
    .sort(([a, x], [b, y]) => dropOffRate(y) - dropOffRate(x) || y.visits - x.visits || a.localeCompare(b));
  if (!rows.length) return <p className="mt-3 text-slate-600 dark:text-slate-300">No session reached this tree's steps in these days.</p>;
  const mine = other ? ` (v${version})` : "";
  const theirs = other ? ` (v${other.version})` : "";
  const th = "py-1 pr-3 text-right font-semibold";
  const td = "py-1.5 pr-3 text-right tabular-nums";
  return (
    <details className="mt-4 text-sm" open={rows.length <= 12}>
      <summary className="inline-flex min-h-11 cursor-pointer items-center font-semibold">Every step's figures</summary>
      <div className="overflow-x-auto">
        <table className="w-full min-w-[36rem]" data-testid="node-table">
          <thead className="text-slate-600 dark:text-slate-300">
            <tr>
              <th scope="col" className="py-1 pr-3 text-left font-semibold">Step</th>
              <th scope="col" className={th}>Visits{mine}</th>
              <th scope="col" className={th}>Drop-offs{mine}</th>
              {other && <th scope="col" className={th}>Drop-offs{theirs}</th>}
              <th scope="col" className={th}>Median time{mine}</th>
              {other && <th scope="col" className={th}>Median time{theirs}</th>}
              <th scope="col" className={th}>Stepped back</th>
              <th scope="col" className="py-1 text-right font-semibold">Custom steps</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([id, n]) => (
              <tr key={id} data-node-id={id} className="border-t border-slate-100 dark:border-slate-800">
                <th scope="row" className="py-1.5 pr-3 text-left font-medium">{title(id)}</th>
                <td className={td}>{n.visits}</td>
                <td className={td} data-col="drop">{dropCell(n)}</td>
                {other && <td className={td} data-col="drop-other">{dropCell(other.data.nodes[id])}</td>}
                <td className={td}>{shortDuration(n.median_ms)}</td>
                {other && <td className={td} data-col="median-other">{shortDuration(other.data.nodes[id]?.median_ms ?? null)}</td>}
                <td className={td}>{n.back_steps}</td>
                <td className="py-1.5 text-right tabular-nums">{n.custom_steps}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function PathList({ data, title }: { data: TreeFigures; title: (id: string) => string }) {
  const paths = rankedPaths(data);
  if (!paths.length) return <p className="text-slate-600 dark:text-slate-300">No completed session in these days.</p>;
  return (
    <ol className="space-y-3" data-testid="path-list">
      {paths.map((p, i) => (
        <li key={p.nodes.join(">")} className="flex items-start gap-3" data-path={p.nodes.join(">")}>
          <span className="mt-0.5 inline-flex h-6 w-6 shrink-0 items-center justify-center rounded-full bg-slate-100 text-xs font-semibold dark:bg-slate-800" aria-hidden="true">{i + 1}</span>
          <div className="min-w-0 flex-1">
            <p className="text-sm">{p.nodes.map(title).join(" → ")}</p>
            <div className="mt-1 flex items-center gap-2">
              <span className="h-2 rounded-full bg-indigo-600 dark:bg-indigo-400" style={{ width: `${Math.max(4, p.share * 100)}%` }} aria-hidden="true" />
              <span className="shrink-0 text-xs font-semibold tabular-nums text-slate-700 dark:text-slate-200" data-testid="path-count">
                {p.count} session{p.count === 1 ? "" : "s"} ({percent(p.share)})
              </span>
            </div>
          </div>
        </li>
      ))}
    </ol>
  );
}

function HotSpots({ data, title, treeId }: { data: TreeFigures; title: (id: string) => string; treeId: string }) {
  if (!data.custom_steps.length) return <p className="text-slate-600 dark:text-slate-300">No custom steps in these days.</p>;
  return (
    <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="hot-spots">
      {data.custom_steps.map((c) => (
        <li key={c.node_id} className="flex flex-wrap items-center justify-between gap-2 py-2" data-node-id={c.node_id}>
          <span className="text-sm">
            <span className="block font-medium">{title(c.node_id)}</span>
            <span className="text-slate-600 dark:text-slate-300">{c.count} custom step{c.count === 1 ? "" : "s"} added here</span>
          </span>
          <Link to={`/editor/${encodeURIComponent(treeId)}?node=${encodeURIComponent(c.node_id)}`} className="inline-flex min-h-11 items-center text-sm font-semibold text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300">
            See suggestions in the editor
          </Link>
        </li>
      ))}
    </ul>
  );
}
