import { describe, expect, it } from "vitest";
import { ACTION_GROUPS, actorLabel, apiQuery, describeAction, filtersFromQuery, filtersToQuery, KNOWN_ACTIONS, recently, targetLabel, type AuditEntry, type AuditNames } from "./auditText";

// Every action the server records (grep api/ for `audit.record(`, `audit.append(` and the
// actions passed through helpers: users' user_changes, publishreview's _audit, the PSA and
// RMM workers' _audit), with details shaped as the server writes them.
const SERVER_ACTIONS: [string, string, string | null, Record<string, unknown>, string][] = [
  ["auth.signed_in", "user", "u1", {}, "signed in"],
  ["auth.sign_in_failed", "user", "u1", { reason: "wrong_password" }, "failed to sign in: wrong password"],
  ["auth.sso_signed_in", "user", "u1", { protocol: "oidc", issuer: "https://idp" }, "signed in with single sign-on (OIDC)"],
  ["auth.sso_failed", "tenant", "t1", { reason: "expired", message: "The assertion expired." }, "refused a single sign-on: The assertion expired."],
  ["tenant.created", "tenant", "t1", {}, "created the team’s Branchline account"],
  ["tenant.renamed", "tenant", "t1", { from: "Old MSP", to: "New MSP" }, "renamed the team from “Old MSP” to “New MSP”"],
  ["tenant.imported", "tenant", "t1", { archive_created_at: "2026-12-01T10:00:00.000Z", attachments: 3, users: 4 }, "recreated the team from its archive of 2026-12-01"],
  ["backup.created", "backup", "workspace-20261204T100000000000Z", { databases: 5, bytes: 2_516_582, doc_count: 102 }, "backed up the team’s data now (2.4 MB)"],
  ["backup.downloaded", "tenant", "t1", { file: "branchline-msp-20261204-100000.zip" }, "downloaded all of the team’s data"],
  ["user.created", "user", "u2", { email: "ana@msp.example", role: "engineer" }, "created the account of Ana as engineer"],
  ["user.invited", "user", "u2", { email: "ana@msp.example", role: "author" }, "invited Ana as author"],
  ["user.invite_resent", "user", "u2", {}, "sent Ana a new invitation"],
  ["user.invite_cancelled", "user", "u2", {}, "cancelled the invitation of Ana"],
  ["user.invite_accepted", "user", "u2", { email: "ana@msp.example", role: "engineer", via: "sso" }, "accepted the invitation by single sign-on"],
  ["user.role_changed", "user", "u2", { from: "engineer", to: "admin" }, "changed Ana’s role from engineer to admin"],
  ["user.deactivated", "user", "u2", {}, "deactivated Ana"],
  ["user.reactivated", "user", "u2", {}, "reactivated Ana"],
  ["user.renamed", "user", "u2", { from: "Ana", to: "Ana Silva" }, "renamed “Ana” to “Ana Silva”"],
  ["user.reviewer_changed", "user", "u2", { from: false, to: true }, "made Ana a named reviewer"],
  ["user.password_changed", "user", "u2", {}, "changed their password"],
  ["user.password_reset", "user", "u2", { by: "branchline user reset-password" }, "reset the password of Ana on the server’s command line"],
  ["api_key.created", "api_key", "k1", { name: "PSA sync", role: "viewer" }, "created the API key “PSA sync” acting as viewer"],
  ["api_key.revoked", "api_key", "k1", {}, "revoked the API key “PSA sync”"],
  ["team.created", "team", "team1", { name: "Network", members: [] }, "created the team “Network”"],
  ["team.updated", "team", "team1", { members: { from: [], to: ["u2"] } }, "changed the members of the team “Network”"],
  ["team.deleted", "team", "gone", { name: "Desk" }, "deleted the team “Desk”"],
  ["tree.published", "tree", "tree:citrix-vda", { version: 4 }, "published Citrix VDA Not Registering v4"],
  ["tree.rolled_back", "tree", "tree:citrix-vda", { version: 2 }, "rolled Citrix VDA Not Registering back to v2"],
  ["tree.archived", "tree", "tree:citrix-vda", {}, "archived Citrix VDA Not Registering"],
  ["tree.imported", "tree", "tree:citrix-vda", { replace: false }, "imported Citrix VDA Not Registering"],
  ["tree.teams_changed", "tree", "tree:citrix-vda", { teams: { team1: ["run"] } }, "limited Citrix VDA Not Registering to Network"],
  ["tree.reviewed", "tree", "tree:citrix-vda", { next_review_due: "2027-03-01T00:00:00Z", flags_cleared: 1 }, "marked Citrix VDA Not Registering as reviewed, next review due 2027-03-01"],
  ["tree.flagged", "tree", "tree:citrix-vda", { kind: "stale", reason: "Not reviewed for 180 days" }, "flagged Citrix VDA Not Registering for review: Not reviewed for 180 days"],
  ["tree.review_requested", "tree", "tree:citrix-vda", { review_id: "r1", rev: "3-a", note: "new step" }, "asked for a review of Citrix VDA Not Registering: “new step”"],
  ["tree.review_commented", "tree", "tree:citrix-vda", { review_id: "r1", rev: "3-a", comment_id: "c1", node_id: "n1" }, "commented on the review of Citrix VDA Not Registering"],
  ["tree.review_approved", "tree", "tree:citrix-vda", { review_id: "r1", rev: "3-a", comment: null }, "approved the review of Citrix VDA Not Registering"],
  ["tree.review_rejected", "tree", "tree:citrix-vda", { review_id: "r1", rev: "3-a", comment: "typo" }, "sent Citrix VDA Not Registering back for changes: “typo”"],
  ["tree.review_withdrawn", "tree", "tree:citrix-vda", { review_id: "r1", rev: "3-a" }, "withdrew the review of Citrix VDA Not Registering"],
  ["starter_library.loaded", "tenant", "t1", {}, "loaded the starter library"],
  ["session.sharing_changed", "session", "s1", { shared_with: ["u2"] }, "shared the session with Ana"],
  ["session.exported", "session", "s1", { format: "pdf" }, "exported the session as PDF"],
  ["share_link.created", "session", "s1", { link_id: "l1", expires_at: "2026-12-31T00:00:00Z", attachments: false }, "created a read-only link to the session, expiring 2026-12-31"],
  ["share_link.revoked", "session", "s1", { link_id: "l1" }, "revoked a read-only link to the session"],
  ["share_link.viewed", "session", "s1", { link_id: "l1", created_by: "u1" }, "opened the session through a read-only link"],
  ["script.created", "script", "script:dns", { name: "Flush DNS", risk: "low" }, "created the script “Flush DNS”"],
  ["script.imported", "script", "script:dns", { name: "Flush DNS", risk: "low", replace: false }, "imported the script “Flush DNS”"],
  ["script.updated", "script", "script:dns", { name: "Flush DNS", risk: "low" }, "edited the script “Flush DNS”"],
  ["script.published", "script", "script:dns", { version: 2, risk: "low" }, "published the script “script:dns” v2 (risk: low)"],
  ["script.archived", "script", "script:dns", {}, "archived the script “script:dns”"],
  ["rmm.configured", "integration", "ninjaone", { changed: ["enabled"] }, "changed the NinjaOne connection"],
  ["rmm.run_requested", "session", "s1", { run_id: "r1", device_id: "PC-7", awaiting_approval: true }, "asked to run a script on device PC-7 (waiting for approval)"],
  ["rmm.run_approved", "session", "s1", { run_id: "r1" }, "approved a script run"],
  ["rmm.run_approval_refused", "session", "s1", { run_id: "r1", reason: "You requested it." }, "could not approve a script run: You requested it."],
  ["rmm.run_finished", "session", "s1", { result: "succeeded", device_id: "PC-7", error: null }, "script run on device PC-7 succeeded"],
  ["integration.configured", "integration", "connectwise", { changed: ["client_id"] }, "changed the ConnectWise connection (client id)"],
  ["psa.push_requested", "session", "s1", { system: "autotask", ticket_id: "T42", create_ticket: false }, "asked to send the session to Autotask ticket T42"],
  ["psa.pushed", "session", "s1", { system: "connectwise", ticket_id: "1234" }, "sent the session to ConnectWise ticket 1234"],
  ["psa.push_failed", "session", "s1", { system: "connectwise", error: "401 Unauthorized" }, "could not send the session to ConnectWise: 401 Unauthorized"],
  ["webhook.created", "webhook", "w1", { url: "https://hooks.example/x", events: ["session.completed"] }, "added a webhook to https://hooks.example/x"],
  ["webhook.updated", "webhook", "w1", { active: { from: true, to: false } }, "changed the webhook (active)"],
  ["webhook.deleted", "webhook", "w1", { url: "https://hooks.example/x" }, "removed the webhook to https://hooks.example/x"],
  ["webhook.failing", "webhook", "w1", { url: "https://hooks.example/x", error: "timeout" }, "gave up delivering to the webhook https://hooks.example/x: timeout"],
  ["sso.settings_changed", "tenant", "t1", { changed: ["issuer", "client_secret"] }, "changed single sign-on (issuer and client secret)"],
  ["brand.changed", "tenant", "t1", { changed: ["primary_color", "name"] }, "changed the brand (colour and name)"],
  ["sso.domain_verified", "tenant", "t1", { domain: "contoso.com" }, "proved the e-mail domain contoso.com with a DNS record"],
  ["brand.domain_verified", "tenant", "t1", { domain: "help.contoso.com", via: "dns" }, "proved the custom domain help.contoso.com with a DNS record"],
  ["tenant.quota_changed", "tenant", "t1", { storage_bytes: { from: null, to: 10737418240 }, by: "branchline tenant quota" }, "changed the storage quota from the server’s default to 10.0 GB"],
  ["export_settings.changed", "export_settings", "t1", { notes: false }, "changed the export defaults"],
  ["export_template.changed", "export_template", "html", {}, "changed the HTML export template"],
  ["export_template.deleted", "export_template", "html", {}, "went back to the built-in HTML template"],
  ["attachment_settings.changed", "attachment_settings", "t1", { max_size_mb: 5 }, "changed the attachment settings"],
  ["publishing_settings.changed", "tenant", "t1", { require_approval: { from: false, to: true } }, "required an approved review before publishing"],
  ["freshness_settings.changed", "tenant", "t1", { from: {}, to: {} }, "changed the review reminders"],
  ["audit.settings_changed", "audit_settings", "t1", { retention_days: { from: null, to: 90 } }, "changed how long the audit log is kept from forever to 90 days"],
];

