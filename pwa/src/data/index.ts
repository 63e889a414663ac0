// The app's one door to data: the sign-in, the local databases and the API. Components
// import from here and nowhere else in src/data.
import { useCallback, useEffect, useRef, useSyncExternalStore } from "react";
import { ApiError, Auth, OfflineError, readError, SignInRequired, type Account, type SignIn, type TokenAnswer } from "./auth";
import { queueName, startAttachments, type Attachments } from "./attachments";
import { brand, rememberBrand, showHostBrand, showStoredBrand, type Brand } from "./brand";
import { deviceId } from "./device";
import { LocalData, type SyncStatus } from "./local";
import { MemoryStorage } from "./memoryStorage";
import { Observable } from "./observable";
import { sessionSent } from "./sessions";
import { pageStorage } from "./storage";
import { browserTabs, shareSync } from "./tabs";

export { ApiError, OfflineError, SignInRequired };
export type { Account, Brand, SignIn, SyncStatus };

const base = typeof location !== "undefined" ? location.origin : "";
// Without localStorage (a frame the browser denies it) the app does not start (main.tsx); the
// data layer is still built, over memory, so that importing it never throws.
const storage: Storage = pageStorage ?? new MemoryStorage();

export const auth = new Auth({
  fetch: (input, init) => fetch(input, init),
  storage,
  now: () => Date.now(),
  base,
  locks:
    typeof navigator !== "undefined" && "locks" in navigator
      ? {
          request: (name, fn) => navigator.locks.request(name, fn),
        }
      : null,
});

export const device = deviceId(storage);
export const localData = new Observable<LocalData | null>(null);
export const attachments = new Observable<Attachments | null>(null);

/** The app is served by the server it syncs with: reach the sync endpoints on the page's own
 * origin, so a phone that opened the server by another name or address (a LAN IP, a proxy)
 * needs no CORS and no matching BRANCHLINE_PUBLIC_URL. */
function samePage(url: string): string {
  try {
    const u = new URL(url, base);
    return base + u.pathname + u.search;
  } catch {
    return url;
  }
}

function sameAccount(a: Account, b: Account): boolean {
  return a.user.id === b.user.id && a.tenant.id === b.tenant.id;
}

/** Leaves the election of the tab that syncs (see tabs.ts) for the current account. */
let leaveTabs: () => void = () => undefined;

/** Stop syncing and uploading for the current account, keeping its data on the device. */
function closeLocal(): void {
  leaveTabs();
  leaveTabs = () => undefined;
  localData.get()?.stop();
  const att = attachments.get();
  if (att) {
    att.stop();
    void att.queue.close(); // or the other tab's deletion of the queue waits for this tab
  }
  attachments.set(null);
  localData.set(null);
}

function openLocal(account: Account): LocalData {
  const cur = localData.get();
  if (cur && sameAccount(cur.account, account)) return cur;
  leaveTabs();
  cur?.stop();
  attachments.get()?.stop();
  const local = new LocalData(account, auth, { storage, now: () => Date.now(), remoteUrl: samePage });
  localData.set(local);
  attachments.set(startAttachments(local, auth, device, base));
  leaveTabs = shareSync(local, `branchline-sync-${account.tenant.id}-${account.user.id}`, browserTabs());
  if (navigator.storage?.persist) void navigator.storage.persist().catch(() => undefined);
  return local;
}

/** Called once at start-up: open the signed-in user's databases and keep them syncing. */
export function boot(): void {
  const s = auth.current;
  if (s) openLocal(s.account);
  if (s) showStoredBrand(s.account.tenant.id);
  else void showHostBrand();
  window.addEventListener("online", () => {
    localData.get()?.setOnline(true);
    if (auth.current && !auth.current.expired) void refreshAccount();
  });
  window.addEventListener("offline", () => localData.get()?.setOnline(false));
  window.addEventListener("storage", (e) => {
    auth.storageChanged(e.key);
    localData.get()?.storageChanged(e.key);
  });
  auth.state.subscribe(() => {
    const cur = auth.state.get();
    const local = localData.get();
    if (cur?.expired && local) local.needsSignIn();
    // Signed out in another tab (which removed the local data once it was safe): this tab
    // lets go of the databases too and shows the sign-in screen.
    if (!cur && local) closeLocal();
    if (!cur && brand.get()) void showHostBrand();
  });
  if (s && !s.expired && navigator.onLine) void refreshAccount();
}

