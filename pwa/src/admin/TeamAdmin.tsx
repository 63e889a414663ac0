// Team admin (owners and admins): members (invite or create, role, deactivate), teams, API keys
// (create with the secret shown once, revoke) and integrations (integrations/).
import { useCallback, useEffect, useState } from "react";
import { api, useSignIn } from "../data";
import { useSerialSave } from "../data/serialSave";
import { Button, Card, CopyButton, Dialog, ErrorBox, Field, inputClass, Loading, SaveStatus } from "../ui/kit";
import { AdminTabs, type AdminTab } from "./AdminTabs";
import { invitationTitle, SentMail, type MailNotice } from "./SentMail";
import { IntegrationsAdmin } from "./integrations/IntegrationsAdmin";
import { SsoAdmin } from "./SsoAdmin";
import { TeamsSection } from "./TeamsSection";

const ROLES = ["owner", "admin", "author", "engineer", "viewer"] as const;
const ROLE_HINT: Record<string, string> = {
  owner: "Everything, including other owners",
  admin: "Users, keys, integrations, every session",
  author: "Builds and publishes trees",
  engineer: "Runs sessions",
  viewer: "Reads trees",
};

interface User {
  id: string;
  email: string;
  display_name: string;
  role: string;
  reviewer?: boolean;
  active: boolean;
  /** active, deactivated, invited, invite_expired or invite_cancelled (older servers: absent). */
  status?: string;
  invite?: { expires_at: number; invited_at: string };
  created_at: string;
}
interface Key {
  id: string;
  name: string;
  role: string;
  prefix?: string;
  created_at?: string;
  revoked?: boolean;
  last_used_at?: string | null;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const statusOf = (u: User) => u.status || (u.active ? "active" : "deactivated");
/** Someone invited who never accepted: no password yet, so only a (new) invitation helps. */
const awaitingInvite = (u: User) => ["invited", "invite_expired", "invite_cancelled"].includes(statusOf(u));

function statusText(u: User): string | null {
  const when = u.invite ? new Date(u.invite.expires_at * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
  switch (statusOf(u)) {
    case "invited":
      return `Invited, expires ${when}`;
    case "invite_expired":
      return `Invitation expired ${when}`;
    case "invite_cancelled":
      return "Invitation cancelled";
    case "deactivated":
      return "deactivated";
    default:
      return null;
  }
}

function AddMemberDialog({ onClose, onDone }: { onClose: () => void; onDone: (msg: { title: string; secret?: string; label?: string }) => void }) {
  const [mode, setMode] = useState<"invite" | "create">("invite");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState("engineer");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      if (mode === "invite") {
        const r = await api<{ invite_url: string; emailed?: boolean; mail?: MailNotice }>("/api/v1/users/invite", { method: "POST", body: { email: email.trim(), display_name: name.trim(), role } });
        onDone({ title: invitationTitle(email.trim(), r, false), secret: r.invite_url, label: "Invitation link" });
      } else {
        const r = await api<{ initial_password?: string }>("/api/v1/users", { method: "POST", body: { email: email.trim(), display_name: name.trim(), role, ...(password ? { password } : {}) } });
        onDone(r.initial_password ? { title: `Created ${email.trim()}. Their first password is shown only now.`, secret: r.initial_password, label: "Password" } : { title: `Created ${email.trim()}.` });
      }
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Add a member"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button tone="primary" busy={busy} disabled={!email.includes("@")} onClick={() => void submit()}>
            {mode === "invite" ? "Create invitation" : "Create account"}
          </Button>
        </>
      }
    >
      <div className="space-y-4">
        <div className="grid grid-cols-2 gap-1 rounded-xl bg-slate-100 p-1 text-sm font-semibold dark:bg-slate-800" role="radiogroup" aria-label="How">
          {(["invite", "create"] as const).map((m) => (
            <button key={m} type="button" role="radio" aria-checked={mode === m} className={`rounded-lg py-2 ${mode === m ? "bg-white shadow-sm dark:bg-slate-700" : "text-slate-600 dark:text-slate-400"}`} onClick={() => setMode(m)}>
              {m === "invite" ? "Invite by link" : "Create with password"}
            </button>
          ))}
        </div>
        <Field label="E-mail" htmlFor="m-email">
          <input id="m-email" type="email" className={inputClass} value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
        </Field>
        <Field label="Name" htmlFor="m-name">
          <input id="m-name" className={inputClass} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        </Field>
        <Field label="Role" htmlFor="m-role" hint={ROLE_HINT[role]}>
          <select id="m-role" className={inputClass} value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </Field>
        {mode === "create" && (
          <Field label="Password" htmlFor="m-password" hint="Leave empty to generate one, shown once.">
            <input id="m-password" type="password" className={inputClass} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
          </Field>
        )}
        {error && <ErrorBox title="Not added">{error}</ErrorBox>}
      </div>
    </Dialog>
  );
}

