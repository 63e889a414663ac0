// The arithmetic behind what the dashboard shows, as small pure functions: rates, the
// sessions-over-time series, drop-off bands and ranked paths. The server answers raw counts
// (api/insights); the words and percentages a lead reads are made here.

export interface Outcomes {
  resolved: number;
  escalated: number;
  unresolved: number;
}
export interface Summary {
  sessions: number;
  completed: number;
  abandoned: number;
  in_progress: number;
  outcomes: Outcomes;
  duration_ms: { p50: number | null; p90: number | null };
}
export interface TreeRow extends Summary {
  tree_id: string;
}
export interface EngineerRow extends Summary {
  user_id: string;
}
export interface DayCount {
  day: string;
  sessions: number;
  completed: number;
  resolved: number;
}
export interface Overview {
  trees: TreeRow[];
  engineers: EngineerRow[];
  days?: DayCount[];
}
export interface NodeFigures {
  visits: number;
  answers: Record<string, number>;
  drop_offs: number;
  median_ms: number | null;
  back_steps: number;
  custom_steps: number;
}
export interface TreeFigures extends Summary {
  tree_id: string;
  version: number | null;
  scope: "tenant" | "mine";
  nodes: Record<string, NodeFigures>;
  paths: { resolution: string; nodes: string[]; count: number }[];
  custom_steps: { node_id: string; count: number }[];
}

/** Resolved among completed sessions (abandoned ones never completed), or null with none. */
export function successRate(s: Pick<Summary, "completed" | "outcomes">): number | null {
  return s.completed ? s.outcomes.resolved / s.completed : null;
}

export function percent(rate: number | null): string {
  return rate === null ? "–" : `${Math.round(rate * 100)}%`;
}

/** Sessions that left the tree at a node, among the times the node was reached. */
export function dropOffRate(n: Pick<NodeFigures, "visits" | "drop_offs">): number {
  return n.visits ? Math.min(1, n.drop_offs / n.visits) : 0;
}

export type Band = "none" | "low" | "mid" | "high";

/** The drop-off band a node is drawn in; every band also has its own pattern and the number. */
export function band(rate: number): Band {
  if (rate <= 0) return "none";
  if (rate < 0.1) return "low";
  if (rate < 0.25) return "mid";
  return "high";
}

export const BAND_LABEL: Record<Band, string> = {
  none: "No drop-off",
  low: "Under 10%",
  mid: "10–25%",
  high: "25% or more",
};

const DAY_MS = 86_400_000;

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** The dashboard's opening range: the last 30 days, today included. */
export function defaultRange(now = Date.now()): { from: string; to: string } {
  return { from: isoDay(now - 29 * DAY_MS), to: isoDay(now) };
}

export function rangeQuery(from: string, to: string): string {
  return `from=${from}&to=${to}`;
}

export interface Bucket {
  /** First day of the bucket (a day, or the Monday of a week). */
  start: string;
  sessions: number;
  resolved: number;
}

/** The chart's series from `from` to `to` (days, inclusive): one bar per day, or per week
 * (from Monday) past 62 days, so a quarter still reads; empty days count zero. */
export function series(days: DayCount[], from: string, to: string): { unit: "day" | "week"; buckets: Bucket[] } {
  const start = dayMs(from);
  const end = dayMs(to);
  if (!(end >= start)) return { unit: "day", buckets: [] };
  const unit = (end - start) / DAY_MS + 1 > 62 ? "week" : "day";
  const keyOf = (ms: number) => (unit === "day" ? ms : ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY_MS);
  const buckets = new Map<number, Bucket>();
  for (let ms = keyOf(start); ms <= end; ms += unit === "day" ? DAY_MS : 7 * DAY_MS) {
    buckets.set(ms, { start: isoDay(ms), sessions: 0, resolved: 0 });
  }
  for (const d of days) {
    const ms = dayMs(d.day);
    const b = ms >= start && ms <= end ? buckets.get(keyOf(ms)) : undefined;
    if (!b) continue;
    b.sessions += d.sessions;
    b.resolved += d.resolved;
  }
  return { unit, buckets: [...buckets.values()] };
}

export type SortKey = "name" | "sessions" | "success" | "p50" | "p90";

/** Rows sorted by a column; unknown values (no completed session) last either way, then by name. */
export function sortRows<T extends Summary>(rows: T[], key: SortKey, desc: boolean, name: (r: T) => string): T[] {
  const value = (r: T): number | string | null => {
    if (key === "name") return name(r).toLowerCase();
    if (key === "sessions") return r.sessions;
    if (key === "success") return successRate(r);
    return r.duration_ms[key];
  };
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) return va === vb ? name(a).localeCompare(name(b)) : va === null ? 1 : -1;
    const c = va < vb ? -1 : va > vb ? 1 : 0;
    return (desc ? -c : c) || name(a).localeCompare(name(b));
  });
}

/** The top paths across resolutions, ranked by count, each with its share of completed sessions. */
export function rankedPaths(f: Pick<TreeFigures, "paths" | "completed">, n = 8): { nodes: string[]; count: number; share: number }[] {
  return [...f.paths]
    .sort((a, b) => b.count - a.count || a.nodes.join(">").localeCompare(b.nodes.join(">")))
    .slice(0, n)
    .map((p) => ({ nodes: p.nodes, count: p.count, share: f.completed ? p.count / f.completed : 0 }));
}

/** A duration for a table cell: "42 s", "3 min 5 s", "1 h 12 min"; "–" when unknown. */
export function shortDuration(ms: number | null): string {
  if (ms === null) return "–";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export interface Filters {
  from: string;
  to: string;
  client: string;
  version: number | null;
  compare: number | null;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function positive(v: string | null): number | null {
  const n = Number(v);
  return v && Number.isInteger(n) && n > 0 ? n : null;
}

/** The filters an address names (`?from=&to=&client=&version=&compare=`), the opening range
 * for what it leaves out or gets wrong: a shared or reloaded link shows the same figures. */
export function filtersFrom(search: string, now = Date.now()): Filters {
  const q = new URLSearchParams(search);
  const range = defaultRange(now);
  const from = q.get("from") || "";
  const to = q.get("to") || "";
  const version = positive(q.get("version"));
  const compare = version ? positive(q.get("compare")) : null;
  return {
    from: DAY.test(from) ? from : range.from,
    to: DAY.test(to) ? to : range.to,
    client: q.get("client") || "",
    version,
    compare: compare !== version ? compare : null,
  };
}

/** The address's query for `f`: only what differs from an unfiltered view, dates always. */
export function filtersQuery(f: Filters): string {
  const q = new URLSearchParams({ from: f.from, to: f.to });
  if (f.client) q.set("client", f.client);
  if (f.version) q.set("version", String(f.version));
  if (f.version && f.compare) q.set("compare", String(f.compare));
  return q.toString();
}
