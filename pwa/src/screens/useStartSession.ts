// Starting a session from a form, written once: on the device first (it syncs later), then
// the runner opens in place of the form; a failure stays in the form's error box.
import { useState } from "react";
import { device, useLocal } from "../data";
import { startSession, type NewSession } from "../data/sessions";
import { navigate } from "../router";

export function useStartSession() {
  const local = useLocal();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  /** `started` runs once the session is written (e.g. to drop the form's draft). */
  async function start(input: NewSession, started?: () => void): Promise<void> {
    if (!local) return;
    setBusy(true);
    setError(null);
    try {
      const sid = await startSession(local, device, Date.now(), input);
      started?.();
      navigate(`/s/${sid}`, { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }

  return { busy, error, start };
}
