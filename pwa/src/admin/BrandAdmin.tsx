// White-label (owners and admins): the name, colour, logo and custom domain the team's app,
// sign-in page and exports show. The server refuses a colour text cannot be read on and says
// which nearby colour passes; the form offers it in one tap. Online only, like the other tabs.
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, saveBrand, uploadBrandLogo, useSignIn, type Brand } from "../data";
import { Button, Card, ErrorBox, Field, inputClass, Loading } from "../ui/kit";
import { AdminTabs } from "./AdminTabs";
import { DnsRecordBox, useDnsProof } from "./DnsRecord";

/** The saved custom domain: verified, or the TXT record that proves it and a Verify button. */
function CustomDomainProof({ brand, canVerify, onVerified }: { brand: Brand; canVerify: boolean; onVerified: (b: Brand) => void }) {
  const { busy, problem, justVerified, verify } = useDnsProof("/api/v1/tenant/brand/domain/verify", onVerified);

  if (brand.custom_domain_status === "taken") {
    return (
      <p role="alert" className="rounded-xl border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100" data-testid="brand-domain-status">
        Another workspace has already proved <span className="font-semibold break-all">{brand.custom_domain}</span> is theirs, so it cannot serve your brand. Choose another domain, or ask your Branchline operator if the domain is yours.
      </p>
    );
  }
  if (brand.custom_domain_verified || !brand.custom_domain_record) {
    return (
      <div data-testid="brand-domain-status">
        <p role={justVerified ? "status" : undefined} className="text-sm text-slate-600 dark:text-slate-300">
          {justVerified ? "Verified. " : ""}
          <span className="font-semibold break-all">{brand.custom_domain}</span> serves your brand.
        </p>
      </div>
    );
  }
  return (
    <section aria-labelledby="brand-domain-heading" className="space-y-3" data-testid="brand-domain-status">
      <h2 id="brand-domain-heading" className="text-base font-semibold">
        Verify <span className="break-all">{brand.custom_domain}</span>
      </h2>
      <p className="text-sm text-slate-600 dark:text-slate-300">Add this TXT record at the DNS host of the domain, then verify. Your Branchline operator can also verify it for you.</p>
      <DnsRecordBox record={brand.custom_domain_record} />
      {canVerify ? (
        <Button onClick={verify} busy={busy}>
          Verify domain
        </Button>
      ) : (
        // Invitation and password reset links go to the verified domain: an owner's decision.
        <p className="text-sm text-slate-600 dark:text-slate-300">Only an owner can verify the domain, as e-mailed sign-in links will go to it. Ask an owner once the record is published.</p>
      )}
      {problem && (
        <ErrorBox title={problem.title}>
          <p className="break-words">{problem.text}</p>
        </ErrorBox>
      )}
    </section>
  );
}

export default function BrandAdmin() {
  const owner = useSignIn()?.account.role === "owner";
  const [brand, setBrand] = useState<Brand | null>(null);
  const [name, setName] = useState("");
  const [color, setColor] = useState("#0f172a");
  const [domain, setDomain] = useState("");
  const [problem, setProblem] = useState<{ reason: string; suggestion?: string } | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<Brand>("/api/v1/tenant/brand")
      .then((b) => {
        setBrand(b);
        setName(b.name);
        setColor(b.primary_color ?? "#0f172a");
        setDomain(b.custom_domain ?? "");
      })
      .catch((e: Error) => setProblem({ reason: e.message }));
  }, []);

  async function run(action: () => Promise<Brand>) {
    setBusy(true);
    setProblem(null);
    setSaved(false);
    try {
      setBrand(await action());
      setSaved(true);
    } catch (e) {
      const details = e instanceof ApiError ? (e.details as { suggestion?: string } | undefined) : undefined;
      setProblem({ reason: (e as Error).message, suggestion: details?.suggestion });
    } finally {
      setBusy(false);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    void run(() => saveBrand({ name, primary_color: color, custom_domain: domain.trim() || null }));
  }

  return (
    <div className="space-y-5">
      <AdminTabs tab="brand" />
      <h1 className="text-2xl font-semibold tracking-tight">Brand</h1>
      {!brand && !problem && <Loading />}
      {brand && (
        <Card className="p-5">
          <form onSubmit={submit} className="space-y-4">
            <Field label="Name" htmlFor="brand-name-input" hint="Shown in the app's top bar, on exports and PDFs.">
              <input id="brand-name-input" className={inputClass} value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} />
            </Field>
            <Field label="Colour" htmlFor="brand-color" hint="Hex, e.g. #1d4ed8. White or dark text on it must reach a contrast of 4.5:1.">
              <input id="brand-color" className={inputClass} value={color} onChange={(e) => setColor(e.target.value)} required />
            </Field>
            <Field label="Custom domain (optional)" htmlFor="brand-domain" hint="e.g. help.your-msp.com; it serves your brand once verified, by its DNS record (shown after saving) or by your Branchline operator.">
              <input id="brand-domain" className={inputClass} value={domain} onChange={(e) => setDomain(e.target.value)} autoCapitalize="off" spellCheck={false} />
            </Field>
            <Button type="submit" tone="primary" busy={busy}>
              Save brand
            </Button>
          </form>
          {brand.custom_domain && (
            <div className="mt-6 border-t border-slate-200 pt-5 dark:border-slate-800">
              <CustomDomainProof brand={brand} canVerify={owner} onVerified={setBrand} />
            </div>
          )}
          <div className="mt-6 space-y-1.5">
            <label htmlFor="brand-logo" className="block text-sm font-semibold">
              Logo
            </label>
            {brand.logo && <img src={brand.logo.data_url} alt="Current logo" className="h-10 w-auto" />}
            <input id="brand-logo" type="file" className="block w-full max-w-full text-sm" accept="image/png,image/jpeg" onChange={(e) => e.target.files?.[0] && void run(() => uploadBrandLogo(e.target.files![0]))} />
            <p className="text-xs text-slate-500">PNG or JPEG, at most 256 KB and 1024 px a side.</p>
          </div>
        </Card>
      )}
      {saved && (
        <p role="status" className="font-semibold text-emerald-800 dark:text-emerald-300">
          Saved. Everyone sees the new brand the next time their app connects.
        </p>
      )}
      {problem && (
        <ErrorBox title="The brand was not saved">
          <p>{problem.reason}</p>
          {problem.suggestion && (
            <Button className="mt-3" onClick={() => setColor(problem.suggestion!)}>
              Use {problem.suggestion}
            </Button>
          )}
        </ErrorBox>
      )}
    </div>
  );
}
