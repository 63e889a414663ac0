import { useState, type ReactNode } from "react";
import { signIn, useSignIn } from "../data";
import { Button, ErrorBox, Field, inputClass, Link } from "../ui/kit";
import { Logo } from "../ui/AppShell";
import { useAuthSubmit } from "./useAuthSubmit";

export function AuthFrame({ title, subtitle, children }: { title: string; subtitle: ReactNode; children: ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col bg-slate-900 sm:items-center sm:justify-center sm:p-6">
      <div className="px-6 pt-10 pb-8 sm:hidden">
        <Logo />
      </div>
      <div className="flex-1 rounded-t-3xl bg-white px-6 py-8 sm:w-full sm:max-w-md sm:flex-none sm:rounded-3xl sm:p-10 sm:shadow-2xl dark:bg-slate-900 dark:sm:bg-slate-800">
        <div className="mb-6 hidden sm:block">
          <span className="inline-flex rounded-xl bg-slate-900 px-3 py-2">
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
      </form>
      <AuthSwitch question="New to Branchline?" to="/register" label="Create your MSP's workspace" />
    </AuthFrame>
  );
}
