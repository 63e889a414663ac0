// Create a webhook (URL, events, description, preset) or edit one (events, description,
// deliveries on or off). The server's refusals are shown next to the field they are about,
// in the server's words.
import { useState } from "react";
import { ApiError } from "../../data";
import { Button, Dialog, ErrorBox, identifierField, inputClass } from "../../ui/kit";
import { createWebhook, errorText, updateWebhook } from "./api";
import { EVENT_TYPES, fieldOfReason, PRESETS, splitUrl, when, type FormField, type Webhook } from "./webhooks";

const MAX_DESCRIPTION = 500;

function FieldError({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <p id={id} className="text-sm font-medium text-rose-700 dark:text-rose-300" data-testid="field-error">
      {text}
    </p>
  );
}

export function WebhookDialog({ hook, onClose, onSaved }: { hook?: Webhook; onClose: () => void; onSaved: (hook: Webhook, secret?: string) => void }) {
  const editing = !!hook;
  const [url, setUrl] = useState(hook?.url ?? "");
  const [events, setEvents] = useState<string[]>(hook?.events ?? ["session.completed"]);
  const [description, setDescription] = useState(hook?.description ?? "");
  const [preset, setPreset] = useState(hook?.preset ?? "standard");
  const [enabled, setEnabled] = useState(hook ? hook.enabled : true);
  const [resume, setResume] = useState(false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<FormField, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const failing = hook?.status === "failing";

  const toggle = (name: string, on: boolean) => setEvents((es) => EVENT_TYPES.map((e) => e.name).filter((n) => (n === name ? on : es.includes(n))));

  const submit = async () => {
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      if (hook) {
        const body: Parameters<typeof updateWebhook>[1] = { events, description: description.trim() };
        if (failing) {
          if (resume) body.enabled = true;
        } else if (enabled !== hook.enabled) body.enabled = enabled;
        onSaved(await updateWebhook(hook.id, body));
      } else {
        // The secret goes to the one-time dialog only, never into the list's state.
        const { secret, ...created } = await createWebhook({ url: url.trim(), events, description: description.trim(), preset });
        onSaved(created, secret);
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setErrors({ [fieldOfReason(e.reason)]: e.reason });
      else setFormError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const described = (field: FormField, hint?: string) => [errors[field] ? `wh-${field}-error` : "", hint ?? ""].filter(Boolean).join(" ") || undefined;

  return (
    <Dialog
      title={editing ? `Edit webhook to ${splitUrl(hook.url).host}` : "New webhook"}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button tone="primary" busy={busy} disabled={(!editing && !url.trim()) || events.length === 0} onClick={() => void submit()}>
            {editing ? "Save changes" : "Create webhook"}
          </Button>
        </>
      }
    >
      <form
        className="space-y-5"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {editing ? (
          <div className="space-y-1">
            <p className="text-sm font-semibold text-slate-800 dark:text-slate-200">URL</p>
            <p className="font-mono text-sm break-all text-slate-700 dark:text-slate-300">{hook.url}</p>
          </div>
        ) : (
          <div className="space-y-1.5">
            <label htmlFor="wh-url" className="block text-sm font-semibold text-slate-800 dark:text-slate-200">
              URL
            </label>
            <input
              id="wh-url"
              type="url"
              inputMode="url"
              className={inputClass}
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://hooks.example-msp.com/branchline"
              aria-invalid={errors.url ? true : undefined}
              aria-describedby={described("url", "wh-url-hint")}
              autoComplete="off"
              {...identifierField}
            />
            <FieldError id="wh-url-error" text={errors.url} />
            <p id="wh-url-hint" className="text-xs text-slate-500 dark:text-slate-400">
              Where Branchline posts each event. It must answer 2xx within a few seconds; failures are retried for about a day.
            </p>
          </div>
        )}

        <fieldset className="space-y-2" aria-describedby={described("events")}>
          <legend className="mb-1 text-sm font-semibold text-slate-800 dark:text-slate-200">Events</legend>
          {EVENT_TYPES.map((e) => (
            <label key={e.name} className="flex items-start gap-3 rounded-xl p-2 ring-1 ring-slate-200 hover:bg-slate-50 dark:ring-slate-800 dark:hover:bg-slate-800/60">
              <input type="checkbox" className="mt-1 h-5 w-5 shrink-0 accent-indigo-600" checked={events.includes(e.name)} onChange={(ev) => toggle(e.name, ev.target.checked)} />
              <span className="min-w-0">
                <span className="block font-mono text-sm font-semibold text-slate-900 dark:text-white">{e.name}</span>
                <span className="block text-xs text-slate-600 dark:text-slate-400">{e.hint}</span>
              </span>
            </label>
          ))}
          {events.length === 0 && <p className="text-xs text-slate-600 dark:text-slate-400">Choose at least one event.</p>}
          <FieldError id="wh-events-error" text={errors.events} />
        </fieldset>

        <div className="space-y-1.5">
          <label htmlFor="wh-description" className="block text-sm font-semibold text-slate-800 dark:text-slate-200">
            Description <span className="font-normal text-slate-500 dark:text-slate-400">(optional)</span>
          </label>
          <textarea
            id="wh-description"
            rows={2}
            maxLength={MAX_DESCRIPTION}
            className={inputClass}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="Closes the ConnectWise ticket when a session is resolved"
            aria-invalid={errors.description ? true : undefined}
            aria-describedby={described("description")}
          />
          <FieldError id="wh-description-error" text={errors.description} />
        </div>

        {!editing && (
          <fieldset className="space-y-2" aria-describedby={described("preset")}>
            <legend className="mb-1 text-sm font-semibold text-slate-800 dark:text-slate-200">Format</legend>
            {PRESETS.map((p) => (
              <label key={p.value} className="flex items-start gap-3 rounded-xl p-2 ring-1 ring-slate-200 hover:bg-slate-50 dark:ring-slate-800 dark:hover:bg-slate-800/60">
                <input type="radio" name="wh-preset" value={p.value} className="mt-1 h-5 w-5 shrink-0 accent-indigo-600" checked={preset === p.value} onChange={() => setPreset(p.value)} />
                <span className="min-w-0">
                  <span className="block text-sm font-semibold text-slate-900 dark:text-white">{p.label}</span>
                  <span className="block text-xs text-slate-600 dark:text-slate-400">{p.hint}</span>
                </span>
              </label>
            ))}
            <FieldError id="wh-preset-error" text={errors.preset} />
          </fieldset>
        )}

        {editing &&
          (failing ? (
            <div className="space-y-2 rounded-xl border border-rose-200 bg-rose-50 p-3 text-sm text-rose-950 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-100">
              <p>
                <span className="font-semibold">Failing since {when(hook.failing_since)}.</span> A message spent all its retries, so deliveries are paused; new events wait in the queue.
              </p>
              <p>Fix the receiver first (Send test shows its answer). Resuming sends everything that queued meanwhile, at once.</p>
              <label className="flex items-center gap-3 font-semibold">
                <input type="checkbox" className="h-5 w-5 accent-indigo-600" checked={resume} onChange={(e) => setResume(e.target.checked)} />
                Resume deliveries when I save
              </label>
            </div>
          ) : (
            <label className="flex items-start gap-3">
              <input type="checkbox" className="mt-1 h-5 w-5 shrink-0 accent-indigo-600" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
              <span>
                <span className="block text-sm font-semibold text-slate-900 dark:text-white">Deliveries on</span>
                <span className="block text-xs text-slate-600 dark:text-slate-400">Off pauses sending; events keep queueing and go out when you turn it back on.</span>
              </span>
            </label>
          ))}
        {formError && <ErrorBox title={editing ? "Not saved" : "Not created"}>{formError}</ErrorBox>}
      </form>
    </Dialog>
  );
}