function SecretBox({ title, secret, label, onClose }: { title: string; secret?: string; label?: string; onClose: () => void }) {
  return (
    <div role="status" className="space-y-2 rounded-2xl border border-emerald-200 bg-emerald-50 p-4 text-emerald-950 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100" data-testid="secret-box">
      <div className="flex items-start justify-between gap-2">
        <p className="font-semibold">{title}</p>
        <button type="button" className="text-sm font-semibold" onClick={onClose}>
          Done
        </button>
      </div>
      {secret && (
        <div className="flex items-center gap-2 rounded-xl bg-slate-900 pl-3 text-slate-100">
          <span className="sr-only">{label}</span>
          <code className="min-w-0 flex-1 truncate py-2 font-mono text-[13px]" data-testid="secret">
            {secret}
          </code>
          <CopyButton text={secret} />
        </div>
      )}
    </div>
  );
}

/** The workspace's publishing rule: publish only what someone other than its last editor approved. */
function PublishingSettings() {
  const [loadError, setLoadError] = useState<string | null>(null);
  const put = useCallback(async (value: boolean) => (await api<{ require_approval: boolean }>("/api/v1/tenant/publishing", { method: "PUT", body: { require_approval: value } })).require_approval, []);
  // Shown at once, saved in the order changed; put back to the server's value if refused.
  const { value: on, state, error: saveError, loaded, change } = useSerialSave<boolean>(put);
  const error = saveError || loadError;
  useEffect(() => {
    api<{ require_approval: boolean }>("/api/v1/tenant/publishing").then(
      (r) => loaded(r.require_approval),
      (e) => setLoadError(errText(e)),
    );
  }, [loaded]);
  return (
    <Card className="space-y-2 p-4">
      <label className="flex items-start gap-3 text-sm">
        <input type="checkbox" className="mt-1 h-4 w-4" checked={!!on} disabled={on === null} onChange={(e) => change(e.target.checked)} data-testid="require-approval" />
        <span>
          <span className="block font-semibold text-slate-900 dark:text-white">Require approval to publish</span>
          <span className="block text-slate-500">Authors request a review; an admin, an owner or a named reviewer other than the draft's last editor approves that exact draft before it can be published.</span>
        </span>
      </label>
      <SaveStatus state={state} />
      {error && <ErrorBox title="Not changed">{error}</ErrorBox>}
    </Card>
  );
}

