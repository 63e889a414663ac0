// One webhook's delivery log, newest first, a page at a time through the API's cursor. A
// failed or queued message can be sent again; the row then follows it until the receiver
// has answered.
import { useCallback, useEffect, useState } from "react";
import { Button, ErrorBox, Spinner } from "../../ui/kit";
import { errorText, listDeliveries, retryDelivery } from "./api";
import { Badge } from "./Badge";
import { canRetry, deliveryBadge, deliveryOutcome, inFlight, when, type Delivery } from "./webhooks";

const PAGE = 20;
const SENDING = "Sending again now…";
const WATCH_MS = 1000;
// About half a minute: a retried message is sent within a second or two unless the receiver hangs.
const WATCH_ROUNDS = 30;

function DeliveryRow({ d, note, busy, paused, online, onRetry }: { d: Delivery; note?: string; busy: boolean; paused: boolean; online: boolean; onRetry: () => void }) {
  const badge = deliveryBadge(d);
  const excerpt = d.response?.body_excerpt ?? "";
  const code = d.response?.status_code;
  return (
    <li className="space-y-2 px-4 py-3" data-testid="delivery" data-status={d.status} data-event={d.event_type}>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className="font-mono text-sm font-semibold text-slate-900 dark:text-white">{d.event_type}</span>
        <Badge tone={badge.tone} testid="delivery-status">{badge.label}</Badge>
        {code != null && (
          <span className="font-mono text-sm text-slate-700 dark:text-slate-300" data-testid="delivery-code">
            HTTP {code}
          </span>
        )}
        <span className="text-sm text-slate-600 dark:text-slate-400">
          {when(d.created_at)} · {d.attempt_count} {d.attempt_count === 1 ? "attempt" : "attempts"}
          {d.status === "pending" ? (paused ? " · held until deliveries resume" : d.next_attempt_at ? ` · next try ${when(d.next_attempt_at)}` : "") : ""}
        </span>
        {canRetry(d) && (
          <Button className="ml-auto !min-h-9 !px-3 !text-sm" busy={busy} disabled={!online} onClick={onRetry}>
            Retry
          </Button>
        )}
      </div>
      {d.last_error && d.status !== "delivered" && <p className="text-sm break-words text-rose-800 dark:text-rose-300">{d.last_error}</p>}
      {excerpt && (
        <details>
          <summary className="inline-flex min-h-9 cursor-pointer items-center text-sm font-semibold text-indigo-700 dark:text-indigo-300">Receiver's answer</summary>
          {/* Shown as text, never as HTML: a receiver's error page must not run or render here. */}
          <pre className="mt-1 max-h-60 overflow-auto rounded-lg bg-slate-100 p-3 font-mono text-xs whitespace-pre-wrap break-all text-slate-800 dark:bg-slate-950 dark:text-slate-200" data-testid="delivery-body">
            {excerpt}
          </pre>
        </details>
      )}
      <details>
        <summary className="inline-flex min-h-9 cursor-pointer items-center text-sm font-semibold text-indigo-700 dark:text-indigo-300">What was sent</summary>
        <pre className="mt-1 max-h-60 overflow-auto rounded-lg bg-slate-100 p-3 font-mono text-xs whitespace-pre-wrap break-all text-slate-800 dark:bg-slate-950 dark:text-slate-200" data-testid="delivery-payload">
          {JSON.stringify(d.payload, null, 2)}
        </pre>
      </details>
      {note && (
        <p role="status" className="text-sm font-medium text-slate-700 dark:text-slate-300" data-testid="retry-note">
          {note}
        </p>
      )}
    </li>
  );
}

