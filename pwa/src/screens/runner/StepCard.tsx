// The current step: what to check or do, why, where to read more, commands to copy.
import { useState, type ReactNode } from "react";
import { Markdown } from "../../ui/Markdown";
import { CopyButton } from "../../ui/kit";

export interface TreeNode {
  type: "question" | "choice" | "action" | "input" | "resolution";
  title?: string;
  body?: string;
  help?: string;
  links?: { title: string; url: string }[];
  commands?: { language?: string; text: string }[];
  options?: { id: string; label: string; next?: string }[];
  variable?: string;
  outcome?: string;
  summary?: string;
  root_cause?: string;
  handover?: unknown;
  next?: unknown;
}

export const TYPE_LABEL: Record<string, string> = {
  question: "Question",
  choice: "Choose one",
  action: "Action",
  input: "Record a value",
  resolution: "Resolution",
};

export function CommandBlock({ language, text }: { language?: string; text: string }) {
  return (
    <div className="overflow-hidden rounded-xl bg-slate-900 text-slate-100 ring-1 ring-slate-800">
      <div className="flex items-center justify-between border-b border-white/10 pl-3.5">
        <span className="font-mono text-xs tracking-wide text-slate-400 uppercase">{language || "command"}</span>
        <CopyButton text={text} label="Copy" />
      </div>
      {/* A long command scrolls sideways; the block takes focus so a keyboard can scroll it too. */}
      <pre tabIndex={0} className="overflow-x-auto px-3.5 py-3 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-400 font-mono text-[13px] leading-relaxed whitespace-pre">{text}</pre>
    </div>
  );
}

export function StepCard({ nodeId, node, title, body, stepNumber, children }: { nodeId: string; node: TreeNode; title: string; body: string | null; stepNumber: number; children?: ReactNode }) {
  // On a phone the answers stay under the thumb while the step scrolls, unless a long list
  // of choices would cover the step itself.
  const sticky = node.type !== "resolution" && (node.type !== "choice" || (node.options?.length ?? 0) <= 4);
  const [helpOpen, setHelpOpen] = useState(false);
  return (
    <article className="min-w-0 rounded-3xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-labelledby="step-title" data-testid="step-card" data-node-type={node.type} data-node-id={nodeId}>
      <div className="space-y-4 p-5 sm:p-7">
        <p className="flex items-center gap-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">
          <span className="rounded-full bg-indigo-50 px-2.5 py-1 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300">{TYPE_LABEL[node.type] || node.type}</span>
          {node.type !== "resolution" && <span>Step {stepNumber}</span>}
        </p>
        <h2 id="step-title" tabIndex={-1} className="outline-none text-[22px] leading-snug font-semibold tracking-tight text-slate-900 sm:text-2xl dark:text-white">
          {title}
        </h2>
        {body && <Markdown text={body} className="text-[16px] text-slate-700 dark:text-slate-300" />}
        {!!node.commands?.length && (
          <div className="space-y-3">
            {node.commands.map((c, i) => (
              <CommandBlock key={i} language={c.language} text={c.text} />
            ))}
          </div>
        )}
        {(node.help || node.links?.length) && (
          <div className="rounded-2xl bg-slate-50 dark:bg-slate-800/60">
            {node.help && (
              <>
                <button
                  type="button"
                  aria-expanded={helpOpen}
                  onClick={() => setHelpOpen((o) => !o)}
                  className="flex min-h-11 w-full items-center justify-between px-4 text-left text-sm font-semibold text-slate-700 dark:text-slate-200"
                >
                  Why this step matters
                  <span aria-hidden="true" className={`transition-transform ${helpOpen ? "rotate-180" : ""}`}>
                    ▾
                  </span>
                </button>
                {helpOpen && <Markdown text={node.help} className="px-4 pb-4 text-sm text-slate-600 dark:text-slate-300" />}
              </>
            )}
            {!!node.links?.length && (
              <ul className={`space-y-1 px-4 pb-3 text-sm ${node.help ? "" : "pt-3"}`}>
                {node.links.map((l, i) => (
                  <li key={i}>
                    <a href={l.url} target="_blank" rel="noreferrer" className="inline-flex min-h-11 items-center gap-1.5 font-medium text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300">
                      <span aria-hidden="true">↗</span> {l.title}
                    </a>
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
      {children && (
        <div className={`${sticky ? "sticky bottom-0 z-10 shadow-[0_-6px_16px_-8px_rgba(15,23,42,0.15)]" : ""} rounded-b-3xl border-t border-slate-200 bg-white/95 p-3 pb-[max(0.75rem,env(safe-area-inset-bottom))] backdrop-blur sm:static sm:border-slate-100 sm:p-5 sm:shadow-none dark:border-slate-800 dark:bg-slate-900/95`}>
          {children}
        </div>
      )}
    </article>
  );
}