export function UsersAdmin() {
  const signin = useSignIn();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ title: string; secret?: string; label?: string } | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  const [mailRefresh, setMailRefresh] = useState(0);
  const load = useCallback(() => {
    api<{ items: User[] }>("/api/v1/users?limit=200").then(
      (r) => setUsers(r.items),
      (e) => setError(errText(e)),
    );
  }, []);
  useEffect(load, [load]);
  const resend = async (u: User) => {
    setRowError(null);
    try {
      const r = await api<User & { invite_url: string; emailed?: boolean; mail?: MailNotice }>(`/api/v1/users/${encodeURIComponent(u.id)}/invite`, { method: "POST" });
      setUsers((us) => us && us.map((x) => (x.id === u.id ? { ...x, ...r } : x)));
      setSecret({ title: invitationTitle(u.email, r, true), secret: r.invite_url, label: "Invitation link" });
      setMailRefresh((n) => n + 1);
    } catch (e) {
      setRowError(`${u.email}: ${errText(e)}`);
    }
  };
  const cancelInvite = async (u: User) => {
    setRowError(null);
    try {
      const r = await api<User>(`/api/v1/users/${encodeURIComponent(u.id)}/invite`, { method: "DELETE" });
      setUsers((us) => us && us.map((x) => (x.id === u.id ? { ...x, ...r, invite: undefined } : x)));
    } catch (e) {
      setRowError(`${u.email}: ${errText(e)}`);
    }
  };
  const patch = async (u: User, body: Partial<User>) => {
    setRowError(null);
    try {
      const updated = await api<User>(`/api/v1/users/${encodeURIComponent(u.id)}`, { method: "PATCH", body });
      setUsers((us) => us && us.map((x) => (x.id === u.id ? { ...x, ...updated } : x)));
    } catch (e) {
      setRowError(`${u.email}: ${errText(e)}`);
    }
  };
  if (signin && !["owner", "admin"].includes(signin.account.role)) return <ErrorBox title="Admins only">Managing the team needs the admin or owner role.</ErrorBox>;
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Team</h1>
          <p className="text-sm text-slate-500">{signin?.account.tenant.name}</p>
        </div>
        <AdminTabs tab="users" />
      </div>
      {secret && <SecretBox {...secret} onClose={() => setSecret(null)} />}
      {rowError && <ErrorBox title="Not changed">{rowError}</ErrorBox>}
      {error && <ErrorBox onRetry={load}>{error}</ErrorBox>}
      <div className="flex justify-end">
        <Button tone="primary" onClick={() => setAdding(true)}>
          + Add member
        </Button>
      </div>
      <PublishingSettings />
      {!users && !error && <Loading />}
      {users && (
        <Card className="divide-y divide-slate-100 dark:divide-slate-800">
          {users.map((u) => (
            <div key={u.id} className={`flex flex-wrap items-center gap-3 px-4 py-3 ${u.active || statusOf(u) === "invited" ? "" : "opacity-60"}`} data-testid="user-row" data-email={u.email}>
              <span className="flex h-10 w-10 shrink-0 items-center justify-center rounded-full bg-indigo-100 font-semibold text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300">{(u.display_name || u.email)[0]?.toUpperCase()}</span>
              <span className="min-w-0 flex-1">
                <span className="block truncate font-semibold text-slate-900 dark:text-white">
                  {u.display_name || u.email} {u.id === signin?.account.user.id && <span className="text-xs font-normal text-slate-500">(you)</span>}
                </span>
                <span className="block truncate text-xs text-slate-500">{u.email}</span>
                {statusText(u) && (
                  <span className={`block text-xs font-medium ${awaitingInvite(u) ? "text-amber-800 dark:text-amber-200" : "text-slate-500"}`} data-testid="user-status">
                    {statusText(u)}
                  </span>
                )}
              </span>
              <select aria-label={`Role of ${u.email}`} className="rounded-lg px-2.5 py-2 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700" value={u.role} onChange={(e) => void patch(u, { role: e.target.value })}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              {u.role !== "viewer" && !["owner", "admin"].includes(u.role) && (
                <label className="flex items-center gap-1.5 text-sm" title="Approves publish reviews, like admins and owners">
                  <input type="checkbox" className="h-4 w-4" checked={!!u.reviewer} onChange={(e) => void patch(u, { reviewer: e.target.checked })} aria-label={`${u.email} reviews trees`} />
                  Reviewer
                </label>
              )}
              {awaitingInvite(u) ? (
                <>
                  <Button className="!min-h-9 !text-sm" tone="primary" onClick={() => void resend(u)}>
                    Resend invitation
                  </Button>
                  {statusOf(u) !== "invite_cancelled" && (
                    <Button className="!min-h-9 !text-sm" onClick={() => void cancelInvite(u)}>
                      Cancel invitation
                    </Button>
                  )}
                </>
              ) : (
                <Button className="!min-h-9 !text-sm" tone={u.active ? "secondary" : "primary"} disabled={u.id === signin?.account.user.id} onClick={() => void patch(u, { active: !u.active })}>
                  {u.active ? "Deactivate" : "Reactivate"}
                </Button>
              )}
            </div>
          ))}
        </Card>
      )}
      {users && <TeamsSection users={users.filter((u) => u.active)} />}
      <SentMail refresh={mailRefresh} />
      {adding && (
        <AddMemberDialog
          onClose={() => setAdding(false)}
          onDone={(msg) => {
            setAdding(false);
            setSecret(msg);
            setMailRefresh((n) => n + 1);
            load();
          }}
        />
      )}
    </div>
  );
}