/** JSON API call with the sign-in; throws ApiError, OfflineError or SignInRequired. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await auth.fetch(base + path, {
    method: init.method || "GET",
    headers: init.body !== undefined ? { "Content-Type": "application/json" } : {},
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  if (!res.ok) throw await readError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

async function anonymous<T>(path: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new OfflineError("You are offline. Signing in needs a connection the first time.");
  }
  if (!res.ok) throw await readError(res);
  return (await res.json()) as T;
}

async function fetchMe(tokens: TokenAnswer): Promise<Account> {
  const res = await fetch(base + "/api/v1/me", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  if (!res.ok) throw await readError(res);
  return (await res.json()) as Account;
}

async function finishSignIn(tokens: TokenAnswer): Promise<Account> {
  const account = await fetchMe(tokens);
  auth.signedIn(tokens, account);
  const local = openLocal(account);
  local.restart();
  showStoredBrand(account.tenant.id);
  void cacheBrand(account).catch(() => undefined);
  void cacheExportContext(account).catch(() => undefined);
  return account;
}

export async function signIn(email: string, password: string): Promise<Account> {
  return finishSignIn(await anonymous<TokenAnswer>("/api/v1/auth/login", { email, password }));
}

/** Finish a single sign-on: trade the one-time code the SSO callback put in the URL fragment
 * for the token pair, then keep them exactly as after a password sign-in (so offline use is
 * the same). */
export async function signInWithSsoCode(code: string): Promise<Account> {
  const account = await finishSignIn(await anonymous<TokenAnswer>("/api/v1/auth/sso/exchange", { code }));
  // Where signing out also ends the session at the IdP, learnt now while online.
  const idp = await api<{ url: string | null }>("/api/v1/auth/sso/logout-url").catch(() => ({ url: null }));
  if (idp.url) localStorage.setItem(IDP_SIGN_OUT, idp.url);
  return account;
}

const IDP_SIGN_OUT = "bl.sso.signout";
let idpSignOut: string | null = null;

/** After an SSO sign-in has been signed out: the IdP's own sign-out page (RP-initiated
 * logout), to open next so the IdP's session ends too; null for password sign-ins. */
export function idpSignOutUrl(): string | null {
  return idpSignOut;
}

