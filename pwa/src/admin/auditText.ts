// The audit log in words: who did what to what, as one plain sentence per entry, and the
// filters of the Audit log page as a URL query. Pure functions, so every action the server
// records is checked in auditText.test.ts without a server or a browser.
import { formatBytes } from "./sizes";

export interface AuditActor {
  type: string; // user, api_key, system, share_link (a shared link's viewer), anonymous
  id: string;
  email?: string;
  /** An API key's name when it acted (entries from before the server kept it have none). */
  name?: string;
}

export interface AuditEntry {
  id: string;
  seq: number;
  ts: string;
  actor: AuditActor;
  action: string;
  target: { type: string; id: string | null };
  ip: string | null;
  details: Record<string, unknown>;
}

/** What the page could look up of the tenant, to name people, keys, trees and teams
 * instead of showing their ids. Any of them may be missing (a deleted user, a list that did
 * not load): the sentences then fall back to the id. */
export interface AuditNames {
  users?: Record<string, { name?: string; email?: string }>;
  keys?: Record<string, string>;
  trees?: Record<string, string>;
  teams?: Record<string, string>;
}

/** Every action the server records today, grouped as the filter offers them. A new action
 * the server starts recording still shows (as its dotted name) until it is added here. */
export const ACTION_GROUPS: { label: string; prefix: string; actions: string[] }[] = [
  { label: "Sign-ins", prefix: "auth.", actions: ["auth.signed_in", "auth.sign_in_failed", "auth.sso_signed_in", "auth.sso_failed"] },
  {
    label: "Users and invitations",
    prefix: "user.",
    actions: [
      "user.created",
      "user.invited",
      "user.invite_resent",
      "user.invite_cancelled",
      "user.invite_accepted",
      "user.role_changed",
      "user.deactivated",
      "user.reactivated",
      "user.renamed",
      "user.reviewer_changed",
      "user.password_changed",
      "user.password_reset",
    ],
  },
  { label: "Teams", prefix: "team.", actions: ["team.created", "team.updated", "team.deleted"] },
  { label: "API keys", prefix: "api_key.", actions: ["api_key.created", "api_key.revoked"] },
  {
    label: "Trees and reviews",
    prefix: "tree.",
    actions: [
      "tree.published",
      "tree.rolled_back",
      "tree.archived",
      "tree.imported",
      "tree.teams_changed",
      "tree.reviewed",
      "tree.flagged",
      "tree.review_requested",
      "tree.review_commented",
      "tree.review_approved",
      "tree.review_rejected",
      "tree.review_withdrawn",
    ],
  },
  { label: "Sessions", prefix: "session.", actions: ["session.sharing_changed", "session.exported"] },
  { label: "Share links", prefix: "share_link.", actions: ["share_link.created", "share_link.revoked", "share_link.viewed"] },
  { label: "Scripts", prefix: "script.", actions: ["script.created", "script.imported", "script.updated", "script.published", "script.archived"] },
  { label: "Remote runs (RMM)", prefix: "rmm.", actions: ["rmm.configured", "rmm.run_requested", "rmm.run_approved", "rmm.run_approval_refused", "rmm.run_finished"] },
  { label: "Tickets (PSA)", prefix: "psa.", actions: ["psa.push_requested", "psa.pushed", "psa.push_failed"] },
  { label: "Webhooks", prefix: "webhook.", actions: ["webhook.created", "webhook.updated", "webhook.deleted", "webhook.failing"] },
  { label: "Team account", prefix: "tenant.", actions: ["tenant.created", "tenant.renamed", "tenant.quota_changed", "tenant.imported"] },
  { label: "Integrations", prefix: "integration.", actions: ["integration.configured"] },
  { label: "Single sign-on", prefix: "sso.", actions: ["sso.settings_changed", "sso.domain_verified"] },
  { label: "Brand", prefix: "brand.", actions: ["brand.changed", "brand.domain_verified"] },
  { label: "Backups", prefix: "backup.", actions: ["backup.created", "backup.downloaded"] },
  { label: "Export settings", prefix: "export_settings.", actions: ["export_settings.changed"] },
  { label: "Export templates", prefix: "export_template.", actions: ["export_template.changed", "export_template.deleted"] },
  { label: "Attachment settings", prefix: "attachment_settings.", actions: ["attachment_settings.changed"] },
  { label: "Publishing settings", prefix: "publishing_settings.", actions: ["publishing_settings.changed"] },
  { label: "Review reminders", prefix: "freshness_settings.", actions: ["freshness_settings.changed"] },
  { label: "Starter library", prefix: "starter_library.", actions: ["starter_library.loaded"] },
  { label: "Audit log settings", prefix: "audit.", actions: ["audit.settings_changed"] },
];