const names: AuditNames = {
  users: { u1: { name: "Owner", email: "owner@msp.example" }, u2: { name: "Ana", email: "ana@msp.example" } },
  keys: { k1: "PSA sync" },
  trees: { "tree:citrix-vda": "Citrix VDA Not Registering" },
  teams: { team1: "Network" },
};

function entry(action: string, type: string, id: string | null, details: Record<string, unknown>): AuditEntry {
  return { id: "audit:1", seq: 1, ts: "2026-12-04T10:00:00.000Z", actor: { type: "user", id: "u1" }, action, target: { type, id }, ip: null, details };
}

describe("describeAction", () => {
  it.each(SERVER_ACTIONS)("%s reads as a sentence", (action, type, id, details, sentence) => {
    expect(describeAction(entry(action, type, id, details), names)).toBe(sentence);
  });

  it("knows every action the server records, and offers each in exactly one filter group", () => {
    expect([...KNOWN_ACTIONS].sort()).toEqual(SERVER_ACTIONS.map((a) => a[0]).sort());
    for (const g of ACTION_GROUPS) for (const a of g.actions) expect(a.startsWith(g.prefix)).toBe(true);
    expect(new Set(ACTION_GROUPS.map((g) => g.prefix)).size).toBe(ACTION_GROUPS.length);
  });

  it("never answers the dotted name for a known action, even with no details and no names", () => {
    for (const a of KNOWN_ACTIONS) expect(describeAction(entry(a, "x", "id1", {}))).not.toBe(a);
  });

  it("falls back to the dotted action for an action it does not know, with its change when there is one", () => {
    expect(describeAction(entry("vault.opened", "vault", "v1", {}))).toBe("vault.opened");
    expect(describeAction(entry("quota.changed", "tenant", "t1", { from: 5, to: 10 }))).toBe("quota.changed (from “5” to “10”)");
  });

  it("names people and trees by id when the page could not look them up", () => {
    expect(describeAction(entry("user.role_changed", "user", "u9", { from: "viewer", to: "author" }))).toBe("changed user u9’s role from viewer to author");
    expect(describeAction(entry("tree.published", "tree", "tree:wan-down", { version: 1 }))).toBe("published wan-down v1");
    expect(describeAction(entry("api_key.revoked", "api_key", "k9", {}))).toBe("revoked API key k9");
  });

  it("explains each sign-in refusal and the other sign-in outcomes", () => {
    expect(describeAction(entry("auth.sign_in_failed", "user", "u1", { reason: "deactivated" }))).toBe("failed to sign in: the account is deactivated");
    expect(describeAction(entry("auth.sign_in_failed", "user", "u1", { reason: "sso_required" }))).toBe("failed to sign in: the team signs in with single sign-on only");
    expect(describeAction(entry("user.reviewer_changed", "user", "u2", { from: true, to: false }), names)).toBe("removed Ana from the named reviewers");
    expect(describeAction(entry("audit.settings_changed", "audit_settings", "t1", { retention_days: { from: 30, to: null } }))).toBe("changed how long the audit log is kept from 30 days to forever");
    expect(describeAction(entry("team.updated", "team", "team1", { name: { from: "Net", to: "Network" } }), names)).toBe("renamed the team “Net” to “Network”");
    expect(describeAction(entry("tree.teams_changed", "tree", "tree:citrix-vda", { teams: {} }), names)).toBe("opened Citrix VDA Not Registering to everyone");
    expect(describeAction(entry("session.exported", "session", "s1", { via: "device", format: "markdown", how: "copy" }))).toBe("exported the session as MARKDOWN on their device");
  });
});

