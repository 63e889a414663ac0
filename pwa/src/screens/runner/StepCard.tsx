// The current step: what to check or do, why, where to read more, commands to copy.
// Every piece of tree text on it is filled with the session's values by the one filler the
// exports use, so a command shows, copies and is recorded as the same text; a value not
// entered yet shows as a marked gap, never as raw braces.
import { useState, type ReactNode } from "react";
import { commandText } from "../../shared/export";
import { fill, fillParts, type FilledPart } from "../../shared/fold";
import { Markdown } from "../../ui/Markdown";
import { CopyButton } from "../../ui/kit";
import { AnswerTray } from "./AnswerTray";

export interface TreeNode {
  type: "question" | "choice" | "action" | "input" | "resolution";
  title?: string;
  body?: string;
  help?: string;
  links?: { title: string; url: string }[];
  commands?: { language?: string; text: string }[];
  warning?: string | null;
  options?: { id: string; label: string; next?: string }[];
  variable?: string;
  outcome?: string;
  summary?: string;
  root_cause?: string;
  verification?: string | null;
  handover?: unknown;
  next?: unknown;
  script?: { id: string; parameters?: Record<string, string> } | null;
}

export const TYPE_LABEL: Record<string, string> = {
  question: "Question",
  choice: "Choose one",
  action: "Action",
  input: "Record a value",
  resolution: "Resolution",
};

/** The values a step's text is filled with: the inputs committed so far and the client. */
export interface StepValues {
  inputs: Record<string, unknown>;
  client: Record<string, unknown>;
}

/** Filled text with every gap marked, so the engineer sees what is still missing. */
export function Filled({ parts }: { parts: FilledPart[] }) {
  return (
    <>
      {parts.map((p, i) =>
        p.gap ? (
          <mark key={i} data-gap="" className="rounded bg-amber-100 px-1 text-amber-900 ring-1 ring-amber-400 ring-inset dark:bg-amber-900/60 dark:text-amber-100">
            {p.text}
          </mark>
        ) : (
          p.text
        ),
      )}
    </>
  );
}

export function CommandBlock({ language, text, values }: { language?: string; text: string; values: StepValues }) {
  const parts = fillParts(text, values.inputs, values.client);
  return (
    <div className="overflow-hidden rounded-xl bg-slate-900 text-slate-100 ring-1 ring-slate-800" data-testid="command">
      <div className="flex items-center justify-between border-b border-white/10 pl-3.5">
        <span className="font-mono text-xs tracking-wide text-slate-400 uppercase">{language || "command"}</span>
        {/* Exactly what the export will list as run for this step. */}
        <CopyButton text={commandText(text, values.inputs, values.client)} label="Copy" />
      </div>
      {/* A long command scrolls sideways; the block takes focus so a keyboard can scroll it too. */}
      <pre tabIndex={0} className="overflow-x-auto px-3.5 py-3 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-400 font-mono text-[0.8125rem] leading-relaxed whitespace-pre">
        <Filled parts={parts} />
      </pre>
    </div>
  );
}

/** A node's warning, before anything can be answered: risky steps say so first. */
export function StepWarning({ text }: { text: string }) {
  return (
    <div role="alert" data-testid="step-warning" className="flex gap-3 rounded-2xl border-2 border-amber-400 bg-amber-50 p-4 text-amber-950 dark:border-amber-500 dark:bg-amber-950 dark:text-amber-50">
      <span aria-hidden="true" className="text-xl leading-6">⚠</span>
      <p className="text-[0.9375rem] leading-6">
        <strong className="font-semibold">Warning: </strong>
        {text}
      </p>
    </div>
  );
}

