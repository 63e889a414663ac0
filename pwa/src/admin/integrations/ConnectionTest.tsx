// "Test connection" for a saved PSA connection: the server checks it against the PSA now
// (Autotask: finds the zone, then a cheap call with the API user) and says what it found or
// the PSA's reason, which also becomes the connector's last error on the status card.
import { useState } from "react";
import { ApiError } from "../../data";
import { psaErrorText, testConnection } from "../../psa/api";
import { vendorName } from "../../psa/psa";
import { Button } from "../../ui/kit";

export function ConnectionTest({ system, online, onDone }: { system: string; online: boolean; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const run = async () => {
    setBusy(true);
    setResult(null);
    try {
      const r = await testConnection(system);
      const where = r.zone ? ` (zone ${r.zone.name || r.zone.url})` : "";
      setResult({ ok: true, text: `${vendorName(system)} answered${where}.` });
    } catch (e) {
      setResult({ ok: false, text: e instanceof ApiError ? e.reason || e.message : psaErrorText(e) });
    } finally {
      setBusy(false);
      onDone();
    }
  };

  return (
    <>
      <Button busy={busy} disabled={!online} onClick={run} data-testid={`${system}-test`}>
        Test connection
      </Button>
      {result && (
        <p role={result.ok ? "status" : "alert"} className={`w-full text-sm font-semibold ${result.ok ? "text-emerald-800 dark:text-emerald-200" : "text-rose-700 dark:text-rose-300"}`} data-testid={`${system}-test-result`}>
          {result.text}
        </p>
      )}
    </>
  );
}
