// The side panel for the selected step: its type, texts, links, commands, and where each
// answer leads with the sentence it writes into the notes.
import { useRef, useState, type ReactNode } from "react";
import { Markdown } from "../ui/Markdown";
import { Button, identifierField, timeAgo, useNow } from "../ui/kit";
import type { DismissedGroup, NodeSuggestions, Suggestion } from "./api";
import { answersOf, changeType, NODE_TYPES, TYPE_INFO, withLog, withNext, type NodeType, type Obj, type TreeDoc, type TreeNode } from "./model";
import { ScriptSection } from "./ScriptSection";
import type { DismissedSuggestion } from "./suggestions";
import type { PublishedScript } from "./useScriptLibrary";
import type { Problem } from "./validate";

const small = "block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-600 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700";

export function Section({ title, children, right }: { title: string; children: ReactNode; right?: ReactNode }) {
  return (
    <section className="space-y-2.5 border-t border-slate-200 px-4 py-4 first:border-t-0 dark:border-slate-800">
      <div className="flex items-center justify-between gap-2">
        <h3 className="text-xs font-bold tracking-wide text-slate-500 uppercase">{title}</h3>
        {right}
      </div>
      {children}
    </section>
  );
}

export function TextField({ id, label, value, onChange, placeholder, multiline = false, hint, rows = 3, identifier = false }: { id: string; label: string; value: string; onChange: (v: string) => void; placeholder?: string; multiline?: boolean; hint?: ReactNode; rows?: number; identifier?: boolean }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-[13px] font-semibold text-slate-700 dark:text-slate-300">
        {label}
      </label>
      {multiline ? (
        <textarea id={id} rows={rows} className={small} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input id={id} className={small} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} autoComplete="off" {...(identifier ? identifierField : {})} />
      )}
      {hint && <p className="text-xs text-slate-500">{hint}</p>}
    </div>
  );
}

function MarkdownField({ id, label, value, onChange, placeholder }: { id: string; label: string; value: string; onChange: (v: string) => void; placeholder?: string }) {
  const [preview, setPreview] = useState(false);
  return (
    <div className="space-y-1">
      <div className="flex items-center justify-between">
        <label htmlFor={id} className="block text-[13px] font-semibold text-slate-700 dark:text-slate-300">
          {label} <span className="font-normal text-slate-500 dark:text-slate-400">(Markdown)</span>
        </label>
        <div className="flex rounded-lg bg-slate-100 p-0.5 text-xs font-semibold dark:bg-slate-800" role="tablist">
          <button type="button" role="tab" aria-selected={!preview} className={`rounded-md px-2 py-1 ${!preview ? "bg-white shadow-sm dark:bg-slate-700" : "text-slate-600 dark:text-slate-400"}`} onClick={() => setPreview(false)}>
            Write
          </button>
          <button type="button" role="tab" aria-selected={preview} aria-label={`Preview ${label.toLowerCase()}`} className={`rounded-md px-2 py-1 ${preview ? "bg-white shadow-sm dark:bg-slate-700" : "text-slate-600 dark:text-slate-400"}`} onClick={() => setPreview(true)}>
            Preview
          </button>
        </div>
      </div>
      {preview ? (
        <div className="min-h-[76px] rounded-lg bg-slate-50 px-3 py-2 text-sm ring-1 ring-slate-200 dark:bg-slate-800/60 dark:ring-slate-700" data-testid={`${id}-preview`}>
          {value.trim() ? <Markdown text={value} className="text-sm text-slate-700 dark:text-slate-300" /> : <p className="text-slate-500 dark:text-slate-400">Nothing to preview yet.</p>}
        </div>
      ) : (
        <textarea id={id} rows={4} className={`${small} font-mono text-[13px]`} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
      )}
    </div>
  );
}

const NEW_PREFIX = "__new__:";