function StepLink({ title, url, values }: { title: string; url: string; values: StepValues }) {
  const titleParts = fillParts(title, values.inputs, values.client);
  const urlParts = fillParts(url, values.inputs, values.client);
  const cls = "inline-flex min-h-11 max-w-full items-center gap-1.5 font-medium wrap-anywhere";
  const href = urlParts.map((p) => p.text).join("");
  // A link still missing a value would open the wrong page: show it, but not as a link. Only
  // web addresses become links, whatever a typed value put into one.
  if (urlParts.some((p) => p.gap) || !/^https?:\/\//i.test(href)) {
    return (
      <span className={`${cls} text-slate-600 dark:text-slate-300`}>
        <span aria-hidden="true">↗</span> <Filled parts={titleParts} />
        {urlParts.some((p) => p.gap) && (
          <>
            {" "}
            (needs <Filled parts={urlParts.filter((p) => p.gap)} />)
          </>
        )}
      </span>
    );
  }
  return (
    <a href={href} target="_blank" rel="noreferrer" className={`${cls} text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300`}>
      <span aria-hidden="true">↗</span> <Filled parts={titleParts} />
    </a>
  );
}

// `notes` sit between the step and its answers (`children`): what was seen is written down
// right where the step is answered.
export function StepCard({ nodeId, node, values, untitled, stepNumber, notes, script, children }: { nodeId: string; node: TreeNode; values: StepValues; untitled: string; stepNumber: number; notes?: ReactNode; script?: ReactNode; children?: ReactNode }) {
  // The answers stay under the thumb while the step scrolls, unless a long list of choices
  // would cover the step itself (AnswerTray also lets go when the strip grows too tall).
  const sticky = node.type !== "resolution" && (node.type !== "choice" || (node.options?.length ?? 0) <= 4);
  const [helpOpen, setHelpOpen] = useState(false);
  const text = (t: unknown) => fill(t, values.inputs, values.client) || "";
  const titleParts = fillParts(node.title, values.inputs, values.client);
  const warning = text(node.warning).trim();
  // A draft in the editor's preview may hold anything; the runner's pinned versions are valid.
  const commands = Array.isArray(node.commands) ? node.commands.filter((c) => c && typeof c.text === "string") : [];
  const links = Array.isArray(node.links) ? node.links.filter((l) => l && typeof l.url === "string") : [];
  return (
    <article className="min-w-0 rounded-3xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-labelledby="step-title" data-testid="step-card" data-node-type={node.type} data-node-id={nodeId}>
      <div className="space-y-4 p-5 sm:p-7">
        <p className="flex items-center gap-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">
          <span className="rounded-full bg-indigo-50 px-2.5 py-1 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300">{TYPE_LABEL[node.type] || node.type}</span>
          {node.type !== "resolution" && <span>Step {stepNumber}</span>}
        </p>
        <h2 id="step-title" tabIndex={-1} className="outline-none text-[1.375rem] leading-snug font-semibold tracking-tight text-slate-900 sm:text-2xl dark:text-white">
          {titleParts.length ? <Filled parts={titleParts} /> : untitled}
        </h2>
        {warning && <StepWarning text={warning} />}
        {text(node.body) && <Markdown text={text(node.body)} className="text-base text-slate-700 dark:text-slate-300" />}
        {!!commands.length && (
          <div className="space-y-3">
            {commands.map((c, i) => (
              <CommandBlock key={i} language={c.language} text={c.text} values={values} />
            ))}
          </div>
        )}
        {script}
        {(!!node.help || links.length > 0) && (
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
                {helpOpen && <Markdown text={text(node.help)} className="px-4 pb-4 text-sm text-slate-600 dark:text-slate-300" />}
              </>
            )}
            {!!links.length && (
              <ul className={`space-y-1 px-4 pb-3 text-sm ${node.help ? "" : "pt-3"}`}>
                {links.map((l, i) => (
                  <li key={i}>
                    <StepLink title={l.title} url={l.url} values={values} />
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
      {notes && <div className="border-t border-slate-100 px-5 py-4 sm:px-7 dark:border-slate-800">{notes}</div>}
      {children && <AnswerTray sticky={sticky}>{children}</AnswerTray>}
    </article>
  );
}