export const KNOWN_ACTIONS: string[] = ACTION_GROUPS.flatMap((g) => g.actions);

const ROLE_NAMES: Record<string, string> = { owner: "owner", admin: "admin", author: "author", engineer: "engineer", viewer: "viewer" };

const SIGN_IN_FAILURES: Record<string, string> = {
  wrong_password: "wrong password",
  deactivated: "the account is deactivated",
  sso_required: "the team signs in with single sign-on only",
  unknown_email: "no account has that e-mail",
};

const FIELD_NAMES: Record<string, string> = {
  name: "name",
  primary_color: "colour",
  custom_domain: "custom domain",
  logo: "logo",
  enabled: "on/off",
  protocol: "protocol",
  issuer: "issuer",
  client_id: "client id",
  client_secret: "client secret",
  require_sso: "SSO-only sign-in",
  allowed_domains: "allowed domains",
  default_role: "default role",
  jit: "automatic accounts",
};

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null;
}

function quoted(v: unknown): string {
  const s = str(v);
  return s === null ? "(none)" : `“${s}”`;
}

function role(v: unknown): string {
  const s = str(v);
  return s ? (ROLE_NAMES[s] ?? s) : "(none)";
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

function fields(v: unknown): string {
  const names = Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  return names.length ? list(names.map((n) => FIELD_NAMES[n] ?? n.replace(/_/g, " "))) : "settings";
}

function fromTo(v: unknown): { from: unknown; to: unknown } | null {
  return v && typeof v === "object" && "to" in v ? (v as { from: unknown; to: unknown }) : null;
}

/** Look a tree up by its id with or without the `tree:` prefix. */
function treeName(id: string | null, names: AuditNames): string {
  if (!id) return "a tree";
  const slug = id.startsWith("tree:") ? id.slice(5) : id;
  const title = names.trees?.[id] ?? names.trees?.[`tree:${slug}`];
  return title ?? slug;
}

function userName(id: string | null, names: AuditNames, details: Record<string, unknown> = {}): string {
  const known = id ? names.users?.[id] : undefined;
  return known?.name || known?.email || str(details.email) || (id ? `user ${id}` : "a user");
}

function teamName(id: string | null, names: AuditNames, details: Record<string, unknown> = {}): string {
  return (id && names.teams?.[id]) || str(details.name) || (id ? `team ${id}` : "a team");
}

function keyName(id: string | null, names: AuditNames, details: Record<string, unknown> = {}): string {
  const bare = id?.startsWith("apikey:") ? id.slice(7) : id;
  const name = (bare && names.keys?.[bare]) || str(details.name);
  return name ? `the API key ${quoted(name)}` : `API key ${bare ?? ""}`.trim();
}

function system(v: unknown): string {
  const s = str(v);
  if (!s) return "the ticketing system";
  const known: Record<string, string> = { connectwise: "ConnectWise", autotask: "Autotask", ninjaone: "NinjaOne", datto: "Datto RMM", fake: "the test system" };
  return known[s] ?? s;
}

function possessive(name: string): string {
  return name.endsWith("s") ? `${name}’` : `${name}’s`;
}

function yesNo(v: unknown, on: string, off: string): string {
  return v ? on : off;
}

function retention(v: unknown): string {
  return typeof v === "number" ? `${v} day${v === 1 ? "" : "s"}` : "forever";
}

/** The sentence for one entry, its subject left out (the page shows who next to it):
 * "changed Ana’s role from engineer to admin". An action this list does not know shows as
 * its dotted name, so nothing the server records is ever hidden. */
export function describeAction(entry: Pick<AuditEntry, "action" | "target" | "details">, names: AuditNames = {}): string {
  const d = entry.details ?? {};
  const id = entry.target?.id ?? null;
  const user = () => userName(id, names, d);
  const tree = () => treeName(id, names);
  const change = fromTo(d);
  switch (entry.action) {
    case "auth.signed_in":
      return "signed in";
    case "auth.sign_in_failed": {
      const why = SIGN_IN_FAILURES[str(d.reason) ?? ""] ?? str(d.reason);
      return why ? `failed to sign in: ${why}` : "failed to sign in";
    }
    case "auth.sso_signed_in":
      return str(d.protocol) ? `signed in with single sign-on (${String(d.protocol).toUpperCase()})` : "signed in with single sign-on";
    case "auth.sso_failed":
      return `refused a single sign-on: ${str(d.message) ?? str(d.reason) ?? "no reason given"}`;
    case "tenant.created":
      return "created the team’s Branchline account";
    case "tenant.quota_changed": {
      const quota = fromTo(d.storage_bytes);
      const size = (v: unknown) => (typeof v !== "number" ? "the server’s default" : v === 0 ? "no limit" : formatBytes(v));
      return quota ? `changed the storage quota from ${size(quota.from)} to ${size(quota.to)}` : "changed the storage quota";
    }
    case "tenant.renamed":
      return `renamed the team from ${quoted(d.from)} to ${quoted(d.to)}`;
    case "tenant.imported":
      return str(d.archive_created_at) ? `recreated the team from its archive of ${String(d.archive_created_at).slice(0, 10)}` : "recreated the team from an archive";
    case "backup.created":
      return typeof d.bytes === "number" ? `backed up the team’s data now (${formatBytes(d.bytes)})` : "backed up the team’s data now";
    case "backup.downloaded":
      return "downloaded all of the team’s data";
    case "user.created":
      return `created the account of ${user()} as ${role(d.role)}${d.via === "sso" ? " (first single sign-on)" : ""}`;
    case "user.invited":
      return `invited ${user()} as ${role(d.role)}`;
    case "user.invite_resent":
      return `sent ${user()} a new invitation`;
    case "user.invite_cancelled":
      return `cancelled the invitation of ${user()}`;
    case "user.invite_accepted":
      return `accepted the invitation${d.via === "sso" ? " by single sign-on" : ""}`;
    case "user.role_changed":
      return `changed ${possessive(user())} role from ${role(d.from)} to ${role(d.to)}`;
    case "user.deactivated":
      return `deactivated ${user()}`;
    case "user.reactivated":
      return `reactivated ${user()}`;
    case "user.renamed":
      return `renamed ${quoted(d.from)} to ${quoted(d.to)}`;
    case "user.reviewer_changed":
      return d.to ? `made ${user()} a named reviewer` : `removed ${user()} from the named reviewers`;
    case "user.password_changed":
      return "changed their password";
    case "user.password_reset":
      return `reset the password of ${user()}${str(d.by) ? " on the server’s command line" : ""}`;
    case "api_key.created":
      return `created ${keyName(id, names, d)}${str(d.role) ? ` acting as ${role(d.role)}` : ""}`;
    case "api_key.revoked":
      return `revoked ${keyName(id, names, d)}`;
    case "team.created":
      return `created the team ${quoted(teamName(id, names, d))}`;
    case "team.updated": {
      const rename = fromTo(d.name);
      if (rename) return `renamed the team ${quoted(rename.from)} to ${quoted(rename.to)}`;
      return `changed the members of the team ${quoted(teamName(id, names, d))}`;
    }
    case "team.deleted":
      return `deleted the team ${quoted(teamName(id, names, d))}`;
    case "tree.published":
      return `published ${tree()}${str(d.version) ? ` v${str(d.version)}` : ""}${str(d.review_id) ? " (after an approved review)" : ""}`;
    case "tree.rolled_back":
      return `rolled ${tree()} back to v${str(d.version) ?? "?"}`;
    case "tree.archived":
      return `archived ${tree()}`;
    case "tree.imported":
      return d.replace ? `imported ${tree()}, replacing the draft` : `imported ${tree()}`;
    case "tree.teams_changed": {
      const teams = d.teams && typeof d.teams === "object" ? Object.keys(d.teams) : [];
      return teams.length ? `limited ${tree()} to ${list(teams.map((t) => teamName(t, names)))}` : `opened ${tree()} to everyone`;
    }
    case "tree.reviewed":
      return `marked ${tree()} as reviewed${str(d.next_review_due) ? `, next review due ${String(d.next_review_due).slice(0, 10)}` : ""}`;
    case "tree.flagged":
      return `flagged ${tree()} for review: ${str(d.reason) ?? str(d.kind) ?? "no reason given"}`;
    case "tree.review_requested":
      return `asked for a review of ${tree()}${str(d.note) ? `: ${quoted(d.note)}` : ""}`;
    case "tree.review_commented":
      return `commented on the review of ${tree()}`;
    case "tree.review_approved":
      return `approved the review of ${tree()}`;
    case "tree.review_rejected":
      return `sent ${tree()} back for changes${str(d.comment) ? `: ${quoted(d.comment)}` : ""}`;
    case "tree.review_withdrawn":
      return `withdrew the review of ${tree()}`;
    case "starter_library.loaded":
      return "loaded the starter library";
    case "session.sharing_changed": {
      if (d.owner_id !== undefined) return `handed the session ${id ?? ""} to ${userName(str(d.owner_id), names)}`.replace("  ", " ");
      const people = Array.isArray(d.shared_with) ? d.shared_with.filter((x): x is string => typeof x === "string") : [];
      return people.length ? `shared the session with ${list(people.map((p) => userName(p, names)))}` : "stopped sharing the session";
    }
    case "session.exported":
      return `exported the session${str(d.format) ? ` as ${String(d.format).toUpperCase()}` : ""}${d.via === "device" ? " on their device" : ""}`;
    case "share_link.created":
      return `created a read-only link to the session${str(d.expires_at) ? `, expiring ${String(d.expires_at).slice(0, 10)}` : ""}`;
    case "share_link.revoked":
      return "revoked a read-only link to the session";
    case "share_link.viewed":
      return "opened the session through a read-only link";
    case "script.created":
      return `created the script ${quoted(d.name ?? id)}`;
    case "script.imported":
      return `imported the script ${quoted(d.name ?? id)}`;
    case "script.updated":
      return `edited the script ${quoted(d.name ?? id)}`;
    case "script.published":
      return `published the script ${quoted(d.name ?? id)}${str(d.version) ? ` v${str(d.version)}` : ""}${str(d.risk) ? ` (risk: ${str(d.risk)})` : ""}`;
    case "script.archived":
      return `archived the script ${quoted(d.name ?? id)}`;
    case "rmm.configured":
      return `changed the ${system(id)} connection`;
    case "rmm.run_requested":
      return `asked to run a script on device ${str(d.device_id) ?? "?"}${d.awaiting_approval ? " (waiting for approval)" : ""}`;
    case "rmm.run_approved":
      return "approved a script run";
    case "rmm.run_approval_refused":
      return `could not approve a script run: ${str(d.reason) ?? "no reason given"}`;
    case "rmm.run_finished": {
      const result = str(d.result) ?? "finished";
      return `script run on device ${str(d.device_id) ?? "?"} ${result}${str(d.error) ? `: ${str(d.error)}` : ""}`;
    }
    case "integration.configured":
      return `changed the ${system(id)} connection (${fields(d.changed)})`;
    case "psa.push_requested":
      return d.create_ticket ? `asked to send the session to a new ${system(d.system)} ticket` : `asked to send the session to ${system(d.system)} ticket ${str(d.ticket_id) ?? "?"}`;
    case "psa.pushed":
      return `sent the session to ${system(d.system)} ticket ${str(d.ticket_id) ?? "?"}`;
    case "psa.push_failed":
      return `could not send the session to ${system(d.system)}: ${str(d.error) ?? "no reason given"}`;
    case "webhook.created":
      return `added a webhook to ${str(d.url) ?? "?"}`;
    case "webhook.updated":
      return `changed the webhook${Object.keys(d).length ? ` (${list(Object.keys(d).map((k) => k.replace(/_/g, " ")))})` : ""}`;
    case "webhook.deleted":
      return `removed the webhook to ${str(d.url) ?? "?"}`;
    case "webhook.failing":
      return `gave up delivering to the webhook ${str(d.url) ?? "?"}${str(d.error) ? `: ${str(d.error)}` : ""}`;
    case "sso.domain_verified":
      return `proved the e-mail domain ${str(d.domain) ?? "?"} with a DNS record`;
    case "brand.domain_verified":
      return `proved the custom domain ${str(d.domain) ?? "?"}${d.via === "dns" ? " with a DNS record" : ""}`;
    case "sso.settings_changed":
      return `changed single sign-on (${fields(d.changed)})`;
    case "brand.changed":
      return `changed the brand (${fields(d.changed)})`;
    case "export_settings.changed":
      return "changed the export defaults";
    case "export_template.changed":
      return `changed the ${(id ?? "").toUpperCase() || "export"} export template`;
    case "export_template.deleted":
      return `went back to the built-in ${(id ?? "").toUpperCase() || "export"} template`;
    case "attachment_settings.changed":
      return "changed the attachment settings";
    case "publishing_settings.changed": {
      const approval = fromTo(d.require_approval);
      return approval ? yesNo(approval.to, "required an approved review before publishing", "stopped requiring a review before publishing") : "changed the publishing settings";
    }
    case "freshness_settings.changed":
      return "changed the review reminders";
    case "audit.settings_changed": {
      const days = fromTo(d.retention_days);
      return days ? `changed how long the audit log is kept from ${retention(days.from)} to ${retention(days.to)}` : "changed the audit log settings";
    }
    default:
      return change ? `${entry.action} (from ${quoted(change.from)} to ${quoted(change.to)})` : entry.action;
  }
}

/** Who acted: an e-mail, an API key's name, the system, or a shared link's viewer. */
export function actorLabel(actor: AuditActor, names: AuditNames = {}): string {
  switch (actor.type) {
    case "user":
      return actor.email || names.users?.[actor.id]?.email || names.users?.[actor.id]?.name || `user ${actor.id}`;
    case "api_key": {
      const bare = actor.id.startsWith("apikey:") ? actor.id.slice(7) : actor.id;
      const name = actor.name || names.keys?.[bare];
      return name ? `API key “${name}”` : `API key ${bare}`;
    }
    case "system":
      return "Branchline (automatic)";
    case "share_link":
      return "someone with a read-only link";
    default:
      return `${actor.type} ${actor.id}`;
  }
}

/** What the action was done to, in words (the id when nothing better is known). */
export function targetLabel(entry: Pick<AuditEntry, "target" | "details">, names: AuditNames = {}): string {
  const { type, id } = entry.target ?? { type: "", id: null };
  switch (type) {
    case "user":
      return userName(id, names, entry.details);
    case "tree":
      return treeName(id, names);
    case "team":
      return teamName(id, names, entry.details);
    case "api_key":
      return keyName(id, names, entry.details);
    case "tenant":
    case "audit_settings":
    case "export_settings":
    case "attachment_settings":
      return "the team";
    default:
      return id ? `${type.replace(/_/g, " ")} ${id}` : type.replace(/_/g, " ");
  }
}

/** "just now", "5 min ago", "3 h ago" within a day; else null (the page shows the date). */
export function recently(ts: string, now: number): string | null {
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) return null;
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  return h < 24 ? `${h} h ago` : null;
}

