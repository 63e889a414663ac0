// Where the server's SSO callback sends the browser: "/sso/complete#code=...&next=...". The
// one-time code sits in the fragment (never sent to a server, so never in a log); it is
// taken out of the address at once and traded for the usual token pair, which are kept
// exactly as after a password sign-in.
import { useEffect, useState } from "react";
import { signInWithSsoCode } from "../data";
import { afterSignIn, navigate } from "../router";
import { ErrorBox, Link, Loading } from "../ui/kit";
import { AuthFrame } from "./SignInScreen";

// The code works once: React may run an effect twice, so the trade is shared per code.
const trades = new Map<string, Promise<unknown>>();

function readFragment(): { code: string; next: string | null } {
  const params = new URLSearchParams(location.hash.slice(1));
  return { code: params.get("code") || "", next: params.get("next") };
}

export default function SsoCompleteScreen() {
  const [{ code, next }] = useState(readFragment);
  const [failure, setError] = useState<string | null>(null);
  const error = code ? failure : "This page finishes a single sign-on, but it was opened without a sign-in code.";

  useEffect(() => {
    if (!code) return;
    history.replaceState(null, "", "/sso/complete");
    let trade = trades.get(code);
    if (!trade) {
      trade = signInWithSsoCode(code);
      trades.set(code, trade);
    }
    trade.then(
      () => navigate(afterSignIn(next), { replace: true }),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  }, [code, next]);

  return (
    <AuthFrame title="Signing you in" subtitle="Finishing the sign-in with your identity provider.">
      {error ? (
        <div className="space-y-4">
          <ErrorBox title="Single sign-on failed">{error}</ErrorBox>
          <Link to="/signin" className="font-semibold text-indigo-700 dark:text-indigo-300">
            Back to sign in
          </Link>
        </div>
      ) : (
        <Loading label="Signing you in…" />
      )}
    </AuthFrame>
  );
}