export function DeliveryLog({ hookId, paused, retryHeld, online, onActivity }: { hookId: string; paused: boolean; retryHeld: boolean; online: boolean; onActivity: () => void }) {
  const [items, setItems] = useState<Delivery[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [watching, setWatching] = useState<Record<string, number>>({});

  const load = useCallback(() => {
    listDeliveries(hookId, PAGE).then(
      (r) => {
        setItems(r.items);
        setCursor(r.next_cursor);
        setError(null);
      },
      (e) => setError(errorText(e)),
    );
  }, [hookId]);
  useEffect(load, [load]);

  const loadMore = async () => {
    setMore(true);
    try {
      const r = await listDeliveries(hookId, PAGE, cursor);
      setItems((xs) => [...(xs ?? []), ...r.items.filter((d) => !xs?.some((x) => x.id === d.id))]);
      setCursor(r.next_cursor);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setMore(false);
    }
  };

  const retry = async (d: Delivery) => {
    setNotes((n) => ({ ...n, [d.id]: SENDING }));
    try {
      const queued = await retryDelivery(hookId, d.id);
      setItems((xs) => xs && xs.map((x) => (x.id === d.id ? queued : x)));
      // A retry goes out at once, a failing webhook's too (its success resumes the webhook);
      // only a webhook whose deliveries are turned off holds it.
      if (retryHeld) setNotes((n) => ({ ...n, [d.id]: "Queued. Deliveries to this webhook are turned off, so it goes out once you turn them on." }));
      else setWatching((w) => ({ ...w, [d.id]: 0 }));
    } catch (e) {
      setNotes((n) => ({ ...n, [d.id]: `Not retried: ${errorText(e)}` }));
    }
  };

  // Follow retried messages: read the loaded part of the log again until each has an answer.
  useEffect(() => {
    const ids = Object.keys(watching);
    if (ids.length === 0) return;
    const t = setTimeout(async () => {
      let fresh: Delivery[];
      try {
        fresh = (await listDeliveries(hookId, Math.min(200, Math.max(PAGE, items?.length ?? 0)))).items;
      } catch (e) {
        setNotes((n) => Object.fromEntries([...Object.entries(n), ...ids.map((id) => [id, `Retried; the log could not be read again: ${errorText(e)}`])]));
        setWatching({});
        return;
      }
      setItems((xs) => xs && xs.map((x) => fresh.find((f) => f.id === x.id) ?? x));
      const next: Record<string, number> = {};
      const said: Record<string, string> = {};
      for (const id of ids) {
        const d = fresh.find((f) => f.id === id);
        if (d && !inFlight(d)) said[id] = `Retried: ${deliveryOutcome(d)}.`;
        else if (watching[id] + 1 >= WATCH_ROUNDS) said[id] = "Retried; no answer from the receiver yet. The log shows the result once it comes.";
        else next[id] = watching[id] + 1;
      }
      setNotes((n) => ({ ...n, ...said }));
      setWatching(next);
      if (Object.keys(said).length) onActivity();
    }, WATCH_MS);
    return () => clearTimeout(t);
  }, [watching, hookId, items?.length, onActivity]);

  if (error && !items) return <ErrorBox title="The delivery log could not be read" onRetry={online ? load : undefined}>{error}</ErrorBox>;
  if (!items)
    return (
      <p role="status" className="flex items-center gap-2 py-3 text-sm text-slate-600 dark:text-slate-400">
        <Spinner className="h-4 w-4" /> Reading the delivery log…
      </p>
    );
  return (
    <section aria-label="Delivery log" className="rounded-xl ring-1 ring-slate-200 dark:ring-slate-800" data-testid="delivery-log">
      <div className="flex items-center justify-between gap-2 border-b border-slate-200 px-4 py-2 dark:border-slate-800">
        <h4 className="text-sm font-semibold text-slate-900 dark:text-white">Delivery log</h4>
        <Button tone="ghost" className="!min-h-9 !px-3 !text-sm" disabled={!online}
          onClick={() => {
            load();
            onActivity();
          }}
        >
          Refresh
        </Button>
      </div>
      {items.length === 0 ? (
        <p className="px-4 py-4 text-sm text-slate-600 dark:text-slate-400">Nothing sent yet. Events you subscribed to appear here as they happen; Send test adds one now.</p>
      ) : (
        <ul className="divide-y divide-slate-100 dark:divide-slate-800">
          {items.map((d) => (
            <DeliveryRow key={d.id} d={d} note={notes[d.id]} busy={d.id in watching || notes[d.id] === SENDING} paused={paused} online={online} onRetry={() => void retry(d)} />
          ))}
        </ul>
      )}
      {error && <p className="px-4 py-2 text-sm text-rose-800 dark:text-rose-300" role="alert">{error}</p>}
      {cursor && (
        <div className="border-t border-slate-200 p-2 text-center dark:border-slate-800">
          <Button tone="ghost" className="!min-h-9 !text-sm" busy={more} disabled={!online} onClick={() => void loadMore()}>
            Load more
          </Button>
        </div>
      )}
    </section>
  );
}
