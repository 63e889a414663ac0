// Single sign-on (owners change it, admins read it: the IdP decides who signs in as whom,
// owners included): the team's OpenID Connect provider (Microsoft Entra ID,
// Google Workspace or any other) or SAML 2.0 IdP, which e-mail domains get an account on first sign-in and
// with which role, and whether passwords still work. The client secret is write-only: the
// form says whether one is set, never shows it. Each e-mail domain is proven with a DNS TXT
// record (SsoDomainProofs) before it routes anyone. Online only, like the other admin tabs.
import { useEffect, useState, type FormEvent } from "react";
import { api, OfflineError, useOnline, useSignIn } from "../data";
import { Button, Card, CopyButton, ErrorBox, Field, identifierField, inputClass, Loading } from "../ui/kit";
import { AdminTabs } from "./AdminTabs";
import { COPY_CLASS } from "./DnsRecord";
import { SsoDomainProofs, type DomainProof } from "./SsoDomainProofs";

interface SsoSettings {
  slug: string;
  enabled: boolean;
  protocol: "oidc" | "saml";
  oidc: { issuer: string; client_id: string; client_secret_set: boolean; scopes: string[] } | null;
  saml: { idp_metadata_xml: string; idp_metadata_url: string | null; idp_entity_id: string; sp_entity_id: string; sp_metadata_url: string; acs_url: string } | null;
  allowed_domains: string[];
  domains: DomainProof[];
  default_role: "viewer" | "engineer" | "author";
  require_sso: boolean;
  break_glass_emails: string[];
  redirect_uri: string;
  start_url: string;
}

interface Form {
  protocol: "oidc" | "saml";
  metadata: string;
  slug: string;
  issuer: string;
  client_id: string;
  client_secret: string;
  domains: string;
  default_role: SsoSettings["default_role"];
  require_sso: boolean;
  break_glass: string;
}

const EMPTY: Form = { protocol: "oidc", metadata: "", slug: "", issuer: "", client_id: "", client_secret: "", domains: "", default_role: "engineer", require_sso: false, break_glass: "" };

function formOf(s: SsoSettings | null): Form {
  if (!s) return EMPTY;
  return {
    protocol: s.protocol,
    metadata: s.saml?.idp_metadata_url || s.saml?.idp_metadata_xml || "",
    slug: s.slug,
    issuer: s.oidc?.issuer ?? "",
    client_id: s.oidc?.client_id ?? "",
    client_secret: "",
    domains: s.allowed_domains.join(", "),
    default_role: s.default_role,
    require_sso: s.require_sso,
    break_glass: s.break_glass_emails.join(", "),
  };
}

/** "a.com, b.com" or one per line: the non-empty entries. */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((t) => t.trim())
    .filter(Boolean);
}

function bodyOf(form: Form): Record<string, unknown> {
  const oidc: Record<string, unknown> = { issuer: form.issuer.trim(), client_id: form.client_id.trim() };
  if (form.client_secret) oidc.client_secret = form.client_secret;
  // The metadata box takes the XML itself or the address where the IdP publishes it.
  const metadata = form.metadata.trim();
  const samlSource = /^https?:\/\//.test(metadata) ? { idp_metadata_url: metadata } : { idp_metadata_xml: metadata };
  const protocol = form.protocol === "saml" ? { saml: samlSource } : { oidc };
  return {
    slug: form.slug.trim().toLowerCase(),
    protocol: form.protocol,
    ...protocol,
    allowed_domains: splitList(form.domains),
    default_role: form.default_role,
    require_sso: form.require_sso,
    break_glass_emails: splitList(form.break_glass),
  };
}

function errText(e: unknown): string {
  if (e instanceof OfflineError) return "You are offline. Single sign-on settings need a connection; try again once you are back online.";
  return e instanceof Error ? e.message : String(e);
}

