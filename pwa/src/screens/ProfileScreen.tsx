// Profile: name, password, appearance, sign out (with a check for unsynced work).
import { useState } from "react";
import { api, auth, idpSignOutUrl, signOut, useOnline, useSignIn, useSyncStatus, type Account, type Unsent } from "../data";
import { navigate } from "../router";
import { Button, Card, Dialog, ErrorBox, Field, inputClass } from "../ui/kit";
import { waitingText } from "../ui/SyncStatus";
import { applyTheme, type Theme } from "../theme";

export default function ProfileScreen() {
  const signin = useSignIn();
  const status = useSyncStatus();
  const online = useOnline();
  const [name, setName] = useState(signin?.account.user.display_name || "");
  const [pw, setPw] = useState({ current: "", next: "" });
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Unsent | null>(null);
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem("bl.theme") as Theme) || "system");
  if (!signin) return null;
  const acc = signin.account;

  const run = async (what: string, fn: () => Promise<void>, ok: string) => {
    setBusy(what);
    setMsg(null);
    try {
      await fn();
      setMsg({ ok: true, text: ok });
    } catch (e) {
      setMsg({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(null);
    }
  };

  const doSignOut = async (discard: boolean) => {
    setBusy("signout");
    const left = await signOut({ discard });
    setBusy(null);
    // After an SSO sign-in, the IdP's sign-out page ends its session too (it comes back to /signin).
    const idp = idpSignOutUrl();
    if (left) setConfirm(left);
    else if (idp && navigator.onLine) location.assign(idp);
    else navigate("/signin", { replace: true });
  };

  return (
    <div className="mx-auto max-w-2xl space-y-5">
      <div className="flex items-center gap-4">
        <span className="flex h-14 w-14 shrink-0 items-center justify-center rounded-full bg-indigo-600 text-xl font-semibold text-white" aria-hidden="true">
          {(acc.user.display_name || acc.user.email)[0]?.toUpperCase()}
        </span>
        <div className="min-w-0">
          <h1 className="truncate text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">{acc.user.display_name}</h1>
          <p className="truncate text-slate-600 dark:text-slate-400">
            {acc.user.email} · <span className="capitalize">{acc.role}</span> at {acc.tenant.name}
          </p>
        </div>
      </div>
      {msg && (msg.ok ? <p role="status" className="rounded-xl bg-emerald-50 px-4 py-2.5 text-sm font-semibold text-emerald-800">{msg.text}</p> : <ErrorBox title="Not saved">{msg.text}</ErrorBox>)}
      <Card className="space-y-4 p-5">
        <h2 className="font-semibold">Your name</h2>
        <Field label="Display name" htmlFor="dn" hint="Shown on exports and next to your notes.">
          <input id="dn" className={inputClass} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Button
          disabled={!online || !name.trim()}
          busy={busy === "name"}
          onClick={() =>
            run(
              "name",
              async () => {
                await api("/api/v1/me", { method: "PATCH", body: { display_name: name.trim() } });
                auth.setAccount(await api<Account>("/api/v1/me"));
              },
              "Name saved",
            )
          }
        >
          Save name
        </Button>
      </Card>
      <Card className="space-y-4 p-5">
        <h2 className="font-semibold">Password</h2>
        <Field label="Current password" htmlFor="pw1">
          <input id="pw1" type="password" autoComplete="current-password" className={inputClass} value={pw.current} onChange={(e) => setPw({ ...pw, current: e.target.value })} />
        </Field>
        <Field label="New password" htmlFor="pw2" hint="At least 10 characters.">
          <input id="pw2" type="password" autoComplete="new-password" className={inputClass} value={pw.next} onChange={(e) => setPw({ ...pw, next: e.target.value })} />
        </Field>
        <Button
          disabled={!online || !pw.current || !pw.next}
          busy={busy === "pw"}
          onClick={() =>
            run(
              "pw",
              async () => {
                await api("/api/v1/me/password", { method: "POST", body: { current_password: pw.current, new_password: pw.next } });
                setPw({ current: "", next: "" });
              },
              "Password changed",
            )
          }
        >
          Change password
        </Button>
        {!online && <p className="text-sm text-slate-500">Changing your name or password needs a connection.</p>}
      </Card>
      <Card className="space-y-3 p-5">
        <h2 className="font-semibold">Appearance</h2>
        <div className="inline-flex rounded-xl bg-slate-200/70 p-1 dark:bg-slate-800">
          {(["system", "light", "dark"] as Theme[]).map((t) => (
            <button
              key={t}
              type="button"
              aria-pressed={theme === t}
              onClick={() => {
                setTheme(t);
                applyTheme(t);
              }}
              className={`min-h-11 rounded-lg px-4 text-sm font-semibold capitalize ${theme === t ? "bg-white text-slate-900 shadow-sm dark:bg-slate-700 dark:text-white" : "text-slate-600 dark:text-slate-300"}`}
            >
              {t}
            </button>
          ))}
        </div>
      </Card>
      <Card className="space-y-3 p-5">
        <h2 className="font-semibold">Sign out</h2>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Signing out removes your trees and sessions from this device once they are safely on the server.
          {status && status.pending > 0 ? ` Not synced yet: ${waitingText(status.pending - status.files, status.files)}.` : ""}
        </p>
        <Button tone="danger" busy={busy === "signout"} onClick={() => void doSignOut(false)} data-testid="sign-out">
          Sign out
        </Button>
      </Card>
      {confirm !== null && (
        <Dialog
          title="Changes not synced yet"
          onClose={() => setConfirm(null)}
          footer={
            <>
              <Button onClick={() => setConfirm(null)} data-autofocus>
                Stay signed in
              </Button>
              <Button tone="danger" busy={busy === "signout"} onClick={() => void doSignOut(true)}>
                Discard and sign out
              </Button>
            </>
          }
        >
          <p>
            Not on the server yet: {waitingText(confirm.changes, confirm.files)}. {online ? "The server could not take it all just now." : "You are offline."}{" "}
            Stay signed in and it all uploads by itself; signing out now deletes it from this device for good.
          </p>
        </Dialog>
      )}
    </div>
  );
}
