// The tree's graph (the editor's own layout) with each step coloured by how many sessions
// left the tree there, and labelled with that rate and the median time spent at the step.
// Colour is never the only signal: each band has its own pattern on the card's edge, and the
// card says the number. The node table below the graph carries the same figures as text.
import { useMemo } from "react";
import { layout, NODE_W, nodeHeight, edgesOf, type TreeDoc } from "../editor/model";
import { band, BAND_LABEL, dropOffRate, percent, shortDuration, type Band, type NodeFigures } from "./figures";

const CARD_FILL: Record<Band, string> = {
  none: "fill-white dark:fill-slate-800",
  low: "fill-amber-50 dark:fill-amber-950",
  mid: "fill-orange-100 dark:fill-orange-950",
  high: "fill-rose-200 dark:fill-rose-950",
};
const PATTERN: Record<Band, string | null> = { none: null, low: "bl-dots", mid: "bl-stripes", high: "bl-hatch" };
const STRIP = 14;

function Patterns() {
  return (
    <defs>
      <pattern id="bl-dots" width="6" height="6" patternUnits="userSpaceOnUse">
        <circle cx="3" cy="3" r="1.3" className="fill-amber-800 dark:fill-amber-300" />
      </pattern>
      <pattern id="bl-stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
        <rect width="3" height="6" className="fill-orange-800 dark:fill-orange-300" />
      </pattern>
      <pattern id="bl-hatch" width="6" height="6" patternUnits="userSpaceOnUse">
        <path d="M0 0L6 6M6 0L0 6" strokeWidth="1.6" className="stroke-rose-900 dark:stroke-rose-200" />
      </pattern>
    </defs>
  );
}

function clip(text: string, n = 30): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

export function TreeHeatGraph({ tree, nodes, changed }: { tree: TreeDoc; nodes: Record<string, NodeFigures>; changed: Set<string> }) {
  const placed = useMemo(() => {
    const at = layout(tree);
    const xs = Object.values(at);
    const minX = Math.min(...xs.map((p) => p.x)) - 10;
    const minY = Math.min(...xs.map((p) => p.y)) - 10;
    const maxX = Math.max(...xs.map((p) => p.x)) + NODE_W + 10;
    const maxY = Math.max(...Object.entries(at).map(([id, p]) => p.y + nodeHeight(tree.nodes[id]))) + 10;
    return { at, box: { x: minX, y: minY, w: maxX - minX, h: maxY - minY } };
  }, [tree]);
  const { at, box } = placed;
  const ids = Object.keys(tree.nodes);
  if (!ids.length) return null;
  const worst = ids.map((id) => ({ id, rate: nodes[id] ? dropOffRate(nodes[id]) : 0 })).sort((a, b) => b.rate - a.rate)[0];
  const label =
    `The tree's ${ids.length} steps coloured by drop-off.` +
    (worst && worst.rate > 0 ? ` Most sessions leave at “${String(tree.nodes[worst.id]?.title || worst.id)}” (${percent(worst.rate)}).` : " No session left the tree part-way.") +
    " The table below lists every step's figures.";
  return (
    <div>
      <div className="max-h-[48rem] overflow-auto rounded-xl border border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-950" tabIndex={0} role="group" aria-label="Tree graph, scrollable">
        <svg width={box.w} height={box.h} viewBox={`${box.x} ${box.y} ${box.w} ${box.h}`} role="img" aria-label={label} data-testid="heat-graph" className="mx-auto block max-w-none">
          <Patterns />
          {edgesOf(tree).map((e) => {
            const s = at[e.from];
            const t = at[e.to];
            if (!s || !t || e.from === e.to) return null;
            const x1 = s.x + NODE_W / 2;
            const y1 = s.y + nodeHeight(tree.nodes[e.from]);
            const x2 = t.x + NODE_W / 2;
            const y2 = t.y;
            const mid = (y1 + y2) / 2;
            return <path key={`${e.from}:${e.key}`} d={`M${x1} ${y1} C${x1} ${mid} ${x2} ${mid} ${x2} ${y2}`} fill="none" strokeWidth="1.5" className="stroke-slate-400 dark:stroke-slate-500" />;
          })}
          {ids.map((id) => {
            const p = at[id];
            const node = tree.nodes[id];
            const f = nodes[id];
            const rate = f ? dropOffRate(f) : 0;
            const b = band(rate);
            const h = nodeHeight(node);
            const pattern = PATTERN[b];
            const isChanged = changed.has(id);
            return (
              <g key={id} data-node-id={id} data-band={b} transform={`translate(${p.x} ${p.y})`}>
                <rect width={NODE_W} height={h} rx="10" className={`${CARD_FILL[b]} ${isChanged ? "stroke-indigo-700 dark:stroke-indigo-300" : "stroke-slate-300 dark:stroke-slate-600"}`} strokeWidth={isChanged ? 2.5 : 1} strokeDasharray={isChanged ? "6 4" : undefined} />
                {pattern && <rect x="1" y="1" width={STRIP} height={h - 2} rx="9" fill={`url(#${pattern})`} />}
                <text x={STRIP + 10} y="24" className="fill-slate-900 text-[13px] font-semibold dark:fill-white">{clip(String(node?.title || id))}</text>
                <text x={STRIP + 10} y="46" className="fill-slate-800 text-[12px] dark:fill-slate-100" data-testid="node-drop">
                  {f && f.drop_offs ? `Drop-off ${percent(rate)} (${f.drop_offs} of ${f.visits})` : "No drop-off"}
                </text>
                <text x={STRIP + 10} y="66" className="fill-slate-800 text-[12px] dark:fill-slate-100" data-testid="node-time">
                  {f ? `Median ${shortDuration(f.median_ms)} · ${f.visits} visit${f.visits === 1 ? "" : "s"}` : "Not reached"}
                </text>
                {isChanged && (
                  <text x={NODE_W - 10} y="86" textAnchor="end" className="fill-indigo-800 text-[11px] font-semibold dark:fill-indigo-200">
                    Changed
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <ul className="mt-3 flex flex-wrap gap-x-5 gap-y-2 text-sm text-slate-700 dark:text-slate-200" aria-label="Legend">
        {(["none", "low", "mid", "high"] as Band[]).map((b) => (
          <li key={b} className="inline-flex items-center gap-2">
            <svg width="30" height="18" aria-hidden="true">
              <rect x="0.5" y="0.5" width="29" height="17" rx="4" className={`${CARD_FILL[b]} stroke-slate-400`} />
              {PATTERN[b] && <rect x="1" y="1" width="10" height="16" rx="3" fill={`url(#${PATTERN[b]})`} />}
            </svg>
            {BAND_LABEL[b]}
          </li>
        ))}
        {changed.size > 0 && (
          <li className="inline-flex items-center gap-2">
            <svg width="30" height="18" aria-hidden="true">
              <rect x="1" y="1" width="28" height="16" rx="4" fill="none" strokeWidth="2" strokeDasharray="5 3" className="stroke-indigo-700 dark:stroke-indigo-300" />
            </svg>
            Changed in the compared version
          </li>
        )}
      </ul>
    </div>
  );
}
