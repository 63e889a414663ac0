import { describe, expect, it } from "vitest";
import { Auth, OfflineError, SignInRequired, type Account } from "./auth";
import { MemoryStorage } from "./testing/memoryStorage";

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
  loseRefreshAnswer: boolean;
}

function setup(now = 1_000_000) {
  const storage = new MemoryStorage();
  const server: Server = {
    valid: new Set(["a1"]),
    refreshTokens: new Set(["r1"]),
    refreshCalls: [],
    seen: [],
    healthy: true,
    loseRefreshAnswer: false,
  };
  let n = 1;
  const clock = { now };
  const fakeFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    if (url.endsWith("/healthz")) {
      if (!server.healthy) throw new TypeError("Failed to fetch");
      return json(200, { ok: true });
    }
    if (url.endsWith("/api/v1/auth/refresh")) {
      const { refresh_token } = JSON.parse(String(init?.body));
      server.refreshCalls.push(refresh_token);
      if (!server.refreshTokens.delete(refresh_token)) return json(401, { error: "unauthorized", reason: "revoked" });
      n += 1;
      server.valid = new Set([`a${n}`]);
      server.refreshTokens.add(`r${n}`);
      if (server.loseRefreshAnswer) throw new TypeError("connection reset");
      return json(200, { access_token: `a${n}`, refresh_token: `r${n}`, token_type: "bearer", expires_in: 5 });
    }
    const auth = new Headers(init?.headers).get("Authorization");
    const stored = JSON.parse(storage.getItem("bl.signin") || "null");
    server.seen.push({ url, auth, storedRefresh: stored?.tokens.refresh_token ?? null });
    if (!auth || !server.valid.has(auth.replace("Bearer ", ""))) return json(401, { error: "token_expired", reason: "expired" });
    return json(200, { ok: true });
  };
  const auth = new Auth({ fetch: fakeFetch as typeof fetch, storage, now: () => clock.now, base: "http://x" });
  auth.signedIn({ access_token: "a1", refresh_token: "r1", expires_in: 5 }, account);
  return { auth, server, storage, clock };
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

  it("never resends a refresh token whose answer was lost: asks for a new sign-in", async () => {
    const { auth, server, storage } = setup();
    server.valid = new Set();
    server.loseRefreshAnswer = true;
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(SignInRequired);
    expect(auth.current?.expired).toBe(true);
    await expect(auth.fetch("http://x/2")).rejects.toBeInstanceOf(SignInRequired);
    expect(server.refreshCalls).toEqual(["r1"]);
    // The account (and so the local databases' names) is kept for signing in again.
    expect(JSON.parse(storage.getItem("bl.signin")!).account.user.id).toBe("u1");
  });

  it("treats a refresh that was on the wire when the page died as lost", () => {
    const { storage } = setup();
    const saved = JSON.parse(storage.getItem("bl.signin")!);
    storage.setItem("bl.signin", JSON.stringify({ ...saved, spending: saved.tokens.refresh_token }));
    const again = new Auth({ fetch: fetch, storage, now: () => 0, base: "http://x" });
    expect(again.current?.expired).toBe(true);
  });

  it("asks for a new sign-in when the refresh token was revoked", async () => {
    const { auth, server } = setup();
    server.valid = new Set();
    server.refreshTokens.clear();
    await expect(auth.fetch("http://x/1")).rejects.toBeInstanceOf(SignInRequired);
    expect(auth.current?.expired).toBe(true);
  });
});
