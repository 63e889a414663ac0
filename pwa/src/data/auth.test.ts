import { describe, expect, it } from "vitest";
import { Auth, OfflineError, RETRY_WINDOW_MS, SignInRequired, type Account } from "./auth";
import { MemoryStorage } from "./memoryStorage";

const account: Account = {
  user: { id: "u1", email: "e@example.com", display_name: "Emma", role: "engineer" },
  tenant: { id: "t1", name: "Demo" },
  role: "engineer",
  sync: { root: "http://x/sync/t1/", databases: {} },
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

interface Server {
  valid: Set<string>;
  refreshTokens: Set<string>;
  refreshCalls: string[];
  seen: { url: string; auth: string | null; storedRefresh: string | null }[];
  healthy: boolean;
  /** A captive portal answers every request with its login page. */
  portal: boolean;
  loseRefreshAnswer: boolean;
  failRefreshWith: number | null;
  /** Runs as each request arrives, before it is answered: what another tab does meanwhile. */
  meanwhile: ((url: string) => void) | null;
}

function setup(now = 1_000_000) {
  const storage = new MemoryStorage();
  const server: Server = {
    valid: new Set(["a1"]),
    refreshTokens: new Set(["r1"]),
    refreshCalls: [],
    seen: [],
    healthy: true,
    portal: false,
    loseRefreshAnswer: false,
    failRefreshWith: null,
    meanwhile: null,
  };
  // As the server does: a spent token presented again within 60 s of its rotation, while its
  // successor is unused, gets that same successor back.
  const rotated = new Map<string, { successor: string; at: number }>();
  let n = 1;
  const clock = { now };
  const fakeFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    server.meanwhile?.(url);
    if (server.portal) return new Response("<!doctype html><title>Hotel Wi-Fi</title>", { status: 200, headers: { "Content-Type": "text/html" } });
    if (url.endsWith("/healthz")) {
      if (!server.healthy) throw new TypeError("Failed to fetch");
      return json(200, { status: "ok" });
    }
    if (url.endsWith("/api/v1/auth/refresh")) {
      const { refresh_token } = JSON.parse(String(init?.body));
      server.refreshCalls.push(refresh_token);
      let successor: string;
      const before = rotated.get(refresh_token);
      if (server.refreshTokens.delete(refresh_token)) {
        n += 1;
        successor = `r${n}`;
        server.refreshTokens.add(successor);
        rotated.set(refresh_token, { successor, at: clock.now });
      } else if (before && server.refreshTokens.has(before.successor) && clock.now - before.at <= 60_000) {
        n += 1;
        successor = before.successor;
      } else {
        return json(401, { error: "token_reused", reason: "revoked" });
      }
      server.valid = new Set([`a${n}`]);
      if (server.loseRefreshAnswer) throw new TypeError("connection reset");
      if (server.failRefreshWith) return json(server.failRefreshWith, { error: "error", reason: "failed" });
      return json(200, { access_token: `a${n}`, refresh_token: successor, token_type: "bearer", expires_in: 5 });
    }
    const auth = new Headers(init?.headers).get("Authorization");
    const stored = JSON.parse(storage.getItem("bl.signin") || "null");
    server.seen.push({ url, auth, storedRefresh: stored?.tokens.refresh_token ?? null });
    if (!auth || !server.valid.has(auth.replace("Bearer ", ""))) return json(401, { error: "token_expired", reason: "expired" });
    return json(200, { ok: true });
  };
  const auth = new Auth({ fetch: fakeFetch as typeof fetch, storage, now: () => clock.now, base: "http://x" });
  auth.signedIn({ access_token: "a1", refresh_token: "r1", expires_in: 5 }, account);
  return { auth, server, storage, clock, fakeFetch };
}

