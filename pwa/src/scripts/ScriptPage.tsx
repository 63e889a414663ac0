// One script: what it does, its parameters as a form, and the rendered text to copy.
// Authors render and publish the draft; engineers render the latest published version.
import { useCallback, useEffect, useState } from "react";
import { useSignIn } from "../data";
import { Button, Card, CopyButton, ErrorBox, Field, inputClass, Link, Loading, identifierField } from "../ui/kit";
import { scriptsApi, type ScriptDoc } from "./api";
import { formValues, initialForm, type ScriptParam } from "./form";
import { RiskBadge } from "./RiskBadge";

const WRITERS = ["owner", "admin", "author"];

function ParamField({ param, value, onChange }: { param: ScriptParam; value: string | boolean; onChange: (v: string | boolean) => void }) {
  const id = `param-${param.name}`;
  const label = `${param.label || param.name}${param.required ? " (required)" : ""}`;
  if (param.type === "bool") {
    return (
      <label htmlFor={id} className="flex min-h-11 items-center gap-3 text-sm font-semibold text-slate-800 dark:text-slate-200">
        <input id={id} type="checkbox" className="h-5 w-5" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
        {label}
      </label>
    );
  }
  const hint = param.description || (param.type === "int" && param.min !== undefined ? `${param.min} to ${param.max}` : undefined);
  return (
    <Field label={label} htmlFor={id} hint={hint}>
      {param.type === "enum" ? (
        <select id={id} className={inputClass} value={String(value)} onChange={(e) => onChange(e.target.value)}>
          {!param.required && <option value="">(default)</option>}
          {(param.choices || []).map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          className={inputClass}
          type={param.type === "secret" ? "password" : "text"}
          inputMode={param.type === "int" ? "numeric" : undefined}
          autoComplete="off"
          {...identifierField}
          value={String(value)}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

export default function ScriptPage({ scriptId }: { scriptId: string }) {
  const signin = useSignIn();
  const writer = !!signin && WRITERS.includes(signin.account.role);
  const [doc, setDoc] = useState<ScriptDoc | null>(null);
  const [form, setForm] = useState<Record<string, string | boolean>>({});
  const [loadError, setLoadError] = useState<string | null>(null);
  const [rendered, setRendered] = useState<string | null>(null);
  const [renderError, setRenderError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(
    () =>
      scriptsApi.get(scriptId).then(
        (d) => {
          setLoadError(null);
          setDoc(d);
          setForm(initialForm(d.parameters));
        },
        (e: Error) => setLoadError(e.message),
      ),
    [scriptId],
  );
  useEffect(() => {
    void load();
  }, [load]);

  if (loadError) return <ErrorBox title="The script could not be loaded" onRetry={() => void load()}>{loadError}</ErrorBox>;
  if (!doc) return <Loading />;

  const render = async () => {
    setBusy(true);
    setRenderError(null);
    setRendered(null);
    try {
      const answer = await scriptsApi.render(doc._id, formValues(doc.parameters, form), writer);
      setRendered(answer.script);
    } catch (e) {
      setRenderError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const publish = async () => {
    setBusy(true);
    setNotice(null);
    try {
      const answer = await scriptsApi.publish(doc._id, doc._rev);
      setNotice(`Published as version ${answer.version}: engineers see it now.`);
      await load();
    } catch (e) {
      setNotice((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-5">
      <Link to="/scripts" className="inline-flex min-h-11 items-center text-sm font-semibold text-indigo-700 dark:text-indigo-300">
        ← All scripts
      </Link>
      <div className="space-y-2">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">{doc.name}</h1>
          <RiskBadge risk={doc.risk} />
        </div>
        <p className="text-sm text-slate-500 dark:text-slate-400">
          {writer
            ? doc.latest_version
              ? `Draft; version ${doc.latest_version} is published.`
              : "Draft; not published yet, engineers do not see it."
            : `Version ${doc.version}`}
        </p>
        <p className="text-slate-700 dark:text-slate-300">{doc.description}</p>
        {doc.risk === "high" && (
          <p className="rounded-xl bg-rose-50 p-3 text-sm text-rose-900 dark:bg-rose-950 dark:text-rose-100">
            High risk: it can remove or change data on the machine. Read the script before you run it.
          </p>
        )}
        {doc.links.length > 0 && (
          <ul className="space-y-1 text-sm">
            {doc.links.map((l) => (
              <li key={l.url}>
                <a href={l.url} target="_blank" rel="noreferrer noopener" className="font-semibold text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300">
                  {l.title}
                </a>
              </li>
            ))}
          </ul>
        )}
      </div>
      <Card className="space-y-4 p-4">
        <h2 className="font-semibold text-slate-900 dark:text-white">Values</h2>
        {doc.parameters.length === 0 && <p className="text-sm text-slate-600 dark:text-slate-400">This script takes no values.</p>}
        {doc.parameters.map((p) => (
          <ParamField key={p.name} param={p} value={form[p.name] ?? ""} onChange={(v) => setForm({ ...form, [p.name]: v })} />
        ))}
        <div className="flex flex-wrap gap-2">
          <Button tone="primary" busy={busy} onClick={() => void render()}>
            Show the script
          </Button>
          {writer && (
            <Button busy={busy} onClick={() => void publish()}>
              Publish this draft
            </Button>
          )}
        </div>
        {notice && (
          <p role="status" className="text-sm text-slate-700 dark:text-slate-300">
            {notice}
          </p>
        )}
        {renderError && <ErrorBox title="These values cannot be used">{renderError}</ErrorBox>}
      </Card>
      {rendered !== null && (
        <div className="overflow-hidden rounded-2xl bg-slate-900 text-slate-100">
          <div className="flex items-center justify-between px-4 py-1">
            <span className="text-sm font-semibold">PowerShell</span>
            <CopyButton text={rendered} label="Copy script" />
          </div>
          <pre data-testid="rendered-script" tabIndex={0} className="overflow-x-auto px-4 pb-4 font-mono text-sm focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-400">
            <code>{rendered}</code>
          </pre>
        </div>
      )}
    </div>
  );
}
