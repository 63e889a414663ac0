// The sign-in: tokens, the account, and the fetch wrapper every request (API and sync) uses.
//
// Refresh tokens rotate and a reused one revokes the whole sign-in, so this module never
// sends the same refresh token twice:
// - refreshes are single-flight within the page and serialised across tabs (Web Locks), and
//   a tab re-reads storage inside the lock, so it uses a token another tab already got;
// - the new tokens are persisted before the new access token is used;
// - the refresh token being spent is written down first ("spending", with when it was first
//   sent); if the answer is lost (network error or server failure after the server was
//   reachable, or the page died mid-request) the token may already be rotated. The server
//   gives a token presented again shortly after its rotation the same successor, as long as
//   that successor is unused (`refresh_retry_grace_seconds`, 60 s by default), so within
//   RETRY_WINDOW_MS of the first send the same token is sent again; later, the app asks the
//   user to sign in again instead. Local data is never touched by any of this.
import { Observable } from "./observable";

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_at: number;
}

export interface Account {
  user: { id: string; email: string; display_name: string; role: string };
  tenant: { id: string; name: string };
  role: string;
  sync: { root: string; databases: Record<string, string> };
}

export interface SignIn {
  /** Names this sign-in, so a sign-out can be told apart from a later sign-in (see `end`). */
  id?: string;
  tokens: Tokens;
  account: Account;
  /** The refresh token a refresh request is carrying right now (or was, if the page died). */
  spending?: string | null;
  /** When `spending` was first sent (ms): a lost answer may be retried for a short while. */
  spending_since?: number | null;
  /** The tokens no longer work: the user must sign in again (local data is kept). */
  expired?: boolean;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public error: string,
    public reason: string,
    /** The answer's `details`, when it has any (e.g. the colour a refused brand could use). */
    public details?: unknown,
  ) {
    super(reason || error || `HTTP ${status}`);
  }
}

/** The server could not be reached: the request may be retried later. */
export class OfflineError extends Error {
  constructor(message = "You are offline: the server cannot be reached.") {
    super(message);
  }
}

/** The sign-in is no longer valid; the user must sign in again. */
export class SignInRequired extends Error {
  constructor(message = "Your sign-in has expired. Sign in again; your work on this device is kept.") {
    super(message);
  }
}

export interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

const KEY = "bl.signin";
/** `bl.ended.<sign-in id>`: that sign-in was signed out (see `end`). */
const ENDED = "bl.ended.";
/** Markers of ended sign-ins older than this are dropped at the next sign-in. */
const ENDED_KEPT_MS = 24 * 3600_000;