// --- filters in the URL ----------------------------------------------------------------------

export interface AuditFilters {
  action: string;
  actor: string;
  from: string;
  to: string;
  /** The page size (not shown: a shared link may carry it). */
  limit?: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Filters from the page's query string; values the page cannot use are dropped. */
export function filtersFromQuery(search: string): AuditFilters {
  const q = new URLSearchParams(search);
  const date = (v: string | null) => (v && DATE.test(v) ? v : "");
  const limit = Number(q.get("limit"));
  return {
    action: (q.get("action") ?? "").trim(),
    actor: (q.get("actor") ?? "").trim(),
    from: date(q.get("from")),
    to: date(q.get("to")),
    ...(Number.isInteger(limit) && limit >= 1 && limit <= 200 ? { limit } : {}),
  };
}

/** The query string of the page (and of the API call), without empty filters. */
export function filtersToQuery(f: AuditFilters): string {
  const q = new URLSearchParams();
  if (f.action) q.set("action", f.action);
  if (f.actor.trim()) q.set("actor", f.actor.trim());
  if (f.from) q.set("from", f.from);
  if (f.to) q.set("to", f.to);
  if (f.limit) q.set("limit", String(f.limit));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The API's query for the filters. The dates are the user's own calendar days: the server
 * reads a bare date as a UTC day, so each is sent as the instant its local midnight falls on
 * (`to` as the next day's, the API's `to` being exclusive). */
export function apiQuery(f: AuditFilters): string {
  const midnight = (day: string, plusDays: number) => {
    const [y, m, d] = day.split("-").map(Number);
    return new Date(y, m - 1, d + plusDays).toISOString();
  };
  const q = new URLSearchParams(filtersToQuery(f));
  if (f.from) q.set("from", midnight(f.from, 0));
  if (f.to) q.set("to", midnight(f.to, 1));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The group or action a filter value stands for, in words. */
export function actionFilterLabel(value: string): string {
  const group = ACTION_GROUPS.find((g) => g.prefix === value);
  if (group) return group.label;
  return value;
}
