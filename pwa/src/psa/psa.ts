// The PSA connector as the app shows it: what the server answers, and the small rules the
// screens share (which ticket a push goes to, how a ticket link reads).
import type { PsaLink } from "../data/sessions";

export interface PsaPush {
  system: string;
  session_id: string;
  status: "pending" | "sending" | "done" | "failed";
  ticket_id: number | null;
  attempt_count: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string | null;
}

export interface ConnectWiseConfig {
  site_url: string;
  company_id: string;
  public_key: string;
  client_id: string;
  board: string | null;
  status: string | null;
  member: string | null;
  work_type: string | null;
  company: string | null;
  note_type: "internal" | "discussion";
  note_format: "text" | "markdown";
  time_entry: boolean;
  auto_push: boolean;
  private_key_set: boolean;
}

export interface AutotaskConfig {
  api_user: string;
  integration_code: string;
  company: number | null;
  queue_id: number | null;
  ticket_status: number;
  priority: number;
  due_hours: number;
  resource_id: number | null;
  role_id: number | null;
  note_type_id: number;
  note_publish: "internal" | "all";
  note_format: "text" | "markdown";
  time_entry: boolean;
  auto_push: boolean;
  secret_set: boolean;
}

export interface Integration<C = ConnectWiseConfig> {
  system: string;
  configured: boolean;
  config: C | null;
  last_success: { at: string; session_id: string; ticket_id: number } | null;
  last_error: { at: string; session_id: string | null; reason: string } | null;
  last_check: { at: string; ok: boolean; reason: string | null } | null;
  zone: { url: string; web_url: string; name: string } | null;
  queued: PsaPush[];
  failed: PsaPush[];
}

const VENDORS: Record<string, string> = { connectwise: "ConnectWise", autotask: "Autotask" };

/** The PSA's name as people know it ("connectwise" -> "ConnectWise"). */
export function vendorName(system: string): string {
  return VENDORS[system] ?? system;
}

/** An Autotask id typed in a form: digits only, or empty for "not set"; an error text otherwise. */
export function parseId(text: string, label: string): { value: number | null } | { error: string } {
  const t = text.trim();
  if (!t) return { value: null };
  if (!/^[0-9]{1,10}$/.test(t) || Number(t) < 1) return { error: `${label} must be the number Autotask shows for it (digits only).` };
  return { value: Number(t) };
}

/** The ticket number in a session's ticket field ("1234" or "#1234"), as the server reads it. */
export function ticketNumber(text: string | null | undefined): number | null {
  const m = /^#?([0-9]{1,9})$/.exec((text || "").trim());
  return m ? Number(m[1]) : null;
}

export type Target = { kind: "create" } | { kind: "attach"; ticket: string };

const AUTOTASK_NUMBER = /^T[0-9]{8}\.[0-9]{1,6}$/i;

/** The ticket a session's ticket field names for `system`, as the server reads it: a
 * ConnectWise number, or an Autotask ticket number ("T20261203.0042"). A bare number is never
 * offered as an Autotask id: it is as likely another system's ticket number. */
export function ticketRef(system: string, text: string | null | undefined): string | null {
  const t = (text || "").trim();
  if (system === "autotask") return AUTOTASK_NUMBER.test(t) ? t.toUpperCase() : null;
  const n = ticketNumber(t);
  return n !== null ? String(n) : null;
}

/** The push request for the choice made in the send dialog; an error text when it cannot be sent. */
export function pushBody(target: Target, timeEntry: boolean, system = "connectwise"): { body: Record<string, unknown> } | { error: string } {
  if (target.kind === "create") return { body: { system, create_ticket: true, time_entry: timeEntry } };
  const n = ticketNumber(target.ticket);
  if (n !== null && n >= 1) return { body: { system, ticket_id: n, time_entry: timeEntry } };
  const t = target.ticket.trim();
  if (system === "autotask" && AUTOTASK_NUMBER.test(t)) return { body: { system, ticket_number: t.toUpperCase(), time_entry: timeEntry } };
  if (system === "autotask") return { error: "Enter the Autotask ticket number (e.g. T20261203.0042) or the ticket's id." };
  return { error: "Enter the ConnectWise ticket number, digits only (e.g. 48213)." };
}

/** "ConnectWise #48213 · In Progress": how the session header names its ticket. */
export function psaLabel(psa: PsaLink): string {
  const name = vendorName(psa.system);
  return `${name} #${psa.ticket_id}${psa.status ? ` · ${psa.status}` : ""}`;
}

/** Only http(s) links are followed: the URL comes from the server, but a header is data. */
export function safeUrl(url: string | null | undefined): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

/** Which configured PSA to ask about the ticket a link names: an Autotask ticket number only
 * Autotask knows, a bare number only ConnectWise (never read as Autotask's internal id). */
export function lookupOrder(systems: string[], ticket: string): string[] {
  const t = ticket.trim();
  const system = AUTOTASK_NUMBER.test(t) ? "autotask" : ticketNumber(t) !== null ? "connectwise" : null;
  return systems.filter((s) => s === system);
}
