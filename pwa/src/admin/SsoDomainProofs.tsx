// Each allowed e-mail domain of single sign-on and its DNS proof: a pending domain shows the TXT
// record to publish (name and value, each with a Copy button) and a Verify button; a verified one
// says since when; one another team proved first says so. Until a domain is verified it neither
// routes sign-ins by e-mail nor gets accounts automatically (api/sso/service.py). Owners verify;
// admins see the records, to hand to whoever runs the DNS.
import { Button, ErrorBox } from "../ui/kit";
import { DnsRecordBox, useDnsProof, type TxtRecord } from "./DnsRecord";

export interface DomainProof {
  domain: string;
  status: "pending" | "verified" | "taken";
  verified_at: string | null;
  record: TxtRecord;
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function DomainRow({ proof, canVerify, online, onVerified }: { proof: DomainProof; canVerify: boolean; online: boolean; onVerified: (p: DomainProof) => void }) {
  const { busy, problem, justVerified, verify } = useDnsProof(`/api/v1/tenant/sso/domains/${encodeURIComponent(proof.domain)}/verify`, onVerified);

  const badge =
    proof.status === "verified"
      ? "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200"
      : proof.status === "taken"
        ? "bg-rose-100 text-rose-900 dark:bg-rose-950 dark:text-rose-200"
        : "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200";
  const label = proof.status === "verified" ? "Verified" : proof.status === "taken" ? "Taken by another team" : "Pending";
  return (
    <li className="space-y-3 rounded-xl border border-slate-200 p-3 dark:border-slate-700" data-testid="sso-domain" data-domain={proof.domain} data-status={proof.status}>
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-semibold break-all text-slate-900 dark:text-white">{proof.domain}</span>
        <span className={`rounded-full px-2.5 py-0.5 text-xs font-semibold ${badge}`}>{label}</span>
      </div>
      {proof.status === "verified" ? (
        <p role={justVerified ? "status" : undefined} className="text-sm text-slate-600 dark:text-slate-300">
          {justVerified ? "Verified. " : ""}People at {proof.domain} are sent to your identity provider and get an account on their first sign-in.
          {proof.verified_at && ` Verified on ${when(proof.verified_at)}.`}
        </p>
      ) : (
        <>
          <p className="text-sm text-slate-600 dark:text-slate-300">
            {proof.status === "taken"
              ? "Another team published its record for this domain first, so it holds it. Remove the domain from the list above, or, if it is yours, check who can publish records in its DNS."
              : "Add this TXT record at the DNS host of the domain, then verify. Until then nobody is sent here by this domain and its people get no account automatically."}
          </p>
          <DnsRecordBox record={proof.record} />
          {canVerify && (
            <Button onClick={verify} busy={busy} disabled={!online} aria-label={`Verify ${proof.domain}`}>
              Verify
            </Button>
          )}
          {problem && (
            <ErrorBox title={problem.title}>
              {/* The reason quotes the record's long value: let it wrap on a phone. */}
              <p className="break-words">{problem.text}</p>
            </ErrorBox>
          )}
        </>
      )}
    </li>
  );
}

export function SsoDomainProofs({ proofs, canVerify, online, onVerified }: { proofs: DomainProof[]; canVerify: boolean; online: boolean; onVerified: (p: DomainProof) => void }) {
  if (proofs.length === 0) return null;
  return (
    <section aria-labelledby="sso-domains-heading" className="space-y-3">
      <h2 id="sso-domains-heading" className="text-base font-semibold text-slate-900 dark:text-white">
        Prove your e-mail domains
      </h2>
      <ul className="space-y-3">
        {proofs.map((p) => (
          <DomainRow key={p.domain} proof={p} canVerify={canVerify} online={online} onVerified={onVerified} />
        ))}
      </ul>
    </section>
  );
}
