// The session header's PSA ticket: its number linking to the ticket, and its status, once
// the server pushed the session (it writes `psa` into the header; devices receive it by sync).
import type { PsaLink } from "../data/sessions";
import { psaLabel, safeUrl } from "./psa";

export function PsaTicket({ psa }: { psa: PsaLink | null | undefined }) {
  if (!psa) return null;
  const url = safeUrl(psa.ticket_url);
  const label = psaLabel(psa);
  const cls = "inline-flex min-h-11 items-center gap-1 rounded-lg text-sm font-semibold";
  return url ? (
    <a href={url} target="_blank" rel="noopener noreferrer" className={`${cls} text-indigo-700 underline underline-offset-2 hover:text-indigo-900 dark:text-indigo-300`} data-testid="psa-ticket" title={psa.summary || undefined}>
      {label}
      <span className="sr-only"> (opens ConnectWise)</span>
    </a>
  ) : (
    <span className={`${cls} text-slate-700 dark:text-slate-300`} data-testid="psa-ticket">
      {label}
    </span>
  );
}
