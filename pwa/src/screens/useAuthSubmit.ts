// The submit of the sign-in and sign-up forms, written once: the button is busy while the
// request runs, success opens the page the user was sent here from (or the library), a failure is shown in the form's error box.
import { useState, type FormEvent } from "react";
import { afterSignIn, navigate, queryParam } from "../router";

export function useAuthSubmit(action: () => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
      navigate(afterSignIn(queryParam("next")), { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return { busy, error, submit };
}
