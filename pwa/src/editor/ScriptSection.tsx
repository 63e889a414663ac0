// An action step's script: pick a published script from the team's library, then give each
// of its parameters a value: typed text, an input asked earlier ({{input.x}}) or a field of
// the client context ({{client.x}}). The runner fills these in and renders the script.
import { RiskBadge } from "../scripts/RiskBadge";
import type { ScriptParam } from "../scripts/form";
import { Button, identifierField } from "../ui/kit";
import type { Obj, TreeDoc, TreeNode } from "./model";
import type { PublishedScript } from "./useScriptLibrary";

const small = "block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-600 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700";

type Source = { kind: "text"; text: string } | { kind: "input"; name: string } | { kind: "client"; name: string };

/** What a stored value means: a whole `{{input.x}}` or `{{client.x}}`, else typed text. */
export function sourceOf(value: string): Source {
  const m = /^\{\{\s*(input|client)\.([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}$/.exec(value);
  if (!m) return { kind: "text", text: value };
  return m[1] === "input" ? { kind: "input", name: m[2] } : { kind: "client", name: m[2] };
}

export function valueOf(source: Source): string {
  if (source.kind === "text") return source.text;
  return `{{${source.kind}.${source.name}}}`;
}

/** The input variables the tree asks for, in step order. */
function inputVariables(tree: TreeDoc): string[] {
  const out = new Set<string>();
  for (const n of Object.values(tree.nodes)) if (n && n.type === "input" && typeof n.variable === "string" && n.variable) out.add(n.variable);
  return [...out];
}

const TYPE_WORDS: Record<string, string> = { string: "text", int: "whole number", bool: "true or false", hostname: "host name", ip: "IP address", enum: "one of a list", secret: "secret" };

function ParamRow({ param, value, variables, onChange }: { param: ScriptParam; value: string | undefined; variables: string[]; onChange: (v: string | undefined) => void }) {
  const source = sourceOf(value ?? "");
  const id = `f-script-param-${param.name}`;
  const pick = (kind: string) => {
    if (kind === "text") onChange(source.kind === "text" ? source.text : "");
    else if (kind === "client") onChange(valueOf({ kind: "client", name: source.kind === "client" ? source.name : "name" }));
    else onChange(valueOf({ kind: "input", name: kind.slice("input:".length) }));
  };
  const selectValue = source.kind === "input" ? `input:${source.name}` : source.kind;
  if (param.type === "secret") {
    return (
      <div className="rounded-lg bg-slate-50 p-2.5 text-xs text-slate-600 dark:bg-slate-800/60 dark:text-slate-300" data-testid={`script-param-${param.name}`}>
        <span className="font-mono font-semibold">{param.name}</span> (secret): the engineer types it when the script runs; a tree never stores one.
      </div>
    );
  }
  return (
    <div className="space-y-1.5 rounded-lg bg-slate-50 p-2.5 dark:bg-slate-800/60" data-testid={`script-param-${param.name}`}>
      <div className="flex flex-wrap items-baseline gap-x-2">
        <label htmlFor={`${id}-from`} className="font-mono text-[13px] font-semibold text-slate-800 dark:text-slate-200">
          {param.name}
        </label>
        <span className="text-xs text-slate-500">{TYPE_WORDS[param.type] || param.type}</span>
        {param.required && param.default == null && <span className="rounded bg-rose-100 px-1.5 text-[11px] font-semibold text-rose-700 dark:bg-rose-950 dark:text-rose-300">required</span>}
        {param.default != null && <span className="text-xs text-slate-500">default {String(param.default)}</span>}
      </div>
      {param.description && <p className="text-xs text-slate-500">{param.description}</p>}
      <div className="grid grid-cols-[minmax(0,1fr)_minmax(0,1.3fr)] gap-2">
        <select id={`${id}-from`} aria-label={`${param.name} comes from`} className={small} value={selectValue} onChange={(e) => pick(e.target.value)}>
          <option value="text">Typed value</option>
          {variables.map((v) => (
            <option key={v} value={`input:${v}`}>
              Input: {v}
            </option>
          ))}
          <option value="client">Client field</option>
        </select>
        {source.kind === "text" && (
          <input id={id} aria-label={`${param.name} value`} className={small} {...identifierField} value={source.text} placeholder={param.default != null ? String(param.default) : param.type === "enum" ? (param.choices || []).join(" / ") : ""} onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)} />
        )}
        {source.kind === "client" && (
          <input id={id} aria-label={`${param.name} client field`} className={`${small} font-mono`} {...identifierField} value={source.name} onChange={(e) => onChange(valueOf({ kind: "client", name: e.target.value.trim() || "name" }))} />
        )}
        {source.kind === "input" && <p className="self-center font-mono text-xs text-slate-600 dark:text-slate-300">{`{{input.${source.name}}}`}</p>}
      </div>
    </div>
  );
}

export function ScriptSection({ nodeId, tree, node, library, onChange }: { nodeId: string; tree: TreeDoc; node: TreeNode; library: Record<string, PublishedScript> | null; onChange: (fn: (n: TreeNode) => TreeNode, coalesce?: string) => void }) {
  const ref = (node.script && typeof node.script === "object" ? node.script : null) as { id?: string; parameters?: Record<string, string> } | null;
  const chosen = ref?.id && library ? library[ref.id] : undefined;
  const values = ref?.parameters || {};
  const scripts = library ? Object.values(library).sort((a, b) => a.name.localeCompare(b.name)) : [];
  const setRef = (next: Obj | null) =>
    onChange((n) => {
      const copy = { ...n };
      if (next) copy.script = next;
      else delete copy.script;
      return copy;
    });
  return (
    <div className="space-y-2.5" data-testid="script-section">
      {library === null && !ref && <p className="text-xs text-slate-500">The script library could not be loaded; connect to pick a script.</p>}
      <div className="space-y-1">
        <label htmlFor="f-script" className="block text-[13px] font-semibold text-slate-700 dark:text-slate-300">
          Script from the library
        </label>
        <select
          id="f-script"
          className={small}
          value={ref?.id || ""}
          onChange={(e) => setRef(e.target.value ? { id: e.target.value, parameters: {} } : null)}
        >
          <option value="">— none —</option>
          {ref?.id && !chosen && <option value={ref.id}>{ref.id} (not published)</option>}
          {scripts.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </div>
      {chosen && (
        <>
          <p className="flex items-center gap-2 text-xs text-slate-500">
            <RiskBadge risk={chosen.risk} /> version {chosen.version}; engineers copy it, or run it through the RMM{chosen.risk === "low" ? "" : " once an author, admin or owner approves"}.
          </p>
          {chosen.parameters.length === 0 && <p className="text-xs text-slate-500">This script takes no parameters.</p>}
          {chosen.parameters.map((p) => (
            <ParamRow
              key={p.name}
              param={p}
              value={values[p.name]}
              variables={inputVariables(tree)}
              onChange={(v) =>
                onChange((n) => {
                  const cur = (n.script as { id: string; parameters?: Record<string, string> }) || { id: chosen.id };
                  const params = { ...(cur.parameters || {}) };
                  if (v === undefined) delete params[p.name];
                  else params[p.name] = v;
                  return { ...n, script: { ...cur, parameters: params } };
                }, `${nodeId}.script.${p.name}`)
              }
            />
          ))}
        </>
      )}
      {ref && (
        <Button className="!min-h-8 !rounded-lg !px-2.5 !py-1 !text-xs" onClick={() => setRef(null)}>
          Remove the script
        </Button>
      )}
    </div>
  );
}
