// One webhook subscription: where it posts (the host first), what it sends, how it is doing,
// and what an admin does with it (test, read the log, edit, resume, delete).
import { useCallback, useEffect, useState } from "react";
import { Button, Card, Dialog } from "../../ui/kit";
import { deleteWebhook, errorText, listDeliveries, sendTest, updateWebhook } from "./api";
import { Badge } from "./Badge";
import { DeliveryLog } from "./DeliveryLog";
import { WebhookDialog } from "./WebhookDialog";
import { deliveryOutcome, presetLabel, splitUrl, webhookBadge, when, type Delivery, type Webhook } from "./webhooks";

function TestResult({ result, host }: { result: Delivery | string; host: string }) {
  if (typeof result === "string")
    return (
      <p className="text-sm font-medium text-rose-800 dark:text-rose-300" data-testid="test-error">
        Test not sent: {result}
      </p>
    );
  const last = result.attempts.at(-1);
  const code = result.response?.status_code;
  const ok = !!last?.ok;
  return (
    <div className={`space-y-1 rounded-xl border p-3 text-sm ${ok ? "border-emerald-200 bg-emerald-50 text-emerald-950 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100" : "border-rose-200 bg-rose-50 text-rose-950 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-100"}`} data-testid="test-result" data-ok={ok ? "yes" : "no"}>
      <p className="font-semibold">
        {code != null ? `Test sent: ${host} answered HTTP ${code}${ok ? "" : ", which is not a success"}.` : `Test not delivered: ${last?.error ?? result.last_error ?? "no answer"}.`}
      </p>
      {result.response?.body_excerpt && (
        <pre className="max-h-40 overflow-auto rounded-lg bg-white/70 p-2 font-mono text-xs whitespace-pre-wrap break-all dark:bg-black/30" data-testid="test-body">
          {result.response.body_excerpt}
        </pre>
      )}
    </div>
  );
}

/** undefined: being read; "unreadable": the log could not be read. */
function LastDelivery({ last }: { last: Delivery | null | undefined | "unreadable" }) {
  if (last === undefined) return <span className="text-slate-500 dark:text-slate-400">…</span>;
  if (last === "unreadable") return <span className="text-slate-600 dark:text-slate-400">Not known right now (the log could not be read)</span>;
  if (last === null) return <span>None yet</span>;
  return (
    <span>
      {deliveryOutcome(last)} <span className="text-slate-500 dark:text-slate-400">· {last.event_type} · {when(last.delivered_at ?? last.failed_at ?? last.created_at)}</span>
    </span>
  );
}