describe("Auth.fetch", () => {
  it("adds the bearer token", async () => {
    const { auth, server } = setup();
    const res = await auth.fetch("http://x/api/v1/me");
    expect(res.status).toBe(200);
    expect(server.seen[0].auth).toBe("Bearer a1");
  });

  it("refreshes an expired token once for concurrent requests and retries them", async () => {
    const { auth, server } = setup();
    server.valid = new Set(); // a1 expired on the server
    const results = await Promise.all([auth.fetch("http://x/1"), auth.fetch("http://x/2"), auth.fetch("http://x/3")]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(server.refreshCalls).toEqual(["r1"]);
  });

  it("persists the new tokens before using the new access token", async () => {
    const { auth, server } = setup();
    server.valid = new Set();
    await auth.fetch("http://x/1");
    const retried = server.seen.find((s) => s.auth === "Bearer a2");
    expect(retried?.storedRefresh).toBe("r2");
  });

  it("follows a sign-out and renewed tokens from another tab", () => {
    const { auth, storage, fakeFetch, clock } = setup();
    const other = new Auth({ fetch: fakeFetch as typeof fetch, storage, now: () => clock.now, base: "http://x" });
    other.forget();
    auth.storageChanged("bl.pending.something"); // not the sign-in: ignored
    expect(auth.current).not.toBeNull();
    auth.storageChanged("bl.signin");
    expect(auth.current).toBeNull();
    other.signedIn({ access_token: "a9", refresh_token: "r9", expires_in: 5 }, account);
    auth.storageChanged("bl.signin");
    expect(auth.current?.tokens.access_token).toBe("a9");
  });

  it("spends no refresh token behind a captive portal", async () => {
    const { auth, server, clock, storage } = setup();
    clock.now += 6000;
    server.portal = true;
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(OfflineError);
    expect(server.refreshCalls).toEqual([]);
    expect(JSON.parse(storage.getItem("bl.signin") || "{}").spending).toBeFalsy();
    server.portal = false;
    server.valid = new Set();
    expect((await auth.fetch("http://x/1")).status).toBe(200);
    expect(server.refreshCalls).toEqual(["r1"]);
  });

  it("refreshes before sending when the token is known to be expired", async () => {
    const { auth, server, clock } = setup();
    clock.now += 6000;
    server.valid = new Set();
    await auth.fetch("http://x/1");
    expect(server.seen.map((s) => s.auth)).toEqual(["Bearer a2"]);
  });

  it("keeps the refresh token unspent while the server is unreachable", async () => {
    const { auth, server } = setup();
    server.valid = new Set();
    server.healthy = false;
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(OfflineError);
    expect(server.refreshCalls).toEqual([]);
    expect(auth.current?.expired).toBeFalsy();
    server.healthy = true;
    expect((await auth.fetch("http://x/1")).status).toBe(200);
    expect(server.refreshCalls).toEqual(["r1"]);
  });

  it("sends a refresh token whose answer was lost again, and gets the same successor", async () => {
    const { auth, server, clock } = setup();
    server.valid = new Set();
    server.loseRefreshAnswer = true;
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(OfflineError);
    expect(auth.current?.expired).toBeFalsy();
    server.loseRefreshAnswer = false;
    clock.now += 20_000; // signal comes back twenty seconds later
    expect((await auth.fetch("http://x/1")).status).toBe(200);
    expect(server.refreshCalls).toEqual(["r1", "r1"]);
    expect(auth.current?.tokens.refresh_token).toBe("r2");
    expect(auth.current?.spending).toBeNull();
  });

  it("treats a server failure after the send like a lost answer", async () => {
    const { auth, server } = setup();
    server.valid = new Set();
    server.failRefreshWith = 502;
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(OfflineError);
    server.failRefreshWith = null;
    expect((await auth.fetch("http://x/1")).status).toBe(200);
    expect(server.refreshCalls).toEqual(["r1", "r1"]);
  });

  it("asks for a new sign-in, without sending the token again, once the retry window has passed", async () => {
    const { auth, server, storage, clock } = setup();
    server.valid = new Set();
    server.loseRefreshAnswer = true;
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(OfflineError);
    server.loseRefreshAnswer = false;
    clock.now += RETRY_WINDOW_MS + 1;
    await expect(auth.fetch("http://x/2")).rejects.toBeInstanceOf(SignInRequired);
    expect(auth.current?.expired).toBe(true);
    expect(server.refreshCalls).toEqual(["r1"]);
    // The account (and so the local databases' names) is kept for signing in again.
    expect(JSON.parse(storage.getItem("bl.signin")!).account.user.id).toBe("u1");
  });

  it("treats a refresh that was on the wire when the page died long ago as lost", () => {
    const { storage } = setup();
    const saved = JSON.parse(storage.getItem("bl.signin")!);
    storage.setItem("bl.signin", JSON.stringify({ ...saved, spending: saved.tokens.refresh_token, spending_since: 0 }));
    const again = new Auth({ fetch: fetch, storage, now: () => RETRY_WINDOW_MS + 1, base: "http://x" });
    expect(again.current?.expired).toBe(true);
  });

  it("after a reload, sends a refresh whose answer was lost just before again", async () => {
    const { auth, server, storage, clock, fakeFetch } = setup();
    server.valid = new Set();
    server.loseRefreshAnswer = true;
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(OfflineError);
    server.loseRefreshAnswer = false;
    const reloaded = new Auth({ fetch: fakeFetch as typeof fetch, storage, now: () => clock.now, base: "http://x" });
    expect(reloaded.current?.expired).toBeFalsy();
    expect((await reloaded.fetch("http://x/1")).status).toBe(200);
    expect(server.refreshCalls).toEqual(["r1", "r1"]);
  });

  it("asks for a new sign-in when the refresh token was revoked", async () => {
    const { auth, server } = setup();
    server.valid = new Set();
    server.refreshTokens.clear();
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(SignInRequired);
    expect(auth.current?.expired).toBe(true);
  });

  // A tab signing out revokes the refresh token on the server and then removes the sign-in
  // from storage; another tab's refresh that was under way must not write its older copy back,
  // or that tab stays on a sign-in that no longer exists instead of showing the sign-in screen.
  for (const [moment, refused] of [
    ["/healthz", true],
    ["/api/v1/auth/refresh", true],
    ["/api/v1/auth/refresh", false],
  ] as const) {
    it(`never brings back a sign-in another tab removed during ${moment}${refused ? " (then refused)" : ""}`, async () => {
      const { auth, server, storage, fakeFetch, clock } = setup();
      const other = new Auth({ fetch: fakeFetch as typeof fetch, storage, now: () => clock.now, base: "http://x" });
      server.valid = new Set();
      server.meanwhile = (url) => {
        if (!url.endsWith(moment)) return;
        server.meanwhile = null;
        if (refused) server.refreshTokens.clear();
        other.forget();
      };
      await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(SignInRequired);
      expect(storage.getItem("bl.signin")).toBeNull();
      expect(auth.current).toBeNull();
    });
  }

  it("does not overwrite another account signed in by another tab during a refresh", async () => {
    const { auth, server, storage, fakeFetch, clock } = setup();
    const other = new Auth({ fetch: fakeFetch as typeof fetch, storage, now: () => clock.now, base: "http://x" });
    const someoneElse = { ...account, user: { ...account.user, id: "u2", email: "f@example.com" } };
    server.valid = new Set();
    server.meanwhile = (url) => {
      if (!url.endsWith("/api/v1/auth/refresh")) return;
      server.meanwhile = null;
      other.signedIn({ access_token: "b1", refresh_token: "s1", expires_in: 5 }, someoneElse);
    };
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(SignInRequired);
    const stored = JSON.parse(storage.getItem("bl.signin") || "null");
    expect(stored.account.user.id).toBe("u2");
    expect(stored.tokens.refresh_token).toBe("s1");
    expect(auth.current?.account.user.id).toBe("u2");
  });

  it("ignores a copy of a signed-out sign-in that a slower tab writes back afterwards", () => {
    const { auth, storage, fakeFetch, clock } = setup();
    const stale = storage.getItem("bl.signin")!;
    const other = new Auth({ fetch: fakeFetch as typeof fetch, storage, now: () => clock.now, base: "http://x" });
    other.end();
    auth.storageChanged("bl.ended.x"); // the marker alone already signs this tab out
    expect(auth.current).toBeNull();
    other.forget();
    // A tab whose copy of localStorage was behind writes its sign-in back after the removal.
    storage.setItem("bl.signin", JSON.stringify({ ...JSON.parse(stale), expired: true }));
    auth.storageChanged("bl.signin");
    expect(auth.current).toBeNull();
    const reloaded = new Auth({ fetch: fakeFetch as typeof fetch, storage, now: () => clock.now, base: "http://x" });
    expect(reloaded.current).toBeNull();
    // Signing in again (same user) is a new sign-in that the old marker does not touch.
    reloaded.signedIn({ access_token: "a5", refresh_token: "r5", expires_in: 5 }, account);
    auth.storageChanged("bl.signin");
    expect(auth.current?.tokens.access_token).toBe("a5");
  });

  it("drops the markers of sign-outs older than a day at the next sign-in", () => {
    const { auth, storage, clock } = setup();
    auth.end();
    auth.forget();
    const markers = () => Array.from({ length: storage.length }, (_, i) => storage.key(i)).filter((k) => k?.startsWith("bl.ended."));
    expect(markers()).toHaveLength(1);
    clock.now += 25 * 3600_000;
    auth.signedIn({ access_token: "a5", refresh_token: "r5", expires_in: 5 }, account);
    expect(markers()).toEqual([]);
    expect(auth.current?.tokens.access_token).toBe("a5");
  });
});
