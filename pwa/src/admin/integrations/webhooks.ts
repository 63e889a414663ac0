// Webhook subscriptions as the server answers them (api/webhooks/service.py) and the small
// pure decisions behind what the Integrations screen shows (the calls are in api.ts).

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string;
  preset: string;
  enabled: boolean;
  /** active, failing (a message spent its retries: deliveries pause) or disabled. */
  status: "active" | "failing" | "disabled";
  failing_since: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface Attempt {
  at: string;
  ok: boolean;
  status_code: number | null;
  response_excerpt: string;
  error: string | null;
  duration_ms: number;
}

export interface Delivery {
  id: string;
  event_type: string;
  /** pending (queued for an attempt), sending, delivered or failed. */
  status: "pending" | "sending" | "delivered" | "failed";
  created_at: string | null;
  attempt_count: number;
  next_attempt_at: string | null;
  delivered_at: string | null;
  failed_at: string | null;
  last_error: string | null;
  /** The event as sent: `{type, timestamp, data}` (a Slack or Teams preset reshapes the body). */
  payload: unknown;
  response: { status_code: number | null; body_excerpt: string } | null;
  attempts: Attempt[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const EVENT_TYPES: { name: string; hint: string }[] = [
  { name: "session.started", hint: "An engineer starts a session (sessions begun offline are sent when the device syncs)." },
  { name: "session.completed", hint: "A session ends resolved, escalated or unresolved, with its summary." },
  { name: "session.abandoned", hint: "An engineer abandons a session before it reaches an outcome." },
  { name: "tree.published", hint: "An author publishes a new version of a troubleshooting tree." },
  { name: "attachment.added", hint: "A screenshot or file is attached to a step of a session." },
  { name: "tree.needs_review", hint: "The nightly check flags a tree: its review is overdue, or its sessions fail more often than before." },
];

export const PRESETS: { value: string; label: string; hint: string }[] = [
  { value: "standard", label: "None", hint: "Signed JSON (Standard Webhooks) for your own receiver or automation." },
  { value: "slack", label: "Slack", hint: "A readable message for a Slack incoming-webhook URL." },
  { value: "teams", label: "Microsoft Teams", hint: "A readable message for a Microsoft Teams incoming-webhook URL." },
];

export const presetLabel = (preset: string) => PRESETS.find((p) => p.value === preset)?.label ?? preset;

/** The host a URL points at (what an admin recognises) and the rest of it; the whole text as
 * the host when it does not parse, so nothing is hidden. */
export function splitUrl(url: string): { host: string; rest: string } {
  try {
    const u = new URL(url);
    const at = url.indexOf(u.host);
    return { host: u.host, rest: at >= 0 ? url.slice(at + u.host.length) : u.pathname + u.search };
  } catch {
    return { host: url, rest: "" };
  }
}

export type FormField = "url" | "events" | "description" | "preset";

/** Which form field a 400 answer is about. The server names the field first in its reasons
 * ("events must list ...", "description: String should have ...") except for the address
 * checks, which talk about the host ("127.0.0.1 is a loopback address ..."): those are the URL's. */
export function fieldOfReason(reason: string): FormField {
  const m = /^(url|events|description|preset)\b/.exec(reason);
  return m ? (m[1] as FormField) : "url";
}

export type Tone = "green" | "red" | "amber" | "grey";

/** The badge of a subscription. */
export function webhookBadge(w: Pick<Webhook, "status">): { label: string; tone: Tone } {
  if (w.status === "failing") return { label: "Failing", tone: "red" };
  if (w.status === "disabled") return { label: "Disabled", tone: "grey" };
  return { label: "Active", tone: "green" };
}

/** The badge of one delivery. */
export function deliveryBadge(d: Pick<Delivery, "status">): { label: string; tone: Tone } {
  switch (d.status) {
    case "delivered":
      return { label: "Delivered", tone: "green" };
    case "failed":
      return { label: "Failed", tone: "red" };
    case "sending":
      return { label: "Sending", tone: "amber" };
    default:
      return { label: "Queued", tone: "amber" };
  }
}

/** A delivery that can be sent again now: one that failed, or one waiting for its next try. */
export const canRetry = (d: Pick<Delivery, "status">) => d.status === "failed" || d.status === "pending";

/** Still on its way: worth looking at again in a moment. */
export const inFlight = (d: Pick<Delivery, "status">) => d.status === "pending" || d.status === "sending";

/** One line on how a delivery went, e.g. "Delivered: HTTP 200" or "Failed: HTTP 500". */
export function deliveryOutcome(d: Pick<Delivery, "status" | "response" | "last_error">): string {
  const code = d.response?.status_code;
  const label = deliveryBadge(d).label;
  if (code) return `${label}: HTTP ${code}`;
  if (d.last_error && d.status !== "delivered") return `${label}: ${d.last_error}`;
  return label;
}

export function when(iso: string | null): string {
  if (!iso) return "";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}