describe("actorLabel and targetLabel", () => {
  it("names users by e-mail, keys by name, and the system", () => {
    expect(actorLabel({ type: "user", id: "u1", email: "owner@msp.example" })).toBe("owner@msp.example");
    expect(actorLabel({ type: "user", id: "u2" }, names)).toBe("ana@msp.example");
    expect(actorLabel({ type: "api_key", id: "apikey:k1", name: "PSA sync" })).toBe("API key “PSA sync”");
    expect(actorLabel({ type: "api_key", id: "apikey:k1" }, names)).toBe("API key “PSA sync”");
    expect(actorLabel({ type: "api_key", id: "apikey:k7" })).toBe("API key k7");
    expect(actorLabel({ type: "system", id: "branchline" })).toBe("Branchline (automatic)");
    expect(actorLabel({ type: "share_link", id: "l1" })).toBe("someone with a read-only link");
  });

  it("names the target in words", () => {
    expect(targetLabel(entry("user.deactivated", "user", "u2", {}), names)).toBe("Ana");
    expect(targetLabel(entry("tree.archived", "tree", "tree:citrix-vda", {}), names)).toBe("Citrix VDA Not Registering");
    expect(targetLabel(entry("session.exported", "session", "s-42", {}))).toBe("session s-42");
    expect(targetLabel(entry("audit.settings_changed", "audit_settings", "t1", {}))).toBe("the team");
  });
});

