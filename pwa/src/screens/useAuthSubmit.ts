// The submit of the sign-in and sign-up forms, written once: the button is busy while the
// request runs, success opens the app, a failure is shown in the form's error box.
import { useState, type FormEvent } from "react";
import { navigate } from "../router";

export function useAuthSubmit(action: () => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
      navigate("/", { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return { busy, error, submit };
}