export function WebhookCard({ hook, online, tick, onChanged, onDeleted }: { hook: Webhook; online: boolean; tick: number; onChanged: (hook?: Webhook) => void; onDeleted: (id: string) => void }) {
  const { host } = splitUrl(hook.url);
  const badge = webhookBadge(hook);
  const [last, setLast] = useState<Delivery | null | undefined | "unreadable">(undefined);
  const [testing, setTesting] = useState(false);
  const [test, setTest] = useState<Delivery | string | null>(null);
  const [showLog, setShowLog] = useState(false);
  const [logKey, setLogKey] = useState(0);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const readLast = useCallback(() => {
    listDeliveries(hook.id, 1).then(
      (r) => setLast(r.items[0] ?? null),
      () => setLast("unreadable"),
    );
  }, [hook.id]);
  useEffect(() => {
    if (online) readLast();
  }, [online, readLast, hook.updated_at, tick]);

  // Something was sent: the last delivery, the log and the status may all have changed.
  const onActivity = useCallback(() => {
    readLast();
    onChanged();
  }, [readLast, onChanged]);

  const runTest = async () => {
    setTesting(true);
    setTest(null);
    try {
      setTest(await sendTest(hook.id));
      setLogKey((k) => k + 1);
      onActivity();
    } catch (e) {
      setTest(errorText(e));
    } finally {
      setTesting(false);
    }
  };

  const resume = async () => {
    setBusy(true);
    setProblem(null);
    try {
      onChanged(await updateWebhook(hook.id, { enabled: true }));
    } catch (e) {
      setProblem(`Not resumed: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      await deleteWebhook(hook.id);
      setDeleting(false);
      onDeleted(hook.id);
    } catch (e) {
      setDeleting(false);
      setProblem(`Not deleted: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const logId = `wh-log-${hook.id}`;
  return (
    <Card className="space-y-3 p-4 sm:p-5">
      <article className="space-y-3" aria-labelledby={`wh-${hook.id}-host`} data-testid="webhook" data-host={host} data-status={hook.status}>
        <div className="flex items-start justify-between gap-3">
          <div className="min-w-0">
            <h3 id={`wh-${hook.id}-host`} className="text-lg font-semibold break-all text-slate-900 dark:text-white">
              {host}
            </h3>
            <p className="font-mono text-xs break-all text-slate-600 dark:text-slate-400">
              {hook.url}
            </p>
          </div>
          <Badge tone={badge.tone} testid="webhook-status">{badge.label}</Badge>
        </div>
        {hook.description && <p className="text-sm text-slate-700 dark:text-slate-300">{hook.description}</p>}
        <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[8rem_1fr]">
          <dt className="font-semibold text-slate-600 dark:text-slate-400">Events</dt>
          <dd className="flex flex-wrap gap-1.5">
            {hook.events.map((e) => (
              <span key={e} className="rounded-md bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-200">
                {e}
              </span>
            ))}
          </dd>
          <dt className="font-semibold text-slate-600 dark:text-slate-400">Format</dt>
          <dd>{hook.preset === "standard" ? "Signed JSON (Standard Webhooks)" : `${presetLabel(hook.preset)} message`}</dd>
          <dt className="font-semibold text-slate-600 dark:text-slate-400">Last delivery</dt>
          <dd data-testid="last-delivery">
            <LastDelivery last={last} />
          </dd>
        </dl>
        {hook.status === "failing" && (
          <div className="space-y-2 rounded-xl border border-rose-200 bg-rose-50 p-3 text-sm text-rose-950 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-100" data-testid="failing-note">
            <p>
              <span className="font-semibold">Failing since {when(hook.failing_since)}</span>
              {hook.last_error ? <>: {hook.last_error}</> : "."}
            </p>
            <p>Deliveries are paused and new events wait in the queue. Fix the receiver (Send test shows its answer), then resume: what queued is sent at once.</p>
            <Button tone="primary" className="!min-h-9 !text-sm" busy={busy} disabled={!online} onClick={() => void resume()}>
              Resume deliveries
            </Button>
          </div>
        )}
        {hook.status === "disabled" && <p className="text-sm text-slate-700 dark:text-slate-300">Deliveries are off: events queue and go out when you turn them back on (Edit).</p>}
        <div className="flex flex-wrap gap-2">
          <Button className="!min-h-10 !text-sm" busy={testing} disabled={!online} onClick={() => void runTest()}>
            Send test
          </Button>
          <Button className="!min-h-10 !text-sm" aria-expanded={showLog} aria-controls={logId} disabled={!online && !showLog} onClick={() => setShowLog((s) => !s)}>
            {showLog ? "Hide delivery log" : "Delivery log"}
          </Button>
          <Button className="!min-h-10 !text-sm" disabled={!online} onClick={() => setEditing(true)}>
            Edit
          </Button>
          <Button tone="ghost" className="!min-h-10 !text-sm !text-rose-700 dark:!text-rose-300" disabled={!online} onClick={() => setDeleting(true)}>
            Delete
          </Button>
        </div>
        <div aria-live="polite">{test && <TestResult result={test} host={host} />}</div>
        {problem && (
          <p role="alert" className="text-sm font-medium text-rose-800 dark:text-rose-300">
            {problem}
          </p>
        )}
        <div id={logId}>{showLog && <DeliveryLog key={logKey} hookId={hook.id} paused={hook.status !== "active"} retryHeld={hook.status === "disabled"} online={online} onActivity={onActivity} />}</div>
      </article>
      {editing && (
        <WebhookDialog
          hook={hook}
          onClose={() => setEditing(false)}
          onSaved={(h) => {
            setEditing(false);
            onChanged(h);
          }}
        />
      )}
      {deleting && (
        <Dialog
          title={`Delete the webhook to ${host}?`}
          onClose={() => setDeleting(false)}
          footer={
            <>
              <Button onClick={() => setDeleting(false)}>Cancel</Button>
              <Button tone="danger" busy={busy} onClick={() => void remove()}>
                Delete webhook
              </Button>
            </>
          }
        >
          <p className="text-sm text-slate-700 dark:text-slate-300">Nothing more is sent to {hook.url}, and its delivery log goes with it. This cannot be undone; to send there again, create a new webhook (it gets a new secret).</p>
        </Dialog>
      )}
    </Card>
  );
}
