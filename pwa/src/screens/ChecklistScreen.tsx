// "Print checklist": a tree's latest published version as a paper checklist, one printed page
// per branch, each step a box to tick with the answers leading on. Built on the device from the
// synced tree (src/shared/checklist.ts, the twin of the server's layout), so it works offline
// in a server room; the server prints the same at GET /api/v1/trees/{id}/checklist.
import { useMemo } from "react";
import { useTreeVersion } from "../data/hooks";
import { checklistLayout, gotoText, type ChecklistStep } from "../shared/checklist";
import { Button, ErrorBox, Link, Loading } from "../ui/kit";
import { Markdown } from "../ui/Markdown";

function Box({ round = false }: { round?: boolean }) {
  return <span aria-hidden="true" className={`mt-[0.2em] inline-block shrink-0 border-[1.5px] border-current ${round ? "h-3 w-3 rounded-full" : "h-4 w-4 rounded-sm"}`} />;
}

function Step({ s, page }: { s: ChecklistStep; page: number }) {
  return (
    <li className="break-inside-avoid" data-testid="checklist-step" data-node-id={s.node_id}>
      <p className="flex gap-2 font-semibold text-slate-900 dark:text-white print:text-black">
        <Box />
        <span>
          {s.number}. {s.title}
        </span>
      </p>
      {/* Authors write Markdown; it prints formatted here (the server's page prints it as text). */}
      <Markdown text={s.text} className="mt-0.5 ml-6 space-y-1 text-sm text-slate-600 dark:text-slate-400 print:text-slate-700" />
      {s.type === "resolution" && <p className="mt-0.5 ml-6 text-sm italic">End: {String(s.outcome || "resolved")}.</p>}
      {s.answers.length > 0 && (
        <ul className="mt-1 ml-6 space-y-0.5 text-sm">
          {s.answers.map((a) => (
            <li key={a.answer} className="flex gap-1.5">
              <Box round />
              <span>
                {s.type === "input" ? (
                  <>
                    {s.variable || "Value"}: <span className="inline-block min-w-40 border-b border-current" /> →{" "}
                  </>
                ) : (
                  `${a.label} → `
                )}
                {gotoText(a.to, s.number, page)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

export default function ChecklistScreen({ treeId }: { treeId: string }) {
  const tree = useTreeVersion(treeId);
  const version = tree.data?.version;
  const layout = useMemo(() => (version ? checklistLayout(version.tree) : null), [version]);
  if (tree.loading) return <Loading />;
  if (!layout || !version) {
    return (
      <ErrorBox title="This tree is not on this device">
        It may not be published, or the library has not finished downloading. <Link to="/" className="font-semibold underline">Back to the library</Link>
      </ErrorBox>
    );
  }
  const total = layout.pages.length;
  return (
    <div className="mx-auto max-w-3xl space-y-5 print:max-w-none print:space-y-0">
      <div className="flex flex-wrap items-center justify-between gap-2 print:hidden">
        <Link to={`/start/${encodeURIComponent(treeId)}`} className="inline-flex min-h-11 items-center text-sm font-semibold text-slate-600 hover:text-slate-900 dark:text-slate-300">
          ← {layout.title}
        </Link>
        <Button tone="primary" onClick={() => window.print()}>
          Print
        </Button>
      </div>
      <p className="text-sm text-slate-600 print:hidden dark:text-slate-400">
        One printed page per branch: the start, then each answer of the first decision. Each step is printed once; other answers refer to it by number.
      </p>
      {layout.pages.map((p) => (
        <section key={p.number} data-testid="checklist-page" className={`rounded-2xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900 print:rounded-none print:border-0 print:bg-white print:p-0 print:shadow-none ${p.number > 1 ? "print:break-before-page" : ""}`}>
          <p className="text-xs text-slate-500 print:text-slate-700">
            {layout.title} · checklist, version {String(version.version)} · page {p.number} of {total}
          </p>
          <h2 className="mt-1 mb-3 border-b border-slate-300 pb-1 text-lg font-semibold text-slate-900 break-after-avoid dark:text-white print:text-black">{p.title}</h2>
          <ol className="space-y-3">
            {p.steps.map((s) => (
              <Step key={s.node_id} s={s} page={p.number} />
            ))}
          </ol>
        </section>
      ))}
      {layout.unreachable.length > 0 && <p className="text-sm text-slate-500">Not printed (no path from the start reaches them): {layout.unreachable.join(", ")}.</p>}
    </div>
  );
}