describe("recently", () => {
  const now = Date.parse("2026-12-04T12:00:00Z");
  it("is relative within a day and null beyond", () => {
    expect(recently("2026-12-04T11:59:55.000Z", now)).toBe("just now");
    expect(recently("2026-12-04T11:55:00.000Z", now)).toBe("5 min ago");
    expect(recently("2026-12-04T09:00:00.000Z", now)).toBe("3 h ago");
    expect(recently("2026-12-02T09:00:00.000Z", now)).toBeNull();
    expect(recently("not a date", now)).toBeNull();
  });
});

describe("filters in the URL", () => {
  it("round-trips and drops what the page cannot use", () => {
    const f = { action: "auth.", actor: "ana@msp.example", from: "2026-12-01", to: "2026-12-04" };
    expect(filtersFromQuery(filtersToQuery(f))).toEqual(f);
    expect(filtersToQuery({ action: "", actor: "  ", from: "", to: "" })).toBe("");
    expect(filtersFromQuery("?from=yesterday&to=2026-13&limit=5000")).toEqual({ action: "", actor: "", from: "", to: "" });
    expect(filtersFromQuery("?limit=5").limit).toBe(5);
  });

  it("asks the API for the user's own calendar days, the whole of the To day included", () => {
    const q = new URLSearchParams(apiQuery({ action: "user.", actor: "", from: "2026-12-01", to: "2026-12-04", limit: 20 }));
    expect(q.get("from")).toBe(new Date(2026, 11, 1).toISOString());
    expect(q.get("to")).toBe(new Date(2026, 11, 5).toISOString());
    expect(q.get("action")).toBe("user.");
    expect(q.get("limit")).toBe("20");
    expect(new URLSearchParams(apiQuery({ action: "", actor: "", from: "", to: "2026-12-31" })).get("to")).toBe(new Date(2027, 0, 1).toISOString());
    expect(apiQuery({ action: "", actor: "", from: "", to: "" })).toBe("");
  });
});