/** Where a team's single sign-on starts, found by its sign-in name or a member's e-mail. */
export async function findSso(nameOrEmail: string): Promise<{ slug: string; start_url: string }> {
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/auth/sso/lookup?q=${encodeURIComponent(nameOrEmail)}`);
  } catch {
    throw new OfflineError("You are offline. Signing in needs a connection the first time.");
  }
  if (!res.ok) throw await readError(res);
  return (await res.json()) as { slug: string; start_url: string };
}

export async function register(body: {
  tenant_name: string;
  email: string;
  password: string;
  display_name: string;
  starter_library: boolean;
}): Promise<Account> {
  return finishSignIn(await anonymous<TokenAnswer>("/api/v1/auth/register", body));
}

/** What an invitation link is for, read before accepting it. */
export interface Invitation {
  email: string;
  display_name: string;
  role: string;
  tenant: { id: string; name: string };
  expires_at: number;
}

export async function checkInvitation(token: string): Promise<Invitation> {
  return anonymous<Invitation>("/api/v1/auth/invitation", { token });
}

export async function acceptInvitation(token: string, password: string, display_name: string): Promise<Account> {
  return finishSignIn(await anonymous<TokenAnswer>("/api/v1/auth/accept-invite", { token, password, display_name }));
}

/** "Forgot password": the server answers the same whether or not the address has an account. */
export async function requestPasswordReset(email: string): Promise<{ message: string; emailed: boolean; configured: boolean }> {
  return anonymous("/api/v1/auth/forgot-password", { email });
}

/** Whose password a reset link sets, read before choosing the new one. */
export async function checkPasswordReset(token: string): Promise<{ email: string; expires_at: number }> {
  return anonymous("/api/v1/auth/password-reset", { token });
}

export async function resetPassword(token: string, password: string): Promise<Account> {
  return finishSignIn(await anonymous<TokenAnswer>("/api/v1/auth/reset-password", { token, password }));
}

export async function refreshAccount(): Promise<void> {
  try {
    const account = await api<Account>("/api/v1/me");
    auth.setAccount(account);
    void cacheBrand(account).catch(() => undefined);
    await cacheExportContext(account);
  } catch {
    // Offline or expired: the stored account and caches are good enough to work with.
  }
}

async function cacheBrand(account: Account): Promise<void> {
  rememberBrand(account.tenant.id, await api<Brand>("/api/v1/tenant/brand"));
}

/** Save the brand (owners and admins) and show it here at once. */
export async function saveBrand(body: { name: string; primary_color: string; custom_domain: string | null }): Promise<Brand> {
  const saved = await api<Brand>("/api/v1/tenant/brand", { method: "PUT", body });
  if (auth.current) rememberBrand(auth.current.account.tenant.id, saved);
  return saved;
}

/** Upload the logo (PNG or JPEG; the server checks the bytes) and show it here at once. */
export async function uploadBrandLogo(file: Blob): Promise<Brand> {
  const res = await auth.fetch(base + "/api/v1/tenant/brand/logo", { method: "PUT", headers: { "Content-Type": file.type || "application/octet-stream" }, body: file });
  if (!res.ok) throw await readError(res);
  const saved = (await res.json()) as Brand;
  if (auth.current) rememberBrand(auth.current.account.tenant.id, saved);
  return saved;
}

export function useBrand(): Brand | null {
  return useObservable(brand);
}

/** What an offline export needs beyond the session: the tenant's default options and the
 * names of the engineers (admins can list them; others know their own name). */
async function cacheExportContext(account: Account): Promise<void> {
  const t = account.tenant.id;
  const defaults = await api<Record<string, boolean>>("/api/v1/export-settings");
  localStorage.setItem(`bl.exportdefaults.${t}`, JSON.stringify(defaults));
  const names: Record<string, string> = exportNames(t);
  names[account.user.id] = account.user.display_name;
  if (["owner", "admin"].includes(account.role)) {
    const users = await api<{ items: { id: string; display_name: string }[] }>("/api/v1/users?limit=200");
    for (const u of users.items) names[u.id] = u.display_name;
  }
  localStorage.setItem(`bl.names.${t}`, JSON.stringify(names));
}

export interface DirectoryEntry {
  id: string;
  display_name: string;
}

/** Every member of the tenant (id and display name; any role may ask). Needs the network;
 * the names are kept so shared sessions and their exports can name people offline too. */
export async function loadDirectory(tenantId: string): Promise<DirectoryEntry[]> {
  const answer = await api<{ items: DirectoryEntry[] }>("/api/v1/users/directory");
  const names = exportNames(tenantId);
  for (const u of answer.items) names[u.id] = u.display_name;
  localStorage.setItem(`bl.names.${tenantId}`, JSON.stringify(names));
  return answer.items;
}

function readJson<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
}

export function exportNames(tenantId: string): Record<string, string> {
  return readJson<Record<string, string>>(`bl.names.${tenantId}`, {});
}

export function exportDefaults(tenantId: string): Record<string, boolean> {
  return readJson<Record<string, boolean>>(`bl.exportdefaults.${tenantId}`, {});
}

/** What signing out would delete: changes and files the server does not have yet. */
export interface Unsent {
  changes: number;
  files: number;
}

/** Try to send everything now (the "Sync now" button). */
export function syncNow(): void {
  localData.get()?.restart();
  const att = attachments.get();
  if (att) void att.queue.processQueue(att.upload, att.writeEvent);
}

/** How long an action the server checks against its copy of a session (a script run, a PSA
 * send, a share link) waits for this session's changes to get there before going anyway. On
 * one bar of signal, or a phone busy with a screenshot upload, a push takes well over the 5 s
 * this once was, and the engineer then got "not on the server yet, try again" for a send that
 * would have gone a few seconds later; the screen says "Syncing…" all the while. */
export const ACTION_SYNC_WAIT_MS = 30_000;

/** Wait at most `waitMs` for the server to have every change this device made to session
 * `sid` (false: not yet); see `sessionSent` in sessions.ts. */
export function waitForSession(sid: string, waitMs: number, onWaiting?: () => void, signal?: AbortSignal): Promise<boolean> {
  const local = localData.get();
  return local ? sessionSent(local, sid, waitMs, onWaiting, signal) : Promise.resolve(true);
}

/** How an action waits for its session to reach the server (ACTION_SYNC_WAIT_MS). `wait`
 * answers true (there), false (not yet: go anyway, and explain a refusal) or null: called off
 * by `cancel` (the "Syncing…" line's Cancel) or by the screen closing, when the action must not
 * go at all. Half a minute on, a script run nobody watches any more could start on a device. */
export function useSessionWait(): { wait: (sid: string, onWaiting?: () => void) => Promise<boolean | null>; cancel: () => void } {
  const current = useRef<AbortController | null>(null);
  useEffect(() => () => current.current?.abort(), []);
  const wait = useCallback(async (sid: string, onWaiting?: () => void) => {
    const ctl = new AbortController();
    current.current = ctl;
    const synced = await waitForSession(sid, ACTION_SYNC_WAIT_MS, onWaiting, ctl.signal);
    if (current.current === ctl) current.current = null;
    return ctl.signal.aborted ? null : synced;
  }, []);
  const cancel = useCallback(() => current.current?.abort(), []);
  return { wait, cancel };
}

// What this device keeps for the signed-in user besides its databases: drafts, names, export
// defaults and the dashboard's last figures (insights/cache.ts). Signing out removes them all.
const LOCAL_PREFIXES = ["bl.draft.", "bl.names.", "bl.exportdefaults.", "bl.insights.", "bl.sso.", "bl.brand."];

/** Sign out. Changes or files not on the server yet block it unless `discard` is set: then
 * it answers what is left, and nothing is deleted. Answers null once signed out. */
export async function signOut(opts: { discard?: boolean; waitMs?: number } = {}): Promise<Unsent | null> {
  const local = localData.get();
  const att = attachments.get();
  if (local && !opts.discard) {
    if (att) {
      await att.recount();
      void att.queue.processQueue(att.upload, att.writeEvent);
    }
    const wait = opts.waitMs ?? (navigator.onLine ? 8000 : 0);
    if (!(await local.drain(wait))) {
      const status = local.status.get();
      return { changes: status.pending - status.files, files: status.files };
    }
  }
  idpSignOut = localStorage.getItem(IDP_SIGN_OUT);
  const s = auth.current;
  // Before the server revokes the tokens: another tab that sees them refused must not write
  // this sign-in back while the local data is removed below.
  auth.end();
  if (s && !s.expired) {
    try {
      await fetch(base + "/api/v1/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: s.tokens.refresh_token }),
      });
    } catch {
      // Offline: the refresh token is forgotten here and expires on the server in time.
    }
  }
  if (att) {
    att.stop();
    await att.queue.close();
    await new Promise((resolve) => {
      const req = indexedDB.deleteDatabase(queueName(local!));
      req.onsuccess = req.onerror = req.onblocked = () => resolve(null);
    });
    attachments.set(null);
  }
  leaveTabs();
  leaveTabs = () => undefined;
  if (local) await local.destroy();
  for (const key of Object.keys(localStorage)) {
    if (LOCAL_PREFIXES.some((p) => key.startsWith(p))) localStorage.removeItem(key);
  }
  localData.set(null);
  auth.forget();
  return null;
}

export function useObservable<T>(o: Observable<T>): T {
  return useSyncExternalStore(o.subscribe, o.get, o.get);
}

const emptyStatus = new Observable<SyncStatus | null>(null);

export function useLocal(): LocalData | null {
  return useObservable(localData);
}

export function useSignIn(): SignIn | null {
  return useObservable(auth.state);
}

export function useSyncStatus(): SyncStatus | null {
  const local = useLocal();
  return useObservable((local?.status as Observable<SyncStatus | null>) || emptyStatus);
}

export function useOnline(): boolean {
  return useSyncExternalStore(
    (cb) => {
      window.addEventListener("online", cb);
      window.addEventListener("offline", cb);
      return () => {
        window.removeEventListener("online", cb);
        window.removeEventListener("offline", cb);
      };
    },
    () => navigator.onLine,
  );
}

/** Download a server export (HTML, PDF) as a file; needs the network. */
export async function downloadServerExport(sid: string, format: string, query: string): Promise<void> {
  const res = await auth.fetch(`${base}/api/v1/sessions/${sid}/export?format=${format}${query}`);
  if (!res.ok) throw await readError(res);
  const blob = await res.blob();
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename="?([^";]+)"?/.exec(cd);
  saveBlob(blob, m ? m[1] : `session-${sid}.${format}`);
}

/** Download this workspace's data archive (owners; Backups page); needs the network. */
export async function downloadWorkspaceArchive(): Promise<string> {
  const res = await auth.fetch(`${base}/api/v1/backups/archive`);
  if (!res.ok) throw await readError(res);
  const blob = await res.blob();
  const m = /filename="?([^";]+)"?/.exec(res.headers.get("Content-Disposition") || "");
  const name = m ? m[1] : "branchline-workspace.zip";
  saveBlob(blob, name);
  return name;
}

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export { createShareLink, EXPIRY_CHOICES, linkStatus, listShareLinks, revokeShareLink, type CreatedShareLink, type ShareLink } from "./shareLinks";
