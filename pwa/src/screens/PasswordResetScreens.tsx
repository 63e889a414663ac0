// A forgotten password: ask for a link (/forgot-password), then choose a new password from the
// e-mailed link (/reset-password#token=...), which signs this device in. The server answers the
// request the same whether or not the address has an account, and so does this screen.
import { useEffect, useState, type FormEvent } from "react";
import { ApiError, checkPasswordReset, requestPasswordReset, resetPassword } from "../data";
import { navigate, queryParam } from "../router";
import { Button, ErrorBox, Field, inputClass, Loading } from "../ui/kit";
import { inviteToken } from "./AcceptInviteScreen";
import { NewPasswordField } from "./NewPasswordField";
import { AuthFrame, AuthSwitch } from "./SignInScreen";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function ForgotPasswordScreen() {
  const [email, setEmail] = useState(() => queryParam("email") || "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [answer, setAnswer] = useState<{ message: string; configured: boolean } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setAnswer(await requestPasswordReset(email.trim()));
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title="Forgot your password?" subtitle="We e-mail you a link to choose a new one.">
      {answer ? (
        <p role="status" data-testid="reset-requested" className={`rounded-xl p-3 text-sm ${answer.configured ? "bg-emerald-50 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100" : "bg-amber-50 text-amber-900 dark:bg-amber-950 dark:text-amber-100"}`}>
          {answer.message}
        </p>
      ) : (
        <form onSubmit={submit} className="space-y-5" noValidate>
          <Field label="Email" htmlFor="reset-email">
            <input id="reset-email" type="email" autoComplete="username" required className={inputClass} value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          {error && <ErrorBox title="Could not ask for a link">{error}</ErrorBox>}
          <Button type="submit" tone="primary" className="w-full" busy={busy} disabled={!email.includes("@")}>
            E-mail me a link
          </Button>
        </form>
      )}
      <AuthSwitch question="Remembered it?" to="/signin" label="Sign in" />
    </AuthFrame>
  );
}

type Check = { status: "checking" } | { status: "ready"; email: string; expires_at: number } | { status: "failed"; reason: string };

export function ResetPasswordScreen() {
  const [token] = useState(() => inviteToken(location.hash));
  const [check, setCheck] = useState<Check>(token ? { status: "checking" } : { status: "failed", reason: "This link has no reset token in it. Open the whole link from the e-mail, or ask for a new one." });
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ password: boolean; text: string } | null>(null);

  useEffect(() => {
    if (!token) return;
    let live = true;
    checkPasswordReset(token).then(
      (r) => live && setCheck({ status: "ready", ...r }),
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
      await resetPassword(token, password);
      navigate("/", { replace: true });
    } catch (err) {
      const weak = err instanceof ApiError && err.error === "weak_password";
      setError({ password: weak, text: message(err) });
      if (weak) document.getElementById("reset-password")?.focus();
      setBusy(false);
    }
  }

  if (check.status === "checking") {
    return (
      <AuthFrame title="Choose a new password" subtitle="Checking your link…">
        <Loading label="Checking the link…" />
      </AuthFrame>
    );
  }
  if (check.status === "failed") {
    return (
      <AuthFrame title="Choose a new password" subtitle="This link cannot be used.">
        <ErrorBox title="The link does not work">{check.reason}</ErrorBox>
        <AuthSwitch question="Need another one?" to="/forgot-password" label="Ask for a new link" />
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title="Choose a new password" subtitle="Every other device signed in to this account will be signed out.">
      <form onSubmit={submit} className="space-y-5" noValidate data-testid="reset-password-form">
        <Field label="Email" htmlFor="reset-account">
          <input id="reset-account" type="email" readOnly autoComplete="username" className={`${inputClass} bg-slate-50 dark:bg-slate-800`} value={check.email} />
        </Field>
        <NewPasswordField id="reset-password" label="New password" value={password} onChange={setPassword} refused={error?.password ? error.text : null} />
        {error && !error.password && <ErrorBox title="Could not set the password">{error.text}</ErrorBox>}
        <Button type="submit" tone="primary" className="w-full" busy={busy} disabled={!password}>
          Set password and sign in
        </Button>
      </form>
    </AuthFrame>
  );
}
