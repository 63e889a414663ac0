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

export interface Integration {
  system: string;
  configured: boolean;
  config: ConnectWiseConfig | null;
  last_success: { at: string; session_id: string; ticket_id: number } | null;
  last_error: { at: string; session_id: string; reason: string } | null;
  queued: PsaPush[];
  failed: PsaPush[];
}

/** The ticket number in a session's ticket field ("1234" or "#1234"), as the server reads it. */
export function ticketNumber(text: string | null | undefined): number | null {
  const m = /^#?([0-9]{1,9})$/.exec((text || "").trim());
  return m ? Number(m[1]) : null;
}

export type Target = { kind: "create" } | { kind: "attach"; ticket: string };

/** The push request for the choice made in the send dialog; an error text when it cannot be sent. */
export function pushBody(target: Target, timeEntry: boolean): { body: Record<string, unknown> } | { error: string } {
  if (target.kind === "create") return { body: { system: "connectwise", create_ticket: true, time_entry: timeEntry } };
  const n = ticketNumber(target.ticket);
  if (n === null || n < 1) return { error: "Enter the ConnectWise ticket number, digits only (e.g. 48213)." };
  return { body: { system: "connectwise", ticket_id: n, time_entry: timeEntry } };
}

/** "ConnectWise #48213 · In Progress": how the session header names its ticket. */
export function psaLabel(psa: PsaLink): string {
  const name = psa.system === "connectwise" ? "ConnectWise" : psa.system;
  return `${name} #${psa.ticket_id}${psa.status ? ` · ${psa.status}` : ""}`;
}

/** Only http(s) links are followed: the URL comes from the server, but a header is data. */
export function safeUrl(url: string | null | undefined): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}
