import { useState, type FormEvent, type ReactNode } from "react";
import { findSso, signIn, useSignIn } from "../data";
import { afterSignIn, queryParam } from "../router";
import { Button, ErrorBox, Field, inputClass, Link } from "../ui/kit";
import { Logo } from "../ui/AppShell";
import { useAuthSubmit } from "./useAuthSubmit";

export function AuthFrame({ title, subtitle, children }: { title: string; subtitle: ReactNode; children: ReactNode }) {
  return (
    <div className="brand-bar flex min-h-dvh flex-col bg-slate-900 sm:items-center sm:justify-center sm:p-6">
      <div className="px-6 pt-10 pb-8 sm:hidden">
        <Logo />
      </div>
      <div className="flex-1 rounded-t-3xl bg-white px-6 py-8 sm:w-full sm:max-w-md sm:flex-none sm:rounded-3xl sm:p-10 sm:shadow-2xl dark:bg-slate-900 dark:sm:bg-slate-800">
        <div className="mb-6 hidden sm:block">
          <span className="brand-bar inline-flex rounded-xl bg-slate-900 px-3 py-2">
            <Logo />
          </span>
        </div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">{title}</h1>
        <p className="mt-1.5 text-slate-600 dark:text-slate-300">{subtitle}</p>
        <div className="mt-7">{children}</div>
      </div>
    </div>
  );
}

/** The line under a sign-in, sign-up or invitation form that leads to the other one. */
export function AuthSwitch({ question, to, label }: { question: string; to: string; label: string }) {
  return (
    <p className="mt-8 text-center text-sm text-slate-600 dark:text-slate-300">
      {question}{" "}
      <Link to={to} className="font-semibold text-indigo-700 dark:text-indigo-300">
        {label}
      </Link>
    </p>
  );
}

export function SignInScreen() {
  const current = useSignIn();
  const [email, setEmail] = useState(current?.account.user.email || "");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useAuthSubmit(() => signIn(email.trim(), password));
  const again = !!current?.expired;

  return (
    <AuthFrame
      title={again ? "Sign in again" : "Sign in"}
      subtitle={again ? "Your sign-in expired. Everything on this device is kept and syncs once you are back." : "Troubleshooting trees that work anywhere, even with no signal."}
    >
      <form onSubmit={submit} className="space-y-5" noValidate>
        <Field label="Email" htmlFor="email">
          <input id="email" type="email" autoComplete="username" required className={inputClass} value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Password" htmlFor="password">
          <input id="password" type="password" autoComplete="current-password" required className={inputClass} value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        {error && <ErrorBox title="Could not sign in">{error}</ErrorBox>}
        <Button type="submit" tone="primary" className="w-full" busy={busy}>
          Sign in
        </Button>
        <p className="text-center text-sm">
          <Link to={email.trim() ? `/forgot-password?email=${encodeURIComponent(email.trim())}` : "/forgot-password"} className="font-semibold text-indigo-700 dark:text-indigo-300">
            Forgot your password?
          </Link>
        </p>
      </form>
      <SsoSignIn email={email} />
      <AuthSwitch question="New to Branchline?" to="/register" label="Create your MSP's workspace" />
    </AuthFrame>
  );
}

/** What the server's SSO callback said went wrong ("/signin#sso_error=..."), read once. */
function takeSsoError(): string | null {
  const message = new URLSearchParams(location.hash.slice(1)).get("sso_error");
  if (message) history.replaceState(null, "", location.pathname + location.search);
  return message;
}

/** "Sign in with SSO": finds the team by its sign-in name or the work e-mail's domain, then
 * leaves for the team's identity provider, which sends the browser back signed in. */
function SsoSignIn({ email }: { email: string }) {
  const [ssoError] = useState(takeSsoError);
  const [open, setOpen] = useState(!!ssoError);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function start(e: FormEvent) {
    e.preventDefault();
    const q = name.trim() || email.trim();
    if (!q) {
      setError("Enter your team's sign-in name or your work e-mail.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const found = await findSso(q);
      location.assign(`${found.start_url}?next=${encodeURIComponent(afterSignIn(queryParam("next")))}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <div className="mt-6 border-t border-slate-200 pt-6 dark:border-slate-700">
      {ssoError && (
        <div className="mb-4">
          <ErrorBox title="Single sign-on failed">{ssoError}</ErrorBox>
        </div>
      )}
      {open ? (
        <form onSubmit={start} className="space-y-4" noValidate>
          <Field label="Team sign-in name or work e-mail" htmlFor="sso-name" hint="Your admin gives you the sign-in name; a work e-mail finds it by its domain.">
            <input id="sso-name" autoComplete="organization" autoCapitalize="off" spellCheck={false} className={inputClass} value={name} placeholder={email || "contoso"} onChange={(e) => setName(e.target.value)} />
          </Field>
          {error && <ErrorBox title="Could not start single sign-on">{error}</ErrorBox>}
          <Button type="submit" className="w-full" busy={busy}>
            Continue with SSO
          </Button>
        </form>
      ) : (
        <Button className="w-full" onClick={() => setOpen(true)}>
          Sign in with SSO
        </Button>
      )}
    </div>
  );
}
