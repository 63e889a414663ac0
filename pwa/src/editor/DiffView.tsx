// A readable diff of two trees on screen: tree details, added and removed steps, and each
// changed step field by field with the changed words marked. Shared by the version history
// and the reviewer's view (which puts each step's review comments under it).
import { useMemo, type ReactNode } from "react";
import { Card } from "../ui/kit";
import { textDiff, type FieldChange, type TextPart, type TreeDiff } from "./diff";

/** One side of a changed text: what stayed as it was, with the words that went (old side)
 * or came (new side) marked, so a one-word edit in a long body is seen at a glance. */
function Marked({ parts, side }: { parts: TextPart[]; side: "del" | "add" }) {
  return (
    <>
      {parts.map((p, i) =>
        p.op === "same" ? (
          <span key={i}>{p.text}</span>
        ) : p.op !== side ? null : side === "del" ? (
          <del key={i} className="rounded-sm bg-rose-200 text-rose-950 decoration-rose-500 dark:bg-rose-800/70 dark:text-rose-50">
            {p.text}
          </del>
        ) : (
          <ins key={i} className="rounded-sm bg-emerald-200 text-emerald-950 no-underline dark:bg-emerald-800/70 dark:text-emerald-50">
            {p.text}
          </ins>
        ),
      )}
    </>
  );
}

function Change({ c }: { c: FieldChange }) {
  const parts = useMemo(() => (c.old !== null && c.new !== null ? textDiff(c.old, c.new) : null), [c.old, c.new]);
  return (
    <div className="grid gap-1 py-1.5 text-sm sm:grid-cols-[150px_1fr_1fr] sm:gap-3" data-testid="diff-field" data-field={c.field}>
      <span className="font-mono text-xs font-semibold text-slate-500">{c.field}</span>
      <span className={`block rounded-md bg-rose-50 px-2 py-1 break-words whitespace-pre-wrap text-rose-900 dark:bg-rose-950/40 dark:text-rose-200 ${parts ? "" : "line-through decoration-rose-300"}`} data-side="old">
        {parts ? <Marked parts={parts} side="del" /> : (c.old ?? <i className="no-underline">(none)</i>)}
      </span>
      <span className="block rounded-md bg-emerald-50 px-2 py-1 break-words whitespace-pre-wrap text-emerald-900 dark:bg-emerald-950/40 dark:text-emerald-200" data-side="new">
        {parts ? <Marked parts={parts} side="add" /> : (c.new ?? <i>(none)</i>)}
      </span>
    </div>
  );
}

type Step = TreeDiff["added"][number];

/** The added or the removed steps, one line each (nothing when there are none). */
function StepList({ kind, nodes, nodeExtra }: { kind: "added" | "removed"; nodes: Step[]; nodeExtra?: (id: string) => ReactNode }) {
  if (!nodes.length) return null;
  const heading = kind === "added" ? "text-emerald-700 dark:text-emerald-400" : "text-rose-700 dark:text-rose-400";
  return (
    <Card className="p-4">
      <h2 className={`mb-2 font-semibold ${heading}`}>
        {kind === "added" ? "Added" : "Removed"} steps ({nodes.length})
      </h2>
      <ul className="space-y-1 text-sm" data-testid={`diff-${kind}`}>
        {nodes.map((n) => (
          <li key={n.id} data-node={n.id}>
            <span className="font-semibold">{n.title}</span> <span className="text-slate-500">· {n.type} · {n.id}</span>
            {nodeExtra?.(n.id)}
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** The diff; `nodeExtra(id)` is shown under a step (added, removed or changed), e.g. its comments. */
export function DiffList({ diff, nodeExtra }: { diff: TreeDiff; nodeExtra?: (id: string) => ReactNode }) {
  return (
    <div className="space-y-3" data-testid="diff">
      {diff.same && <p className="rounded-xl bg-slate-100 p-4 text-sm text-slate-600 dark:bg-slate-800 dark:text-slate-300">No differences (apart from layout).</p>}
      {diff.tree.length > 0 && (
        <Card className="p-4">
          <h2 className="mb-1 font-semibold">Tree details</h2>
          {diff.tree.map((c, i) => (
            <Change key={i} c={c} />
          ))}
        </Card>
      )}
      <StepList kind="added" nodes={diff.added} nodeExtra={nodeExtra} />
      <StepList kind="removed" nodes={diff.removed} nodeExtra={nodeExtra} />
      {diff.changed.map((n) => (
        <Card key={n.id} className="p-4">
          <div data-node={n.id}>
            <h2 className="mb-1 font-semibold" data-testid="diff-changed">
              Changed: {n.title} <span className="text-sm font-normal text-slate-500">· {n.id}</span>
            </h2>
            <div className="divide-y divide-slate-100 dark:divide-slate-800">
              {n.changes.map((c, i) => (
                <Change key={i} c={c} />
              ))}
            </div>
            {nodeExtra?.(n.id)}
          </div>
        </Card>
      ))}
    </div>
  );
}
