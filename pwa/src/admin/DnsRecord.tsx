// The TXT record that proves a domain (api/core/dnsproof.py), with a Copy button for its name and
// its value, and what a failed proof says: shared by the single sign-on and brand pages.
import { useState } from "react";
import { api, ApiError, OfflineError } from "../data";
import { CopyButton } from "../ui/kit";

export interface TxtRecord {
  type: "TXT";
  name: string;
  value: string;
}

/** A Copy button on a light panel (the kit's default suits dark code blocks). */
export const COPY_CLASS = "shrink-0 text-indigo-700 hover:bg-indigo-50 dark:text-indigo-300 dark:hover:bg-indigo-950";

function RecordLine({ label, value }: { label: "Name" | "Value"; value: string }) {
  return (
    <div>
      <span className="block text-xs font-semibold text-slate-500 uppercase dark:text-slate-400">{label}</span>
      <div className="flex items-center gap-2">
        <code className="min-w-0 flex-1 font-mono text-sm break-all text-slate-900 dark:text-slate-100">{value}</code>
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} className={COPY_CLASS} />
      </div>
    </div>
  );
}

export function DnsRecordBox({ record }: { record: TxtRecord }) {
  return (
    <div className="space-y-2 rounded-lg bg-slate-50 p-3 dark:bg-slate-800" data-testid="dns-record">
      <RecordLine label="Name" value={record.name} />
      <RecordLine label="Value" value={record.value} />
    </div>
  );
}

/** The title and text of a failed proof, for an ErrorBox. */
export function proofFailure(e: unknown): { title: string; text: string } {
  if (e instanceof OfflineError) return { title: "Not verified", text: "You are offline. Verifying needs a connection; try again once you are back online." };
  if (e instanceof ApiError && e.error === "dns_unavailable") return { title: "DNS did not answer", text: e.reason };
  if (e instanceof ApiError && e.error === "domain_taken") return { title: "Another team holds this domain", text: e.reason };
  return { title: "Not verified yet", text: e instanceof Error ? e.message : String(e) };
}

/** Asking the server to check a domain's record (`path`, a POST): whether it is checking, what a
 * failure said, and whether this page just verified it. `onVerified` gets the server's answer. */
export function useDnsProof<T>(path: string, onVerified: (answer: T) => void) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<{ title: string; text: string } | null>(null);
  const [justVerified, setJustVerified] = useState(false);
  async function verify() {
    setBusy(true);
    setProblem(null);
    try {
      const answer = await api<T>(path, { method: "POST" });
      setJustVerified(true);
      onVerified(answer);
    } catch (e) {
      setProblem(proofFailure(e));
    } finally {
      setBusy(false);
    }
  }
  return { busy, problem, justVerified, verify };
}