export function SsoAdmin() {
  const online = useOnline();
  const owner = useSignIn()?.account.role === "owner";
  const [settings, setSettings] = useState<SsoSettings | null | undefined>(undefined);
  const [form, setForm] = useState<Form>(EMPTY);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    api<{ sso: SsoSettings | null }>("/api/v1/tenant/sso").then(
      (r) => {
        setSettings(r.sso);
        setForm(formOf(r.sso));
      },
      (e) => setLoadError(errText(e)),
    );
  }, []);

  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(false);
  };

  async function save(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setSaveError(null);
    try {
      const r = await api<{ sso: SsoSettings }>("/api/v1/tenant/sso", { method: "PUT", body: bodyOf(form) });
      setSettings(r.sso);
      setForm(formOf(r.sso));
      setSaved(true);
    } catch (err) {
      setSaveError(errText(err));
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Single sign-on</h1>
          <p className="text-sm text-slate-500">Your team signs in through its identity provider (OpenID Connect).</p>
        </div>
        <AdminTabs tab="sso" />
      </div>
      {loadError && <ErrorBox title="Could not load the single sign-on settings">{loadError}</ErrorBox>}
      {settings === undefined && !loadError && <Loading />}
      {settings !== undefined && (
        <Card className="p-4 sm:p-6">
          <form onSubmit={save} className="space-y-5" noValidate data-testid="sso-form">
            {!owner && (
              <p role="note" className="rounded-xl bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
                Only an owner can change single sign-on: the identity provider decides who can sign in as whom, owners included. Ask an owner of your team.
              </p>
            )}
            <fieldset disabled={!owner} className="space-y-5">
            {settings && (
              <div className="space-y-1 rounded-xl bg-slate-50 p-3 text-sm dark:bg-slate-800">
                <p className="font-semibold text-slate-800 dark:text-slate-200">Redirect URI to register at your identity provider</p>
                <div className="flex items-center gap-2">
                  <code className="min-w-0 flex-1 font-mono break-all" data-testid="sso-redirect-uri">
                    {settings.redirect_uri}
                  </code>
                  <CopyButton text={settings.redirect_uri} className={COPY_CLASS} />
                </div>
              </div>
            )}
            <Field label="Sign-in name" htmlFor="sso-slug" hint="Short and lower case, e.g. contoso. Members type it (or their work e-mail) under “Sign in with SSO”.">
              <input id="sso-slug" className={inputClass} {...identifierField} value={form.slug} onChange={(e) => set("slug", e.target.value)} />
            </Field>
            <Field label="Protocol" htmlFor="sso-protocol">
              <select id="sso-protocol" className={inputClass} value={form.protocol} onChange={(e) => set("protocol", e.target.value as Form["protocol"])}>
                <option value="oidc">OpenID Connect (Entra ID, Google Workspace, Okta…)</option>
                <option value="saml">SAML 2.0</option>
              </select>
            </Field>
            {form.protocol === "saml" ? (
              <>
                {settings?.saml && (
                  <p className="text-sm text-slate-600 dark:text-slate-300">
                    Give your IdP Branchline's metadata: <code className="font-mono break-all" data-testid="sso-sp-metadata">{settings.saml.sp_metadata_url}</code>
                  </p>
                )}
                <Field label="IdP metadata" htmlFor="sso-metadata" hint="Paste the XML from your identity provider, or the address where it publishes it (fetched when you save).">
                  <textarea id="sso-metadata" rows={6} className={`${inputClass} font-mono text-xs`} {...identifierField} value={form.metadata} onChange={(e) => set("metadata", e.target.value)} />
                </Field>
              </>
            ) : (
              <>
                <Field label="Issuer" htmlFor="sso-issuer" hint="Microsoft Entra ID: https://login.microsoftonline.com/<directory id>/v2.0 · Google Workspace: https://accounts.google.com">
                  <input id="sso-issuer" className={inputClass} {...identifierField} value={form.issuer} onChange={(e) => set("issuer", e.target.value)} />
                </Field>
                <Field label="Client id" htmlFor="sso-client-id">
                  <input id="sso-client-id" className={inputClass} {...identifierField} value={form.client_id} onChange={(e) => set("client_id", e.target.value)} />
                </Field>
                <Field label="Client secret" htmlFor="sso-client-secret" hint={settings?.oidc?.client_secret_set ? "A secret is set. Leave this empty to keep it." : "Stored encrypted; never shown again."}>
                  <input id="sso-client-secret" type="password" autoComplete="off" className={inputClass} value={form.client_secret} onChange={(e) => set("client_secret", e.target.value)} />
                </Field>
              </>
            )}
            <Field label="E-mail domains that get an account on first sign-in" htmlFor="sso-domains" hint="Comma separated, e.g. contoso.com. Anyone else must be invited first. After saving, prove each new domain with a DNS record (below).">
              <input id="sso-domains" className={inputClass} {...identifierField} value={form.domains} onChange={(e) => set("domains", e.target.value)} />
            </Field>
            <Field label="Role of new accounts" htmlFor="sso-role">
              <select id="sso-role" className={inputClass} value={form.default_role} onChange={(e) => set("default_role", e.target.value as Form["default_role"])}>
                <option value="viewer">viewer</option>
                <option value="engineer">engineer</option>
                <option value="author">author</option>
              </select>
            </Field>
            <label className="flex items-start gap-3 text-sm text-slate-800 dark:text-slate-200">
              <input id="sso-require" type="checkbox" className="mt-1 h-5 w-5" checked={form.require_sso} onChange={(e) => set("require_sso", e.target.checked)} />
              <span>
                <span className="font-semibold">Require single sign-on</span>
                <span className="block text-slate-500">Passwords stop working for everyone except the break-glass owners below.</span>
              </span>
            </label>
            <Field label="Break-glass owners" htmlFor="sso-break-glass" hint="Owners' e-mails who may still sign in with a password if the identity provider fails.">
              <input id="sso-break-glass" className={inputClass} {...identifierField} value={form.break_glass} onChange={(e) => set("break_glass", e.target.value)} />
            </Field>
            {saveError && <ErrorBox title="Could not save">{saveError}</ErrorBox>}
            <div className="flex items-center gap-3">
              <Button type="submit" tone="primary" busy={saving} disabled={!online}>
                Save single sign-on
              </Button>
              {saved && (
                <span role="status" className="text-sm font-semibold text-emerald-700 dark:text-emerald-400">
                  Saved
                </span>
              )}
            </div>
            </fieldset>
          </form>
          {settings && settings.domains.length > 0 && (
            <div className="mt-6 border-t border-slate-200 pt-5 dark:border-slate-800">
              <SsoDomainProofs
                proofs={settings.domains}
                canVerify={owner}
                online={online}
                onVerified={(p) => setSettings((s) => s && { ...s, domains: s.domains.map((d) => (d.domain === p.domain ? p : d)) })}
              />
            </div>
          )}
        </Card>
      )}
    </div>
  );
}