/** Lists every step of the tree; on large trees the list is built only when the select is used. */
export function useLazyOptions(count: number): [boolean, { onFocus: () => void; onMouseDown: () => void; onKeyDown: () => void }] {
  const [open, setOpen] = useState(count <= 200);
  const show = () => setOpen(true);
  return [open, { onFocus: show, onMouseDown: show, onKeyDown: show }];
}

function TargetSelect({ id, label, value, tree, self, onChange }: { id: string; label: string; value: string | null; tree: TreeDoc; self: string; onChange: (v: string | null | { create: NodeType }) => void }) {
  const dangling = value && !(value in tree.nodes);
  const [all, lazy] = useLazyOptions(Object.keys(tree.nodes).length);
  const listed = all ? Object.entries(tree.nodes) : value && tree.nodes[value] ? [[value, tree.nodes[value]] as const] : [];
  return (
    <select
      id={id}
      aria-label={label}
      className={`${small} pr-8`}
      value={value || ""}
      {...lazy}
      onChange={(e) => {
        const v = e.target.value;
        if (v.startsWith(NEW_PREFIX)) onChange({ create: v.slice(NEW_PREFIX.length) as NodeType });
        else onChange(v || null);
      }}
    >
      <option value="">— not connected —</option>
      {dangling && <option value={value!}>{value} (missing)</option>}
      <optgroup label="Create a new step">
        {NODE_TYPES.map((t) => (
          <option key={t} value={`${NEW_PREFIX}${t}`}>
            + New {TYPE_INFO[t].label.toLowerCase()}
          </option>
        ))}
      </optgroup>
      <optgroup label="Existing steps">
        {listed.map(([nid, n]) => (
          <option key={nid} value={nid}>
            {(typeof n?.title === "string" && n.title) || "Untitled"} · {nid}
            {nid === self ? " (this step)" : ""}
          </option>
        ))}
      </optgroup>
    </select>
  );
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

export interface InspectorProps {
  tree: TreeDoc;
  id: string;
  problems: Problem[];
  suggestions: NodeSuggestions | null;
  onChange: (fn: (n: TreeNode) => TreeNode, coalesce?: string) => void;
  onTree: (fn: (t: TreeDoc) => TreeDoc, coalesce?: string) => void;
  onCreateFrom: (key: string, type: NodeType) => void;
  onRename: (to: string) => string | null;
  onDuplicate: () => void;
  onDelete: () => void;
  onSelect: (id: string) => void;
  onAdoptSuggestion: (s: Suggestion) => void;
  /** Groups dismissed at this step in this editor, each offered back with an undo. */
  dismissed: DismissedSuggestion[];
  /** Groups dismissed at this step before (as the server lists them), other than those above. */
  dismissedBefore: DismissedGroup[];
  suggestionError: string | null;
  /** Resolve true once the server has the dismissal (false: it refused; the error is shown). */
  onDismissSuggestion: (s: Suggestion) => Promise<boolean>;
  onRestoreSuggestion: (d: DismissedSuggestion) => Promise<boolean>;
  /** The team's published scripts an action may name (null: not loaded). */
  scripts: Record<string, PublishedScript> | null;
}

const compact = "!min-h-8 !rounded-lg !px-3 !py-1 !text-xs";

/** The groups dismissed at this step earlier, each with when and a way back. */
function DismissedList({ id, groups, busy, onRestore }: { id: string; groups: DismissedGroup[]; busy: string | null; onRestore: (g: DismissedGroup) => void }) {
  const now = useNow(30_000);
  return (
    <ul id={id} className="space-y-2" data-testid="dismissed-list">
      {groups.map((g) => {
        const at = Date.parse(g.dismissed_at);
        return (
          <li key={g.text_key} data-key={g.text_key} className="flex items-center justify-between gap-2 rounded-xl border border-dashed border-slate-300 p-3 text-xs text-slate-600 dark:border-slate-700 dark:text-slate-300">
            <div className="min-w-0">
              <p className="font-semibold break-words text-slate-800 dark:text-slate-200">“{g.text}”</p>
              <p className="mt-0.5">
                Added {g.count}× · dismissed{" "}
                <time dateTime={g.dismissed_at} title={Number.isNaN(at) ? undefined : new Date(at).toLocaleString()}>
                  {Number.isNaN(at) ? "earlier" : timeAgo(at, now)}
                </time>
              </p>
            </div>
            <Button
              className={`${compact} shrink-0`}
              data-restore-key={g.text_key}
              aria-label={`Restore the suggestion “${g.text}”`}
              busy={busy === `restore:${g.text_key}`}
              onClick={() => onRestore(g)}
            >
              Restore
            </Button>
          </li>
        );
      })}
    </ul>
  );
}

function SuggestionList(props: InspectorProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [showDismissed, setShowDismissed] = useState(false);
  const groups = props.suggestions?.suggestions || [];
  const dismissed = props.dismissed;
  const before = props.dismissedBefore;
  // Each step starts with its dismissed suggestions folded away, and so does a list that
  // emptied and filled again (state adjusted while rendering, so it never shows unfolded).
  const foldFor = `${props.id}\n${before.length === 0}`;
  const [foldedFor, setFoldedFor] = useState(foldFor);
  if (foldedFor !== foldFor) {
    setFoldedFor(foldFor);
    setShowDismissed(false);
  }
  if (!groups.length && !dismissed.length && !before.length) return null;
  // The row the author acted on disappears; keep the keyboard focus where the eye is, on
  // the undo that replaced it (or, after an undo or a restore, on the suggestion that came
  // back; failing that, on what is left of the dismissed list).
  const focusLater = (...selectors: string[]) =>
    setTimeout(() => {
      for (const selector of selectors) {
        const el = boxRef.current?.closest("section")?.querySelector<HTMLButtonElement>(selector);
        if (el) return el.focus();
      }
    }, 0);
  const act = async (key: string, run: () => Promise<boolean>, ...then: string[]) => {
    setBusy(key);
    try {
      if (await run()) focusLater(...then);
    } finally {
      setBusy(null);
    }
  };
  const listId = `dismissed-${props.id}`;
  return (
    <Section title={`Suggestions from engineers (${props.suggestions?.count || 0})`}>
      <div ref={boxRef} className="space-y-2.5">
        {props.suggestionError && (
          <p role="alert" className="rounded-lg bg-rose-50 p-2 text-xs text-rose-900 dark:bg-rose-950/50 dark:text-rose-200">
            {props.suggestionError}
          </p>
        )}
        {groups.length || dismissed.length ? (
          <ul className="space-y-2" data-testid="suggestions">
            {groups.map((s) => (
              <li key={s.text_key} className="rounded-xl border border-amber-200 bg-amber-50 p-3 dark:border-amber-900 dark:bg-amber-950/40">
                <p className="font-semibold text-amber-950 dark:text-amber-100">“{s.text}”</p>
                <p className="mt-0.5 text-xs text-amber-800 dark:text-amber-300">
                  Added {s.count}× in {s.session_ids.length} session(s) · {Object.entries(s.answers).map(([k, v]) => `${v} ${k}`).join(", ")}
                </p>
                {s.examples.some((e) => e.note) && <p className="mt-1 text-xs text-amber-900 italic dark:text-amber-200">Note: {s.examples.find((e) => e.note)?.note}</p>}
                <div className="mt-2 flex flex-wrap gap-2">
                  <Button tone="primary" className={compact} onClick={() => props.onAdoptSuggestion(s)}>
                    Add as a step before this one
                  </Button>
                  <Button
                    className={compact}
                    data-dismiss-key={s.text_key}
                    aria-label={`Dismiss the suggestion “${s.text}”`}
                    busy={busy === s.text_key}
                    onClick={() => act(s.text_key, () => props.onDismissSuggestion(s), `[data-undo-key="${CSS.escape(s.text_key)}"]`)}
                  >
                    Dismiss
                  </Button>
                </div>
              </li>
            ))}
            {dismissed.map((d) => (
              <li
                key={`dismissed:${d.text_key}`}
                data-testid="dismissed-suggestion"
                className="flex items-center justify-between gap-2 rounded-xl border border-dashed border-slate-300 p-3 text-xs text-slate-600 dark:border-slate-700 dark:text-slate-300"
              >
                <span role="status">Dismissed “{d.text}”. A new request from the field brings it back.</span>
                <Button
                  className={`${compact} shrink-0`}
                  data-undo-key={d.text_key}
                  aria-label={`Undo dismissing “${d.text}”`}
                  busy={busy === `undo:${d.text_key}`}
                  onClick={() => act(`undo:${d.text_key}`, () => props.onRestoreSuggestion(d), `[data-dismiss-key="${CSS.escape(d.text_key)}"]`)}
                >
                  Undo
                </Button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-xs text-slate-500">None open at this step.</p>
        )}
        {/* Under the open ones, with the list unfolding below it: the button stays where it was pressed. */}
        {before.length > 0 && (
          <button
            type="button"
            aria-expanded={showDismissed}
            aria-controls={listId}
            data-testid="show-dismissed"
            className="block rounded text-xs font-semibold whitespace-nowrap text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:text-indigo-300"
            onClick={() => setShowDismissed((v) => !v)}
          >
            {showDismissed ? "Hide" : "Show"} dismissed ({before.length})
          </button>
        )}
        {showDismissed && before.length > 0 && (
          <DismissedList
            id={listId}
            groups={before}
            busy={busy}
            onRestore={(g) =>
              act(
                `restore:${g.text_key}`,
                () => props.onRestoreSuggestion({ node_id: props.id, text_key: g.text_key, text: g.text }),
                `[data-dismiss-key="${CSS.escape(g.text_key)}"]`,
                "[data-restore-key]",
                "[data-dismiss-key]",
              )
            }
          />
        )}
      </div>
    </Section>
  );
}

export function NodeInspector(props: InspectorProps) {
  const { tree, id, problems, onChange } = props;
  const node = tree.nodes[id];
  const [newId, setNewId] = useState(id);
  const [renameError, setRenameError] = useState<string | null>(null);
  // Another step starts with its own id in the rename box (adjusted while rendering).
  const [renameFor, setRenameFor] = useState(id);
  if (renameFor !== id) {
    setRenameFor(id);
    setNewId(id);
    setRenameError(null);
  }
  if (!node || typeof node !== "object") return <p className="p-4 text-sm text-slate-500">This step cannot be read; fix it in the JSON.</p>;
  const set = (field: string) => (v: unknown) => onChange((n) => ({ ...n, [field]: v }), `${id}.${field}`);
  const links = (Array.isArray(node.links) ? node.links : []) as Obj[];
  const commands = (Array.isArray(node.commands) ? node.commands : []) as Obj[];
  const type = node.type;
  const known = (NODE_TYPES as string[]).includes(type);

  return (
    <div data-testid="inspector" className="text-sm">
      <div className="flex items-start justify-between gap-2 px-4 pt-4">
        <div className="min-w-0">
          <p className="text-xs font-semibold text-slate-500">Step</p>
          <p className="truncate text-base font-semibold text-slate-900 dark:text-white">{str(node.title) || "Untitled step"}</p>
        </div>
        {tree.start === id ? (
          <span className="shrink-0 rounded-full bg-indigo-600 px-2.5 py-1 text-[11px] font-bold text-white uppercase">Start</span>
        ) : (
          <Button className="!min-h-8 shrink-0 !rounded-lg !px-2.5 !py-1 !text-xs" onClick={() => props.onTree((t) => ({ ...t, start: id }))}>
            Make start
          </Button>
        )}
      </div>

      {problems.length > 0 && (
        <div className="mx-4 mt-3 space-y-1.5 rounded-xl border border-rose-200 bg-rose-50 p-3 dark:border-rose-900 dark:bg-rose-950/50" data-testid="node-problems">
          {problems.map((p, i) => (
            <p key={i} className="text-[13px] text-rose-900 dark:text-rose-200">
              <span className="font-mono text-[11px] font-semibold text-rose-700 dark:text-rose-400">{p.code}</span> {p.message}
            </p>
          ))}
        </div>
      )}

      <SuggestionList {...props} />

      <Section title="Type">
        <div className="grid grid-cols-5 gap-1" role="radiogroup" aria-label="Step type">
          {NODE_TYPES.map((t) => (
            <button
              key={t}
              type="button"
              role="radio"
              aria-checked={type === t}
              title={TYPE_INFO[t].hint}
              onClick={() => onChange((n) => changeType(n, t))}
              className={`rounded-lg px-1 py-1.5 text-[11px] font-semibold ${type === t ? `${TYPE_INFO[t].color} ring-2 ${TYPE_INFO[t].ring}` : "bg-slate-100 text-slate-600 hover:bg-slate-200 dark:bg-slate-800 dark:text-slate-300"}`}
            >
              {TYPE_INFO[t].label}
            </button>
          ))}
        </div>
        {!known && <p className="text-xs text-rose-700 dark:text-rose-400">Unknown type {JSON.stringify(type)}: pick one above.</p>}
      </Section>

      <Section title="Content">
        <TextField id="f-title" label="Title" value={str(node.title)} onChange={set("title")} placeholder={type === "question" ? "Is only one user affected?" : type === "resolution" ? "Printing works again" : "Restart the print spooler"} />
        <MarkdownField id="f-body" label="Body" value={str(node.body)} onChange={set("body")} placeholder="What to check or do, step by step." />
        <MarkdownField id="f-help" label="Help" value={str(node.help)} onChange={set("help")} placeholder="Why this step matters; how to read the result." />
        <TextField id="f-warning" label="Warning" value={str(node.warning)} onChange={(v) => set("warning")(v || null)} placeholder="Shown before a risky step (reboots, data loss)" />
      </Section>

      {known && type !== "resolution" && (
        <Section title={type === "choice" ? "Options" : type === "input" ? "Value and next step" : "Answers"} right={type === "choice" ? <Button className="!min-h-8 !rounded-lg !px-2.5 !py-1 !text-xs" onClick={() => onChange((n) => ({ ...n, options: [...((n.options as Obj[]) || []), { id: `option-${((n.options as Obj[]) || []).length + 1}`, label: "", next: null, log: "" }] }))}>+ Option</Button> : undefined}>
          {type === "input" && (
            <div className="grid grid-cols-2 gap-2">
              <TextField id="f-variable" identifier label="Variable" value={str(node.variable)} onChange={set("variable")} placeholder="vda_name" hint={<>Use as {"{{input."}{str(node.variable) || "name"}{"}}"}</>} />
              <TextField id="f-save" label="Save to client field" value={str(node.save_to_client)} onChange={(v) => set("save_to_client")(v || null)} placeholder="optional" />
            </div>
          )}
          {answersOf(node).map((a, i) => {
            const optional = a.optional && !a.target;
            const opt = type === "choice" ? ((node.options as Obj[]) || [])[i] : null;
            const fid = a.key.replace(":", "-");
            return (
              <div key={a.key} className="space-y-2 rounded-xl bg-slate-50 p-3 ring-1 ring-slate-200 dark:bg-slate-800/50 dark:ring-slate-700" data-testid={`answer-${fid}`}>
                <div className="flex items-center justify-between gap-2">
                  <span className="font-semibold text-slate-800 dark:text-slate-200">{type === "choice" ? `Option ${i + 1}` : type === "input" ? "After the value" : a.label}</span>
                  {type === "choice" && (
                    <button type="button" className="text-xs font-semibold text-rose-700 dark:text-rose-400 hover:underline" onClick={() => onChange((n) => ({ ...n, options: ((n.options as Obj[]) || []).filter((_, j) => j !== i) }))}>
                      Remove
                    </button>
                  )}
                  {optional && <span className="text-xs text-slate-500">optional: connect it to offer “skipped”</span>}
                </div>
                {opt && (
                  <div className="grid grid-cols-[1fr_2fr] gap-2">
                    <TextField id={`f-opt-${i}-id`} identifier label="Id" value={str(opt.id)} onChange={(v) => onChange((n) => ({ ...n, options: ((n.options as Obj[]) || []).map((o, j) => (j === i ? { ...o, id: v } : o)) }), `${id}.opt${i}.id`)} />
                    <TextField id={`f-opt-${i}-label`} label="Label" value={str(opt.label)} onChange={(v) => onChange((n) => ({ ...n, options: ((n.options as Obj[]) || []).map((o, j) => (j === i ? { ...o, label: v } : o)) }), `${id}.opt${i}.label`)} />
                  </div>
                )}
                <div className="space-y-1">
                  <label htmlFor={`f-next-${fid}`} className="block text-[13px] font-semibold text-slate-700 dark:text-slate-300">
                    Leads to
                  </label>
                  <TargetSelect
                    id={`f-next-${fid}`}
                    label={`${type === "choice" ? `Option ${i + 1}` : a.label} leads to`}
                    value={a.target}
                    tree={tree}
                    self={id}
                    onChange={(v) => {
                      if (v && typeof v === "object") props.onCreateFrom(a.key, v.create);
                      else onChange((n) => withNext(n, a.key, v));
                    }}
                  />
                  {a.target && a.target in tree.nodes && (
                    <button type="button" className="text-xs font-semibold text-indigo-700 hover:underline dark:text-indigo-300" onClick={() => props.onSelect(a.target!)}>
                      Go to “{str(tree.nodes[a.target]?.title) || a.target}” →
                    </button>
                  )}
                </div>
                {!optional && (
                  <TextField id={`f-log-${fid}`} label="Log sentence (past tense, goes into the notes)" value={a.log} onChange={(v) => onChange((n) => withLog(n, a.key, v), `${id}.log.${a.key}`)} placeholder={type === "question" ? (a.key === "yes" ? "Confirmed only one user is affected." : "Found several users affected.") : type === "input" ? `Recorded {{input.${str(node.variable) || "name"}}}.` : "Restarted the print spooler."} />
                )}
              </div>
            );
          })}
        </Section>
      )}

      {type === "resolution" && (
        <Section title="Outcome">
          <div className="space-y-1">
            <label htmlFor="f-outcome" className="block text-[13px] font-semibold text-slate-700 dark:text-slate-300">
              Outcome
            </label>
            <select id="f-outcome" className={small} value={str(node.outcome)} onChange={(e) => set("outcome")(e.target.value || null)}>
              <option value="">— choose —</option>
              <option value="resolved">Resolved</option>
              <option value="escalated">Escalated</option>
              <option value="unresolved">Unresolved</option>
            </select>
          </div>
          <TextField id="f-summary" label="Summary" multiline value={str(node.summary)} onChange={set("summary")} placeholder="How the case ends; opens the exported notes." />
          <TextField id="f-root-cause" label="Root cause (optional)" multiline value={str(node.root_cause)} onChange={(v) => set("root_cause")(v || null)} />
          <TextField id="f-verification" label="Verification" multiline value={str(node.verification)} onChange={(v) => set("verification")(v || null)} placeholder="How the fix was proven, e.g. User signed in and Outlook shows Connected." />
          {node.outcome === "escalated" && <TextField id="f-handover" label="Handover" multiline value={str(node.handover)} onChange={(v) => set("handover")(v || null)} placeholder="What the next tier must know; what was ruled out." />}
        </Section>
      )}

      <Section title="Links" right={<Button className="!min-h-8 !rounded-lg !px-2.5 !py-1 !text-xs" onClick={() => onChange((n) => ({ ...n, links: [...links, { title: "", url: "https://" }] }))}>+ Link</Button>}>
        {links.length === 0 && <p className="text-xs text-slate-500">Vendor articles or KBs the engineer may need.</p>}
        {links.map((l, i) => (
          <div key={i} className="flex items-end gap-2">
            <div className="grid flex-1 grid-cols-2 gap-2">
              <TextField id={`f-link-${i}-title`} label="Title" value={str(l.title)} onChange={(v) => onChange((n) => ({ ...n, links: links.map((x, j) => (j === i ? { ...x, title: v } : x)) }), `${id}.link${i}.t`)} />
              <TextField id={`f-link-${i}-url`} label="URL" value={str(l.url)} onChange={(v) => onChange((n) => ({ ...n, links: links.map((x, j) => (j === i ? { ...x, url: v } : x)) }), `${id}.link${i}.u`)} />
            </div>
            <button type="button" aria-label={`Remove link ${i + 1}`} className="mb-1 rounded-lg px-2 py-1.5 text-rose-700 dark:text-rose-400 hover:bg-rose-50" onClick={() => onChange((n) => ({ ...n, links: links.filter((_, j) => j !== i) }))}>
              ✕
            </button>
          </div>
        ))}
      </Section>

      {type === "action" && (
        <Section title="Script">
          <ScriptSection nodeId={id} tree={tree} node={node} library={props.scripts} onChange={onChange} />
        </Section>
      )}

      <Section title="Commands" right={<Button className="!min-h-8 !rounded-lg !px-2.5 !py-1 !text-xs" onClick={() => onChange((n) => ({ ...n, commands: [...commands, { language: "powershell", text: "" }] }))}>+ Command</Button>}>
        {commands.length === 0 && <p className="text-xs text-slate-500">Commands to copy; placeholders such as {"{{input.x}}"} are filled in.</p>}
        {commands.map((c, i) => (
          <div key={i} className="space-y-1.5 rounded-xl bg-slate-900 p-2.5">
            <div className="flex items-center gap-2">
              <select aria-label={`Command ${i + 1} language`} className="rounded-md bg-slate-800 px-2 py-1 text-xs text-slate-200" value={str(c.language)} onChange={(e) => onChange((n) => ({ ...n, commands: commands.map((x, j) => (j === i ? { ...x, language: e.target.value } : x)) }))}>
                {["powershell", "cmd", "bash", "sql", "text"].map((l) => (
                  <option key={l}>{l}</option>
                ))}
              </select>
              <button type="button" aria-label={`Remove command ${i + 1}`} className="ml-auto text-xs text-rose-300 hover:underline" onClick={() => onChange((n) => ({ ...n, commands: commands.filter((_, j) => j !== i) }))}>
                Remove
              </button>
            </div>
            <textarea aria-label={`Command ${i + 1}`} rows={2} className="block w-full rounded-md bg-slate-950 px-2.5 py-2 font-mono text-[12.5px] text-slate-100" value={str(c.text)} onChange={(e) => onChange((n) => ({ ...n, commands: commands.map((x, j) => (j === i ? { ...x, text: e.target.value } : x)) }), `${id}.cmd${i}`)} />
          </div>
        ))}
      </Section>

      <Section title="Step id">
        <div className="flex gap-2">
          <input
            aria-label="Step id"
            className={`${small} font-mono`}
            value={newId}
            onChange={(e) => setNewId(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") setRenameError(props.onRename(newId.trim()));
            }}
          />
          <Button className="!min-h-9 !rounded-lg !px-3 !py-1.5 !text-xs" disabled={newId.trim() === id} onClick={() => setRenameError(props.onRename(newId.trim()))}>
            Rename
          </Button>
        </div>
        {renameError && <p className="text-xs text-rose-700 dark:text-rose-400">{renameError}</p>}
        <p className="text-xs text-slate-500">Sessions record this id; answers that lead here follow a rename.</p>
        <div className="flex gap-2 pt-1">
          <Button className="flex-1 !min-h-9 !text-sm" onClick={props.onDuplicate}>
            Duplicate
          </Button>
          <Button tone="danger" className="flex-1 !min-h-9 !text-sm" onClick={props.onDelete}>
            Delete step
          </Button>
        </div>
      </Section>
    </div>
  );
}

