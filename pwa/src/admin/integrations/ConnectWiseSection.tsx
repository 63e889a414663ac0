// ConnectWise PSA on the Integrations screen: the connection form (the private key is
// write-only: the form says whether one is set, never shows it), and the connector's status:
// last success, last error with ConnectWise's reason, queued pushes and failed ones to retry.
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../../data";
import { listIntegrations, psaErrorText, retryPush, saveConnectWise } from "../../psa/api";
import type { ConnectWiseConfig, Integration, PsaPush } from "../../psa/psa";
import { Button, Card, ErrorBox, Field, identifierField, inputClass, Loading } from "../../ui/kit";
import { ConnectionTest } from "./ConnectionTest";
import { ConnectorStatus } from "./ConnectorStatus";

type TextField = "site_url" | "company_id" | "public_key" | "client_id" | "board" | "status" | "member" | "work_type" | "company";

const TEXT_FIELDS: { name: TextField; label: string; hint?: string; required?: boolean }[] = [
  { name: "site_url", label: "Site URL", hint: "e.g. https://na.myconnectwise.net", required: true },
  { name: "company_id", label: "Company id", hint: "The company you sign in to ConnectWise with.", required: true },
  { name: "public_key", label: "Public key", hint: "System > Members > API Members > API Keys.", required: true },
  { name: "client_id", label: "Client id", hint: "Your integration's clientId from ConnectWise's developer site.", required: true },
  { name: "company", label: "Default company", hint: "Company identifier for new tickets." },
  { name: "board", label: "Board", hint: "Service board for new tickets." },
  { name: "status", label: "Status", hint: "Status of new tickets." },
  { name: "member", label: "Default member", hint: "For time entries of engineers whose e-mail matches no ConnectWise member." },
  { name: "work_type", label: "Work type" },
];

function emptyForm(config: ConnectWiseConfig | null): Record<TextField, string> {
  return Object.fromEntries(TEXT_FIELDS.map((f) => [f.name, (config?.[f.name] as string | null) ?? ""])) as Record<TextField, string>;
}

export function ConnectWiseSection({ online }: { online: boolean }) {
  const [info, setInfo] = useState<Integration | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState<Record<TextField, string>>(emptyForm(null));
  const [privateKey, setPrivateKey] = useState("");
  const [options, setOptions] = useState({ note_type: "internal", note_format: "text", time_entry: true, auto_push: false });
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [retrying, setRetrying] = useState<string | null>(null);

  const load = useCallback(() => {
    listIntegrations().then(
      (r) => {
        const cw = (r.items.find((i) => i.system === "connectwise") as Integration<ConnectWiseConfig> | undefined) ?? null;
        setInfo(cw);
        setError(null);
        return cw;
      },
      (e) => setError(psaErrorText(e)),
    );
  }, []);
  useEffect(() => {
    if (!online) return;
    listIntegrations().then(
      (r) => {
        const cw = (r.items.find((i) => i.system === "connectwise") as Integration<ConnectWiseConfig> | undefined) ?? null;
        setInfo(cw);
        setForm(emptyForm(cw?.config ?? null));
        if (cw?.config) setOptions({ note_type: cw.config.note_type, note_format: cw.config.note_format, time_entry: cw.config.time_entry, auto_push: cw.config.auto_push });
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
    setSaving(true);
    setSaveError(null);
    setSaved(false);
    try {
      const body: Record<string, unknown> = { ...options };
      for (const f of TEXT_FIELDS) body[f.name] = form[f.name].trim() || null;
      if (privateKey) body.private_key = privateKey;
      await saveConnectWise(body);
      setPrivateKey("");
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

  const keySet = !!info?.config?.private_key_set;
  return (
    <section aria-labelledby="cw-heading" className="space-y-3">
      <div>
        <h2 id="cw-heading" className="text-lg font-semibold text-slate-900 dark:text-white">
          ConnectWise PSA
        </h2>
        <p className="text-sm text-slate-600 dark:text-slate-400">Sessions go to ConnectWise as a ticket note and a time entry, with retries; the session shows the ticket.</p>
      </div>
      {error && (
        <ErrorBox title="ConnectWise could not be read" onRetry={online ? load : undefined}>
          {error}
        </ErrorBox>
      )}
      {!info && !error && online && <Loading label="Reading the ConnectWise connection…" />}
      {info && (
        <ConnectorStatus prefix="cw" info={info} label="ConnectWise" online={online} retrying={retrying} onRetry={(p) => void retry(p)}
        />
      )}
      {info && (
        <Card className="space-y-4 p-4">
          <div className="grid gap-4 sm:grid-cols-2">
            {TEXT_FIELDS.map((f) => (
              <Field key={f.name} label={f.label + (f.required ? "" : " (optional)")} hint={f.hint} htmlFor={`cw-${f.name}`}>
                <input id={`cw-${f.name}`} className={inputClass} {...identifierField} value={form[f.name]} onChange={(e) => setForm({ ...form, [f.name]: e.target.value })} />
              </Field>
            ))}
            <Field label="Private key" hint={keySet ? "Set. Leave empty to keep it; it is never shown again." : "Shown once by ConnectWise when the key is made."} htmlFor="cw-private_key">
              <input id="cw-private_key" type="password" autoComplete="new-password" className={inputClass} placeholder={keySet ? "•••••••• (set)" : ""} value={privateKey} onChange={(e) => setPrivateKey(e.target.value)} data-testid="cw-private-key" />
            </Field>
          </div>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Note" htmlFor="cw-note_type">
              <select id="cw-note_type" className={inputClass} value={options.note_type} onChange={(e) => setOptions({ ...options, note_type: e.target.value })}>
                <option value="internal">Internal analysis</option>
                <option value="discussion">Discussion (the customer may see it)</option>
              </select>
            </Field>
            <Field label="Note format" htmlFor="cw-note_format">
              <select id="cw-note_format" className={inputClass} value={options.note_format} onChange={(e) => setOptions({ ...options, note_format: e.target.value })}>
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
            Send every session when it is completed (offline ones when they sync)
          </label>
          <div className="flex flex-wrap items-center gap-3">
            <Button tone="primary" busy={saving} disabled={!online} onClick={save} data-testid="cw-save">
              Save connection
            </Button>
            {info.configured && <ConnectionTest system="connectwise" online={online} onDone={load} />}
            {saved && (
              <p role="status" className="text-sm font-semibold text-emerald-800 dark:text-emerald-200">
                Saved.
              </p>
            )}
          </div>
          {saveError && (
            <p role="alert" className="text-sm font-semibold text-rose-700 dark:text-rose-300" data-testid="cw-save-error">
              {saveError}
            </p>
          )}
        </Card>
      )}
    </section>
  );
}
