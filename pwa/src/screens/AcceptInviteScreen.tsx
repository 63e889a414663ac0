// Accepting an invitation: the link an admin sends (/accept-invite#token=...) lands here. It
// says which team and address the invitation is for, the invitee picks a name and a password
// (the server's password policy explains any refusal), and they arrive signed in on the library.
// When the team requires single sign-on, the invitation is accepted without a password and the
// screen sends them to sign in with SSO.
import { useEffect, useState, type FormEvent } from "react";
import { acceptInvitation, ApiError, checkInvitation, useSignIn, type Invitation } from "../data";
import { navigate } from "../router";
import { Button, ErrorBox, Field, inputClass, Loading } from "../ui/kit";
import { NewPasswordField } from "./NewPasswordField";
import { AuthFrame, AuthSwitch } from "./SignInScreen";

/** The token from the link's fragment (kept out of the query so it never reaches server logs). */
export function inviteToken(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  return token && token.trim() ? token.trim() : null;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const ROLE_WORDS: Record<string, string> = {
  owner: "an owner",
  admin: "an admin",
  author: "an author",
  engineer: "an engineer",
  viewer: "a viewer",
};

type Check = { status: "checking" } | { status: "ready"; invitation: Invitation } | { status: "failed"; reason: string };

export default function AcceptInviteScreen() {
  const current = useSignIn();
  const [token] = useState(() => inviteToken(location.hash));
  const [check, setCheck] = useState<Check>(token ? { status: "checking" } : { status: "failed", reason: "This link has no invitation in it. Open the whole link from the invitation, or ask your admin to send it again." });
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ password: boolean; text: string } | null>(null);
  // The team requires single sign-on: the server accepted the invitation without a password
  // and says to sign in through the identity provider instead (its words, with the sign-in name).
  const [ssoOnly, setSsoOnly] = useState<string | null>(null);

  useEffect(() => {
    if (!token) return;
    let live = true;
    checkInvitation(token).then(
      (invitation) => {
        if (!live) return;
        setCheck({ status: "ready", invitation });
        setName(invitation.display_name);
      },
      (e: unknown) => live && setCheck({ status: "failed", reason: message(e) }),
    );
    return () => {
      live = false;
    };
  }, [token]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!token) return;
    setBusy(true);
    setError(null);
    try {
      await acceptInvitation(token, password, name.trim());
      navigate("/", { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.error === "sso_required") {
        setSsoOnly(message(err));
        setBusy(false);
        return;
      }
      const weak = err instanceof ApiError && err.error === "weak_password";
      setError({ password: weak, text: message(err) });
      if (weak) document.getElementById("invite-password")?.focus();
      setBusy(false);
    }
  }

  if (check.status === "checking") {
    return (
      <AuthFrame title="Join your team" subtitle="Checking your invitation…">
        <Loading label="Checking the invitation…" />
      </AuthFrame>
    );
  }
  if (check.status === "failed") {
    return (
      <AuthFrame title="Join your team" subtitle="This invitation cannot be used.">
        <ErrorBox title="The invitation does not work">{check.reason}</ErrorBox>
        <AuthSwitch question="Already set a password?" to="/signin" label="Sign in" />
      </AuthFrame>
    );
  }

  const { invitation } = check;
  if (ssoOnly) {
    return (
      <AuthFrame title={`You joined ${invitation.tenant.name}`} subtitle="Your team signs in with single sign-on, not a password.">
        <p role="status" className="mb-5 rounded-xl bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100">
          {ssoOnly}
        </p>
        <AuthSwitch question="Your account is ready." to="/signin" label="Sign in with SSO" />
      </AuthFrame>
    );
  }
  const expires = new Date(invitation.expires_at * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  const other = current && !current.expired && current.account.user.email !== invitation.email ? current.account.user.email : null;
  return (
    <AuthFrame
      title={`Join ${invitation.tenant.name}`}
      subtitle={
        <>
          You are invited as {ROLE_WORDS[invitation.role] || invitation.role}. Choose your password to finish; the invitation is valid until {expires}.
        </>
      }
    >
      {other && (
        <p role="status" className="mb-5 rounded-xl bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
          This device is signed in as {other}. Accepting signs it in as {invitation.email} instead; work saved here for {other} stays on the device.
        </p>
      )}
      <form onSubmit={submit} className="space-y-5" noValidate data-testid="accept-invite">
        <Field label="Email" htmlFor="invite-email">
          <input id="invite-email" type="email" readOnly autoComplete="username" className={`${inputClass} bg-slate-50 dark:bg-slate-800`} value={invitation.email} />
        </Field>
        <Field label="Your name" htmlFor="invite-name" hint="How your team sees you in shared sessions and exports.">
          <input id="invite-name" autoComplete="name" className={inputClass} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <NewPasswordField id="invite-password" label="Choose a password" value={password} onChange={setPassword} refused={error?.password ? error.text : null} />
        {error && !error.password && <ErrorBox title="Could not accept the invitation">{error.text}</ErrorBox>}
        <Button type="submit" tone="primary" className="w-full" busy={busy} disabled={!password}>
          Set password and join
        </Button>
      </form>
    </AuthFrame>
  );
}
