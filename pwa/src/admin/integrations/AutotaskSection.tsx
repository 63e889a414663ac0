// Autotask PSA on the Integrations screen: the API user's connection (the secret is
// write-only: the form says whether one is set, never shows it), the ids Autotask needs for
// new tickets and time entries, "Test connection", and the connector's status: the zone
// found for the API user, last success, last error with Autotask's reason, queued pushes and
// failed ones to retry.
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../../data";
import { listIntegrations, psaErrorText, retryPush, saveAutotask } from "../../psa/api";
import { parseId, type AutotaskConfig, type Integration, type PsaPush } from "../../psa/psa";
import { Button, Card, ErrorBox, Field, identifierField, inputClass, Loading } from "../../ui/kit";
import { ConnectionTest } from "./ConnectionTest";
import { ConnectorStatus } from "./ConnectorStatus";

type TextName = "api_user" | "integration_code";
type IdName = "company" | "queue_id" | "ticket_status" | "priority" | "due_hours" | "resource_id" | "role_id" | "note_type_id";

const TEXT_FIELDS: { name: TextName; label: string; hint: string }[] = [
  { name: "api_user", label: "API user name", hint: "The API-only user's user name (Admin > Resources/Users, security level API User)." },
  { name: "integration_code", label: "Integration code", hint: "The API user's API tracking identifier." },
];

const ID_FIELDS: { name: IdName; label: string; hint: string; fallback?: number }[] = [
  { name: "company", label: "Default company id", hint: "companyID of new tickets when the session's client has none." },
  { name: "queue_id", label: "Queue id", hint: "Service desk queue of new tickets (needed to create tickets)." },
  { name: "ticket_status", label: "Ticket status", hint: "Status picklist value of new tickets (1 is New).", fallback: 1 },
  { name: "priority", label: "Priority", hint: "Priority picklist value of new tickets.", fallback: 2 },
  { name: "due_hours", label: "Due in (hours)", hint: "Autotask requires a due date on new tickets.", fallback: 24 },
  { name: "resource_id", label: "Default resource id", hint: "For time entries of engineers whose e-mail matches no Autotask resource." },
  { name: "role_id", label: "Role id", hint: "Role of time entries; empty: the resource's default service desk role." },
  { name: "note_type_id", label: "Note type", hint: "noteType picklist value of ticket notes.", fallback: 1 },
];

type Form = Record<TextName | IdName, string>;

function formOf(config: AutotaskConfig | null): Form {
  const out = {} as Form;
  for (const f of TEXT_FIELDS) out[f.name] = config?.[f.name] ?? "";
  for (const f of ID_FIELDS) {
    const v = config?.[f.name] ?? f.fallback ?? null;
    out[f.name] = v === null ? "" : String(v);
  }
  return out;
}

type Options = { note_publish: "internal" | "all"; note_format: "text" | "markdown"; time_entry: boolean; auto_push: boolean };

function optionsOf(config: AutotaskConfig | null): Options {
  return config
    ? { note_publish: config.note_publish, note_format: config.note_format, time_entry: config.time_entry, auto_push: config.auto_push }
    : { note_publish: "internal", note_format: "text", time_entry: true, auto_push: false };
}

/** The PUT body for the form, or the first field's problem. */
function bodyOf(form: Form, options: Options, secret: string): { body: Record<string, unknown> } | { error: string } {
  const body: Record<string, unknown> = { ...options };
  for (const f of TEXT_FIELDS) body[f.name] = form[f.name].trim() || null;
  for (const f of ID_FIELDS) {
    const parsed = parseId(form[f.name], f.label);
    if ("error" in parsed) return parsed;
    if (parsed.value !== null) body[f.name] = parsed.value;
  }
  if (secret) body.secret = secret;
  return { body };
}

function pick(items: Integration<unknown>[]): Integration<AutotaskConfig> | null {
  return (items.find((i) => i.system === "autotask") as Integration<AutotaskConfig> | undefined) ?? null;
}