export function KeysAdmin() {
  const signin = useSignIn();
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [role, setRole] = useState("engineer");
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ title: string; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const load = useCallback(() => {
    api<{ items: Key[] }>("/api/v1/api-keys?limit=200").then(
      (r) => setKeys(r.items),
      (e) => setError(errText(e)),
    );
  }, []);
  useEffect(load, [load]);
  if (signin && !["owner", "admin"].includes(signin.account.role)) return <ErrorBox title="Admins only">Managing API keys needs the admin or owner role.</ErrorBox>;
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ key: string; name: string }>("/api/v1/api-keys", { method: "POST", body: { name: name.trim(), role } });
      setCreated({ title: `Key “${r.name}” created. Copy it now: it is never shown again.`, secret: r.key });
      setName("");
      load();
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">API keys</h1>
          <p className="text-sm text-slate-500">For connectors and scripts: send as a Bearer token, or HTTP Basic with user “apikey”.</p>
        </div>
        <AdminTabs tab="keys" />
      </div>
      {created && <SecretBox title={created.title} secret={created.secret} label="API key" onClose={() => setCreated(null)} />}
      {error && <ErrorBox>{error}</ErrorBox>}
      <Card className="flex flex-wrap items-end gap-3 p-4">
        <div className="min-w-48 flex-1">
          <Field label="Name" htmlFor="k-name">
            <input id="k-name" className={inputClass} value={name} onChange={(e) => setName(e.target.value)} placeholder="ConnectWise connector" />
          </Field>
        </div>
        <div className="w-44">
          <Field label="Acts as" htmlFor="k-role">
            <select id="k-role" className={inputClass} value={role} onChange={(e) => setRole(e.target.value)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <Button tone="primary" busy={busy} disabled={!name.trim()} onClick={() => void create()}>
          Create key
        </Button>
      </Card>
      {!keys && !error && <Loading />}
      {keys && (
        <Card className="divide-y divide-slate-100 dark:divide-slate-800">
          {keys.length === 0 && <p className="p-6 text-center text-sm text-slate-500">No keys yet.</p>}
          {keys.map((k) => (
            <div key={k.id} className={`flex flex-wrap items-center gap-3 px-4 py-3 ${k.revoked ? "opacity-60" : ""}`} data-testid="key-row">
              <span className="min-w-0 flex-1">
                <span className="block truncate font-semibold text-slate-900 dark:text-white">{k.name}</span>
                <span className="block truncate font-mono text-xs text-slate-500">
                  {k.prefix ? `${k.prefix}_…` : k.id} · {k.role}
                  {k.revoked ? " · revoked" : ""}
                </span>
              </span>
              {!k.revoked && (
                <Button tone="danger" className="!min-h-9 !text-sm" onClick={() => setRevoking(k)}>
                  Revoke
                </Button>
              )}
            </div>
          ))}
        </Card>
      )}
      {revoking && (
        <Dialog
          title={`Revoke “${revoking.name}”?`}
          onClose={() => setRevoking(null)}
          footer={
            <>
              <Button onClick={() => setRevoking(null)}>Cancel</Button>
              <Button
                tone="danger"
                onClick={async () => {
                  try {
                    await api(`/api/v1/api-keys/${encodeURIComponent(revoking.id)}`, { method: "DELETE" });
                    setRevoking(null);
                    load();
                  } catch (e) {
                    setError(errText(e));
                    setRevoking(null);
                  }
                }}
              >
                Revoke now
              </Button>
            </>
          }
        >
          <p className="text-sm text-slate-600 dark:text-slate-300">Anything using this key stops working at once. This cannot be undone.</p>
        </Dialog>
      )}
    </div>
  );
}

export default function TeamAdmin({ tab }: { tab: AdminTab }) {
  if (tab === "integrations") return <IntegrationsAdmin />;
  if (tab === "sso") return <SsoAdmin />;
  return tab === "keys" ? <KeysAdmin /> : <UsersAdmin />;
}
