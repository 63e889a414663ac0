// "Preview run": walk the draft as an engineer would, with the runner's own step card, and
// see the notes the answers would write. Nothing is saved; no session is created.
import { useMemo, useRef, useState } from "react";
import { fill } from "../shared/fold";
import { StepCard, type TreeNode as RunnerNode } from "../screens/runner/StepCard";
import { Button, identifierField, inputClass } from "../ui/kit";
import { answersOf, type TreeDoc } from "./model";
import type { Problem } from "./validate";
import { useModalFocus } from "../ui/focusTrap";

interface Taken {
  node: string;
  answer: string;
  label: string;
  log: string;
}

const CLIENT = { name: "Preview client", values: {} };

export function PreviewRun({ tree, problems, onClose, onEdit }: { tree: TreeDoc; problems: Problem[]; onClose: () => void; onEdit: (id: string) => void }) {
  const start = typeof tree.start === "string" && tree.start in tree.nodes ? tree.start : null;
  const [path, setPath] = useState<Taken[]>([]);
  const [current, setCurrent] = useState<string | null>(start);
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [value, setValue] = useState("");
  const node = current ? tree.nodes[current] : null;
  const text = (t: unknown) => fill(t, inputs, CLIENT) || "";
  const nodeProblems = useMemo(() => (current ? problems.filter((p) => p.node_id === current) : []), [problems, current]);
  const ref = useRef<HTMLDivElement>(null);
  useModalFocus(ref, onClose);

  const go = (answer: string, label: string, log: string, target: string | null, extra: Record<string, string> = {}) => {
    const nextInputs = { ...inputs, ...extra };
    setInputs(nextInputs);
    setPath([...path, { node: current!, answer, label, log: fill(log, nextInputs, CLIENT) || "" }]);
    setCurrent(target);
    setValue("");
  };
  const back = () => {
    const last = path[path.length - 1];
    if (!last) return;
    setPath(path.slice(0, -1));
    setCurrent(last.node);
  };
  const restart = () => {
    setPath([]);
    setCurrent(start);
    setInputs({});
  };

  let answers = null;
  if (node && node.type !== "resolution") {
    const list = answersOf(node).filter((a) => !(a.optional && !a.target));
    if (node.type === "input") {
      const a = list[0];
      const variable = typeof node.variable === "string" ? node.variable : "value";
      answers = (
        <form
          className="flex flex-col gap-3 sm:flex-row"
          onSubmit={(e) => {
            e.preventDefault();
            go("submitted", value, a.log, a.target && a.target in tree.nodes ? a.target : null, { [variable]: value });
          }}
        >
          <input aria-label="Value" className={inputClass} autoComplete="off" {...identifierField} autoFocus value={value} onChange={(e) => setValue(e.target.value)} placeholder="Type the value" />
          <Button type="submit" tone="primary" className="sm:w-40">
            Continue
          </Button>
        </form>
      );
    } else {
      answers = (
        <div className={`grid gap-2 ${list.length === 2 ? "grid-cols-2" : "grid-cols-1 sm:grid-cols-2"}`}>
          {list.map((a) => (
            <Button key={a.key} tone={a.key === "yes" || a.key === "done" ? "yes" : a.key === "no" || a.key === "failed" ? "no" : "secondary"} className="min-h-12" onClick={() => go(a.key.startsWith("opt:") ? a.label : a.key, a.label, a.log, a.target && a.target in tree.nodes ? a.target : null)}>
              {a.label}
              {!(a.target && a.target in tree.nodes) && <span className="text-xs font-normal opacity-80">(leads nowhere yet)</span>}
            </Button>
          ))}
        </div>
      );
    }
  }

  return (
    <div ref={ref} tabIndex={-1} className="fixed inset-0 z-50 flex items-stretch justify-center bg-slate-900/60 outline-none backdrop-blur-[2px] sm:p-6" role="dialog" aria-modal="true" aria-label="Preview run" data-testid="preview-run">
      <div className="flex w-full max-w-5xl flex-col overflow-hidden bg-slate-50 shadow-2xl sm:rounded-3xl dark:bg-slate-950">
        <div className="flex items-center justify-between gap-2 border-b border-slate-200 bg-white px-4 py-3 dark:border-slate-800 dark:bg-slate-900">
          <div>
            <p className="text-xs font-semibold tracking-wide text-indigo-700 uppercase dark:text-indigo-300">Preview run · draft</p>
            <p className="font-semibold text-slate-900 dark:text-white">{String(tree.title || "Untitled tree")}</p>
          </div>
          <div className="flex gap-2">
            <Button className="!min-h-9 !text-sm" onClick={back} disabled={!path.length}>
              ← Back
            </Button>
            <Button className="!min-h-9 !text-sm" onClick={restart}>
              Restart
            </Button>
            <Button tone="primary" className="!min-h-9 !text-sm" onClick={onClose}>
              Close
            </Button>
          </div>
        </div>
        <div className="grid min-h-0 flex-1 gap-4 overflow-y-auto p-4 lg:grid-cols-[1fr_320px]">
          <div className="space-y-3">
            {!start && <p className="rounded-xl bg-amber-50 p-4 text-amber-900">The tree has no valid first step yet: choose one in the tree settings.</p>}
            {start && current === null && (
              <div className="rounded-3xl border border-amber-300 bg-amber-50 p-6 text-amber-950" data-testid="preview-dead-end">
                <p className="font-semibold">This answer does not lead anywhere yet.</p>
                <p className="mt-1 text-sm">Go back, or close the preview and connect it.</p>
              </div>
            )}
            {node && current && (
              <>
                <StepCard nodeId={current} node={node as unknown as RunnerNode} values={{ inputs, client: CLIENT }} untitled="Untitled step" stepNumber={path.length + 1}>
                  {node.type === "resolution" ? (
                    <div className="space-y-1" data-testid="preview-resolution">
                      <p className="font-semibold text-emerald-700 dark:text-emerald-400">Outcome: {String(node.outcome || "not set")}</p>
                      <p className="text-sm text-slate-600 dark:text-slate-300">{text(node.summary)}</p>
                    </div>
                  ) : (
                    answers
                  )}
                </StepCard>
                {nodeProblems.length > 0 && (
                  <div className="rounded-xl border border-rose-200 bg-rose-50 p-3 text-sm text-rose-900">
                    {nodeProblems.length} problem(s) on this step.{" "}
                    <button type="button" className="font-semibold underline" onClick={() => onEdit(current)}>
                      Edit it
                    </button>
                  </div>
                )}
              </>
            )}
          </div>
          <aside className="rounded-2xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
            <h3 className="text-xs font-bold tracking-wide text-slate-500 uppercase">Notes this run would write</h3>
            {path.length === 0 ? (
              <p className="mt-2 text-sm text-slate-500">Answer the first step.</p>
            ) : (
              <ol className="mt-2 list-decimal space-y-1.5 pl-5 text-sm text-slate-800 dark:text-slate-200" data-testid="preview-notes">
                {path.map((p, i) => (
                  <li key={i}>{p.log || <span className="text-rose-600 italic">(no log sentence for “{p.label}”)</span>}</li>
                ))}
              </ol>
            )}
          </aside>
        </div>
      </div>
    </div>
  );
}