export function AutotaskSection({ online }: { online: boolean }) {
  const [info, setInfo] = useState<Integration<AutotaskConfig> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState<Form>(formOf(null));
  const [secret, setSecret] = useState("");
  const [options, setOptions] = useState<Options>(optionsOf(null));
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [retrying, setRetrying] = useState<string | null>(null);

  const load = useCallback(() => {
    listIntegrations().then(
      (r) => {
        setInfo(pick(r.items));
        setError(null);
      },
      (e) => setError(psaErrorText(e)),
    );
  }, []);
  useEffect(() => {
    if (!online) return;
    listIntegrations().then(
      (r) => {
        const at = pick(r.items);
        setInfo(at);
        setForm(formOf(at?.config ?? null));
        setOptions(optionsOf(at?.config ?? null));
      },
      (e) => setError(psaErrorText(e)),
    );
  }, [online]);
  // Pushes move on the server by themselves: look again while some are queued.
  useEffect(() => {
    if (!online || !info?.queued.length) return;
    const t = setInterval(load, 3000);
    return () => clearInterval(t);
  }, [online, info, load]);

  const save = async () => {
    setSaveError(null);
    setSaved(false);
    const made = bodyOf(form, options, secret);
    if ("error" in made) {
      setSaveError(made.error);
      return;
    }
    setSaving(true);
    try {
      await saveAutotask(made.body);
      setSecret("");
      setSaved(true);
      load();
    } catch (e) {
      setSaveError(e instanceof ApiError ? e.reason || e.message : psaErrorText(e));
    } finally {
      setSaving(false);
    }
  };

  const retry = async (push: PsaPush) => {
    setRetrying(push.session_id);
    try {
      await retryPush(push.system, push.session_id);
      load();
    } catch (e) {
      setError(psaErrorText(e));
    } finally {
      setRetrying(null);
    }
  };

  const secretSet = !!info?.config?.secret_set;
  return (
    <section aria-labelledby="at-heading" className="space-y-3">
      <div>
        <h2 id="at-heading" className="text-lg font-semibold text-slate-900 dark:text-white">
          Autotask PSA
        </h2>
        <p className="text-sm text-slate-600 dark:text-slate-400">Sessions go to Autotask as a ticket note and a time entry, with retries; the session shows the ticket. It can run beside ConnectWise.</p>
      </div>
      {error && (
        <ErrorBox title="Autotask could not be read" onRetry={online ? load : undefined}>
          {error}
        </ErrorBox>
      )}
      {!info && !error && online && <Loading label="Reading the Autotask connection…" />}
      {info && (
        <ConnectorStatus prefix="at" info={info} label="Autotask" online={online} retrying={retrying} onRetry={(p) => void retry(p)}
          extra={
            info.zone && (
              <span className="text-sm text-slate-700 dark:text-slate-300" data-testid="at-zone">
                Zone: {info.zone.name || info.zone.url}
              </span>
            )
          }
        />
      )}
      {info && (
        <Card className="space-y-4 p-4">
          <div className="grid gap-4 sm:grid-cols-2">
            {TEXT_FIELDS.map((f) => (
              <Field key={f.name} label={f.label} hint={f.hint} htmlFor={`at-${f.name}`}>
                <input id={`at-${f.name}`} className={inputClass} {...identifierField} value={form[f.name]} onChange={(e) => setForm({ ...form, [f.name]: e.target.value })} />
              </Field>
            ))}
            <Field label="Secret" hint={secretSet ? "Set. Leave empty to keep it; it is never shown again." : "The API user's secret, shown once by Autotask."} htmlFor="at-secret">
              <input id="at-secret" type="password" autoComplete="new-password" className={inputClass} placeholder={secretSet ? "•••••••• (set)" : ""} value={secret} onChange={(e) => setSecret(e.target.value)} />
            </Field>
            {ID_FIELDS.map((f) => (
              <Field key={f.name} label={f.label + (f.fallback === undefined ? " (optional)" : "")} hint={f.hint} htmlFor={`at-${f.name}`}>
                <input id={`at-${f.name}`} inputMode="numeric" className={inputClass} {...identifierField} value={form[f.name]} onChange={(e) => setForm({ ...form, [f.name]: e.target.value })} />
              </Field>
            ))}
          </div>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Note visibility" htmlFor="at-note_publish">
              <select id="at-note_publish" className={inputClass} value={options.note_publish} onChange={(e) => setOptions({ ...options, note_publish: e.target.value as Options["note_publish"] })}>
                <option value="internal">Internal only</option>
                <option value="all">All Autotask users</option>
              </select>
            </Field>
            <Field label="Note format" htmlFor="at-note_format">
              <select id="at-note_format" className={inputClass} value={options.note_format} onChange={(e) => setOptions({ ...options, note_format: e.target.value as Options["note_format"] })}>
                <option value="text">Plain text</option>
                <option value="markdown">Markdown</option>
              </select>
            </Field>
          </div>
          <label className="flex min-h-11 items-center gap-2 text-sm font-medium">
            <input type="checkbox" className="h-5 w-5 rounded accent-indigo-600" checked={options.time_entry} onChange={(e) => setOptions({ ...options, time_entry: e.target.checked })} />
            Add a time entry for each session
          </label>
          <label className="flex min-h-11 items-center gap-2 text-sm font-medium">
            <input type="checkbox" className="h-5 w-5 rounded accent-indigo-600" checked={options.auto_push} onChange={(e) => setOptions({ ...options, auto_push: e.target.checked })} />
            Send every session to Autotask when it is completed (offline ones when they sync)
          </label>
          <div className="flex flex-wrap items-center gap-3">
            <Button tone="primary" busy={saving} disabled={!online} onClick={save} data-testid="at-save">
              Save connection
            </Button>
            {info.configured && <ConnectionTest system="autotask" online={online} onDone={load} />}
            {saved && (
              <p role="status" className="text-sm font-semibold text-emerald-800 dark:text-emerald-200">
                Saved.
              </p>
            )}
          </div>
          {saveError && (
            <p role="alert" className="text-sm font-semibold text-rose-700 dark:text-rose-300" data-testid="at-save-error">
              {saveError}
            </p>
          )}
        </Card>
      )}
    </section>
  );
}