function newId(): string {
  // getRandomValues works on plain-HTTP LAN addresses too, where randomUUID does not exist.
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
/** How long after first sending a refresh token a lost answer may be asked again. The
 * server's grace is 60 s from its rotation, which happens after the send: a margin stays. */
export const RETRY_WINDOW_MS = 45_000;

export interface AuthDeps {
  fetch: typeof fetch;
  storage: Storage;
  now: () => number;
  base: string;
  locks?: { request: (name: string, fn: () => Promise<unknown>) => Promise<unknown> } | null;
}

export function tokensFrom(answer: TokenAnswer, now: number): Tokens {
  return {
    access_token: answer.access_token,
    refresh_token: answer.refresh_token,
    expires_at: now + answer.expires_in * 1000,
  };
}

export async function readError(res: Response): Promise<ApiError> {
  let body: { error?: string; reason?: string; details?: unknown } = {};
  try {
    body = await res.clone().json();
  } catch {
    // Not JSON (a proxy's error page): keep the status.
  }
  return new ApiError(res.status, body.error || "error", body.reason || res.statusText, body.details);
}

export class Auth {
  readonly state: Observable<SignIn | null>;
  private inflight: Promise<string> | null = null;

  constructor(private deps: AuthDeps) {
    let stored = this.load();
    if (stored && !stored.id) {
      // Stored by a version without sign-in ids.
      stored = { ...stored, id: newId() };
      this.save(stored);
    }
    if (stored && stored.spending && stored.spending === stored.tokens.refresh_token && !this.canRetry(stored)) {
      // The page went away while a refresh was on the wire, too long ago to ask again.
      stored = { ...stored, spending: null, spending_since: null, expired: true };
      this.save(stored);
    }
    this.state = new Observable<SignIn | null>(stored);
  }

  private load(): SignIn | null {
    let stored: SignIn | null;
    try {
      const raw = this.deps.storage.getItem(KEY);
      stored = raw ? (JSON.parse(raw) as SignIn) : null;
    } catch {
      return null;
    }
    return stored && this.ended(stored) ? null : stored;
  }

  private ended(s: SignIn): boolean {
    return !!s.id && this.deps.storage.getItem(ENDED + s.id) !== null;
  }

  /** The stored sign-in again, after an await: another tab may have signed out, or in as
   * someone else, meanwhile. Writing back the copy read before the await would bring a removed
   * sign-in back (that tab would then never show the sign-in screen), so this throws instead. */
  private stillSignedIn(as: SignIn): SignIn {
    const latest = this.load();
    if (!latest || latest.account.user.id !== as.account.user.id || latest.account.tenant.id !== as.account.tenant.id) {
      this.state.set(latest);
      throw new SignInRequired("You are signed out.");
    }
    return latest;
  }

  private save(value: SignIn | null): void {
    if (value && this.ended(value)) value = null;
    if (value) this.deps.storage.setItem(KEY, JSON.stringify(value));
    else this.deps.storage.removeItem(KEY);
    this.state?.set(value);
  }

  /** Whether the token `cur` was spending (its answer lost) may still be sent again. */
  private canRetry(cur: SignIn): boolean {
    const since = cur.spending_since;
    return typeof since === "number" && this.deps.now() - since < RETRY_WINDOW_MS;
  }

  get current(): SignIn | null {
    return this.state.get();
  }

  /** Store a fresh sign-in (after login, register or accept-invite). */
  signedIn(answer: TokenAnswer, account: Account): void {
    const storage = this.deps.storage;
    const now = this.deps.now();
    for (let i = storage.length - 1; i >= 0; i--) {
      const key = storage.key(i);
      if (key?.startsWith(ENDED) && now - Number(storage.getItem(key)) > ENDED_KEPT_MS) storage.removeItem(key);
    }
    this.save({ id: newId(), tokens: tokensFrom(answer, now), account, spending: null, expired: false });
  }

  /** Sign-out begins: from now on no tab uses or stores this sign-in again. Tabs do not see
   * each other's localStorage writes at once (each has its own copy, updated a little later),
   * so a tab finishing a refresh could otherwise write its copy back after `forget` removed
   * it, and stay on a sign-in that no longer exists. The marker is written once and never
   * overwritten, and every read and write checks it. */
  end(): void {
    const cur = this.state.get();
    if (cur?.id) this.deps.storage.setItem(ENDED + cur.id, String(this.deps.now()));
  }

  setAccount(account: Account): void {
    const cur = this.load();
    if (cur) this.save({ ...cur, account });
  }

  markExpired(): void {
    const cur = this.load();
    if (cur && !cur.expired) this.save({ ...cur, expired: true, spending: null });
  }

  forget(): void {
    this.save(null);
  }

  /** Another tab changed localStorage (a `storage` event): follow its sign-in, sign-out or
   * renewed tokens, so this tab never acts on a sign-in that no longer exists. */
  storageChanged(key: string | null): void {
    if (key !== null && key !== KEY && !key.startsWith(ENDED)) return;
    const stored = this.load();
    if (JSON.stringify(stored) !== JSON.stringify(this.state.get())) this.state.set(stored);
  }

  /** `fetch` with the Bearer token; refreshes an expired access token once and retries. */
  fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const cur = this.load();
    if (!cur) throw new SignInRequired("You are signed out.");
    if (cur.expired) throw new SignInRequired();
    let token = cur.tokens.access_token;
    if (cur.tokens.expires_at <= this.deps.now()) token = await this.refresh(token);
    let res = await this.send(input, init, token);
    if (res.status !== 401) return res;
    // Usually `token_expired`; any other 401 (a revoked token) gets one refresh too, and a
    // second 401 means signing in again.
    token = await this.refresh(token);
    res = await this.send(input, init, token);
    if (res.status === 401) {
      this.markExpired();
      throw new SignInRequired();
    }
    return res;
  };

  private send(input: string, init: RequestInit, token: string): Promise<Response> {
    const headers = new Headers(init.headers || {});
    headers.set("Authorization", `Bearer ${token}`);
    return this.deps.fetch(input, { ...init, headers }).catch((e: unknown) => {
      throw new OfflineError(e instanceof Error ? e.message : undefined);
    });
  }

  /** A valid access token, refreshing at most once at a time across the page and its tabs. */
  refresh(stale: string): Promise<string> {
    if (!this.inflight) {
      const run = () => this.doRefresh(stale);
      const locked = this.deps.locks
        ? (this.deps.locks.request("branchline-refresh", run) as Promise<string>)
        : run();
      this.inflight = locked.finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async doRefresh(stale: string): Promise<string> {
    let cur = this.load();
    if (!cur) throw new SignInRequired("You are signed out.");
    if (cur.expired) throw new SignInRequired();
    if (cur.tokens.access_token !== stale && cur.tokens.expires_at > this.deps.now()) {
      this.state.set(cur);
      return cur.tokens.access_token; // another tab refreshed already
    }
    // Is the server there at all? If not, the refresh token stays unspent.
    try {
      const probe = await this.deps.fetch(`${this.deps.base}/healthz`, { cache: "no-store" });
      if (!probe.ok) throw new OfflineError(`The server answered ${probe.status}.`);
      // A captive portal answers 200 with its login page: only the server's own answer counts,
      // or the refresh token would be spent on a request that never reaches the server.
      const health = (await probe.json().catch(() => null)) as { status?: unknown } | null;
      if (health?.status !== "ok") throw new OfflineError("Something on the network answered instead of the server.");
    } catch (e) {
      if (e instanceof OfflineError) throw e;
      throw new OfflineError();
    }
    // The probe took a while: decide on what is stored now, not on what was read before it.
    cur = this.stillSignedIn(cur);
    if (cur.expired) throw new SignInRequired();
    if (cur.tokens.access_token !== stale && cur.tokens.expires_at > this.deps.now()) {
      this.state.set(cur);
      return cur.tokens.access_token;
    }
    const spending = cur.tokens.refresh_token;
    const retrying = cur.spending === spending;
    if (retrying && !this.canRetry(cur)) {
      // Its answer was lost too long ago: the server would take it for a stolen copy.
      this.save({ ...cur, spending: null, spending_since: null, expired: true });
      throw new SignInRequired("The connection dropped while renewing your sign-in. Sign in again; your work on this device is kept.");
    }
    const since = retrying && cur.spending_since ? cur.spending_since : this.deps.now();
    this.save({ ...cur, spending, spending_since: since });
    const lost = (message: string): Error => {
      // The server was reachable a moment ago: the refresh may have happened without us
      // hearing the answer. Keep the token as being spent: sent again shortly, the server
      // answers with the same successor; too late, a new sign-in is needed.
      const latest = this.stillSignedIn(cur);
      if (this.canRetry({ ...latest, spending_since: since })) {
        return new OfflineError(message);
      }
      this.save({ ...latest, spending: null, spending_since: null, expired: true });
      return new SignInRequired("The connection dropped while renewing your sign-in. Sign in again; your work on this device is kept.");
    };
    let res: Response;
    try {
      res = await this.deps.fetch(`${this.deps.base}/api/v1/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: spending }),
      });
    } catch {
      throw lost("The connection dropped while renewing your sign-in; trying again shortly.");
    }
    if (res.ok) {
      const answer = (await res.json()) as TokenAnswer;
      const latest = this.stillSignedIn(cur);
      // Persist first, use second.
      this.save({ ...latest, tokens: tokensFrom(answer, this.deps.now()), spending: null, spending_since: null, expired: false });
      return answer.access_token;
    }
    if (res.status === 429) {
      // Throttled before anything was rotated: the token is still unspent.
      this.save({ ...this.stillSignedIn(cur), spending: null, spending_since: null });
      throw new OfflineError("The server asked to slow down; retrying shortly.");
    }
    if (res.status >= 500) throw lost(`The server failed (${res.status}) while renewing your sign-in; trying again shortly.`);
    // A refusal (401): revoked, expired or reused.
    this.save({ ...this.stillSignedIn(cur), spending: null, spending_since: null, expired: true });
    throw new SignInRequired();
  }
}
