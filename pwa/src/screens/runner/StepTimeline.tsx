// What happened so far: the effective steps with their log sentences, custom steps in
// place, and what was tried and undone.
import type { SessionState } from "../../shared/fold";

const ANSWER_TONE: Record<string, string> = {
  yes: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  done: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  no: "bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-300",
  failed: "bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-300",
  skipped: "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
};

function Badge({ answer, label }: { answer: string; label: string }) {
  return (
    <span className={`inline-block max-w-full truncate rounded-full px-2 py-0.5 text-xs font-semibold ${ANSWER_TONE[answer] || "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-300"}`}>
      {label}
    </span>
  );
}

export function StepTimeline({ state }: { state: SessionState }) {
  const rows: { key: string; kind: "step" | "custom"; title: string; answer: string; label: string; log: string | null; notes: number }[] = [];
  const customsAt = (i: number) => state.custom_steps.filter((c) => c.after_step === i);
  const pushCustoms = (i: number) => {
    for (const c of customsAt(i)) rows.push({ key: c.event_id, kind: "custom", title: c.text, answer: c.answer, label: c.answer_label, log: c.note, notes: 0 });
  };
  pushCustoms(-1);
  state.path.forEach((s, i) => {
    rows.push({ key: s.event_id, kind: "step", title: s.title || s.node_id, answer: s.answer, label: s.answer_label, log: s.log, notes: (state.notes[s.node_id] || []).length });
    pushCustoms(i);
  });
  if (!rows.length && !state.tried.length) {
    return <p className="text-sm text-slate-500">Your answers appear here as you go.</p>;
  }
  return (
    <div className="space-y-4">
      <ol className="relative space-y-3 border-l-2 border-slate-200 pl-5 dark:border-slate-800" data-testid="timeline">
        {rows.map((r, i) => (
          <li key={r.key} className="relative">
            <span className={`absolute top-1 -left-[27px] flex h-4 w-4 items-center justify-center rounded-full ring-4 ring-slate-50 dark:ring-slate-950 ${r.kind === "custom" ? "bg-amber-400" : "bg-indigo-500"}`} aria-hidden="true" />
            <p className="text-sm font-medium text-slate-900 dark:text-slate-100">
              <span className="text-slate-500 dark:text-slate-400">{i + 1}.</span> {r.kind === "custom" && <span className="text-amber-700 dark:text-amber-400">Custom step: </span>}
              {r.title}
            </p>
            <div className="mt-1 flex flex-wrap items-center gap-2">
              <Badge answer={r.answer} label={r.label} />
              {r.notes > 0 && <span className="text-xs text-slate-500">{r.notes} note{r.notes === 1 ? "" : "s"}</span>}
            </div>
            {r.log && <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">{r.log}</p>}
          </li>
        ))}
      </ol>
      {state.tried.length > 0 && (
        <details className="rounded-xl bg-slate-100 px-3 py-2 text-sm dark:bg-slate-800/60">
          <summary className="min-h-11 cursor-pointer py-2.5 font-semibold text-slate-600 dark:text-slate-300">Tried and undone ({state.tried.length})</summary>
          <ul className="space-y-1.5 pb-2">
            {state.tried.map((t) => (
              <li key={t.event_id} className="text-slate-500 line-through decoration-slate-400">
                {t.kind === "custom" ? t.text : t.title} — {t.answer_label}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
