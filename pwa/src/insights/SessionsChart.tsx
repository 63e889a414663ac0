// Sessions over time as an SVG bar chart. Hand-written rather than a chart library, measured
// (gzip -9 of each package's browser bundle): Recharts 3.11 is 182 KB (it brings Redux
// Toolkit, Immer and d3 along), Chart.js 4.6 71 KB, uPlot 1.6 22 KB, and the last two draw
// on a canvas that a screen reader cannot read. This chart and the tree's graph are a few KB
// of SVG inside the dashboard's own lazy chunks, and accessible as they stand: role="img"
// with a text summary, and the same figures in a table for anyone who prefers numbers.
import { useLayoutEffect, useRef, useState, type RefObject } from "react";
import type { Bucket } from "./figures";

const H = 190;
const PAD = { left: 36, right: 8, top: 12, bottom: 26 };

/** The axis top: even below ten, so the middle gridline falls on a whole session. */
function niceMax(n: number): number {
  if (n <= 1) return 2;
  if (n < 10) return n + (n % 2);
  const step = 10 ** Math.floor(Math.log10(n));
  return Math.ceil(n / step) * step;
}

function label(start: string, unit: "day" | "week"): string {
  const d = new Date(`${start}T00:00:00Z`);
  const text = d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  return unit === "week" ? `week of ${text}` : text;
}

/** The width the chart is drawn at: its box's, so labels keep their size on a phone rather
 * than a wide drawing being scaled down until its text is unreadable. */
function useWidth(): [RefObject<HTMLElement | null>, number] {
  const ref = useRef<HTMLElement | null>(null);
  const [width, setWidth] = useState(720);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(280, Math.round(el.clientWidth)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

export function SessionsChart({ buckets, unit }: { buckets: Bucket[]; unit: "day" | "week" }) {
  const [ref, W] = useWidth();
  const total = buckets.reduce((a, b) => a + b.sessions, 0);
  const resolved = buckets.reduce((a, b) => a + b.resolved, 0);
  const busiest = buckets.reduce<Bucket | null>((a, b) => (!a || b.sessions > a.sessions ? b : a), null);
  const max = niceMax(busiest?.sessions ?? 0);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = buckets.length ? plotW / buckets.length : plotW;
  const bar = Math.max(1, Math.min(28, slot * 0.7));
  const y = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const ticks = buckets.length ? [0, Math.floor((buckets.length - 1) / 2), buckets.length - 1] : [];
  const summary =
    `${total} session${total === 1 ? "" : "s"} (${resolved} resolved) over ${buckets.length} ${unit}${buckets.length === 1 ? "" : "s"}` +
    (busiest && busiest.sessions ? `; busiest ${label(busiest.start, unit)} with ${busiest.sessions}.` : ".");
  return (
    <figure ref={ref}>
      <svg viewBox={`0 0 ${W} ${H}`} className="h-auto w-full" role="img" aria-label={`Sessions per ${unit}: ${summary}`} data-testid="sessions-chart">
        {[0, max / 2, max].map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} className="stroke-slate-200 dark:stroke-slate-700" strokeWidth="1" />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end" className="fill-slate-600 text-[11px] dark:fill-slate-300">
              {v}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => {
          const x = PAD.left + i * slot + (slot - bar) / 2;
          return (
            <g key={b.start}>
              <title>{`${label(b.start, unit)}: ${b.sessions} sessions, ${b.resolved} resolved`}</title>
              {b.sessions > 0 && <rect x={x} y={y(b.sessions)} width={bar} height={y(0) - y(b.sessions)} rx="2" className="fill-indigo-300 dark:fill-indigo-500" />}
              {b.resolved > 0 && <rect x={x + bar * 0.2} y={y(b.resolved)} width={bar * 0.6} height={y(0) - y(b.resolved)} className="fill-emerald-700 dark:fill-emerald-400" />}
            </g>
          );
        })}
        {ticks.map((i) => (
          <text key={i} x={PAD.left + i * slot + slot / 2} y={H - 8} textAnchor={i === 0 ? "start" : i === buckets.length - 1 ? "end" : "middle"} className="fill-slate-600 text-[11px] dark:fill-slate-300">
            {label(buckets[i].start, unit)}
          </text>
        ))}
      </svg>
      <figcaption className="mt-2 flex flex-wrap items-center gap-x-4 gap-y-1 text-sm text-slate-600 dark:text-slate-300">
        <span className="inline-flex items-center gap-1.5"><span className="inline-block h-3 w-4 rounded-sm bg-indigo-300 dark:bg-indigo-500" aria-hidden="true" />Sessions started (wide bar)</span>
        <span className="inline-flex items-center gap-1.5"><span className="inline-block h-3 w-2 bg-emerald-700 dark:bg-emerald-400" aria-hidden="true" />Resolved (narrow bar)</span>
        <span>{summary}</span>
      </figcaption>
      <details className="mt-2 text-sm">
        <summary className="inline-flex min-h-11 cursor-pointer items-center font-semibold text-indigo-700 dark:text-indigo-300">Show the figures as a table</summary>
        <table className="mt-2 w-full max-w-md text-left">
          <thead>
            <tr className="text-slate-600 dark:text-slate-300">
              <th scope="col" className="py-1 pr-3 font-semibold">{unit === "day" ? "Day" : "Week of"}</th>
              <th scope="col" className="py-1 pr-3 text-right font-semibold">Sessions</th>
              <th scope="col" className="py-1 text-right font-semibold">Resolved</th>
            </tr>
          </thead>
          <tbody>
            {buckets.map((b) => (
              <tr key={b.start} className="border-t border-slate-100 dark:border-slate-800">
                <td className="py-1 pr-3">{b.start}</td>
                <td className="py-1 pr-3 text-right tabular-nums">{b.sessions}</td>
                <td className="py-1 text-right tabular-nums">{b.resolved}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
