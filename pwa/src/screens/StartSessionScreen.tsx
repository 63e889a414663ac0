// Start a session: ticket, client, title. Written to the device first, synced later.
import { useEffect, useState, type FormEvent } from "react";
import { useSignIn } from "../data";
import { useAttention } from "../data/freshness";
import { useClients, useTreeVersion } from "../data/hooks";
import { Markdown } from "../ui/Markdown";
import { Button, Card, ErrorBox, Field, identifierField, inputClass, Link, Loading } from "../ui/kit";
import { useStartSession } from "./useStartSession";

export function StartSessionScreen({ treeId }: { treeId: string }) {
  const signin = useSignIn();
  const tree = useTreeVersion(treeId);
  const clients = useClients();
  const attention = useAttention();
  const draftKey = `bl.draft.start.${treeId}`;
  const [form, setForm] = useState(() => {
    try {
      return JSON.parse(localStorage.getItem(draftKey) || "") as { ticket: string; clientId: string; title: string };
    } catch {
      return { ticket: "", clientId: "", title: "" };
    }
  });
  const { busy, error, start } = useStartSession();
  useEffect(() => localStorage.setItem(draftKey, JSON.stringify(form)), [form, draftKey]);

  if (tree.loading) return <Loading />;
  if (!tree.data) {
    return (
      <ErrorBox title="This tree is not on this device">
        It may not be published, or the library has not finished downloading. <Link to="/" className="font-semibold underline">Back to the library</Link>
      </ErrorBox>
    );
  }
  if (signin?.account.role === "viewer") {
    return (
      <ErrorBox title="Viewers read trees but do not run sessions">
        Ask an admin of {signin.account.tenant.name} for the engineer role. You can still{" "}
        <Link to={`/checklist/${encodeURIComponent(treeId)}`} className="font-semibold underline">
          print its checklist
        </Link>{" "}
        or go <Link to="/" className="font-semibold underline">back to the library</Link>.
      </ErrorBox>
    );
  }
  const t = tree.data.version.tree as { title: string; description?: string; category?: string; applies_to?: unknown };
  const appliesTo = Array.isArray(t.applies_to) ? t.applies_to.filter((x): x is string => typeof x === "string") : [];
  const overdue = attention.items?.find((i) => i.tree_id === treeId && i.flags.some((f) => f.kind === "review_due"));
  const version = Number(tree.data.version.version);

  function submit(e: FormEvent) {
    e.preventDefault();
    void start({ treeId, version, ticket: form.ticket, clientId: form.clientId || null, title: form.title || t.title }, () =>
      localStorage.removeItem(draftKey),
    );
  }

  return (
    <div className="mx-auto max-w-2xl space-y-5">
      <Link to="/" className="inline-flex min-h-11 items-center text-sm font-semibold text-slate-600 hover:text-slate-900 dark:text-slate-300">
        ← Library
      </Link>
      <div>
        <p className="text-xs font-semibold tracking-wide text-indigo-700 uppercase dark:text-indigo-300">{t.category}</p>
        <h1 className="mt-1 text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">{t.title}</h1>
        {overdue && (
          <p className="mt-2" data-testid="review-overdue">
            <span className="inline-flex rounded-full bg-amber-100 px-2.5 py-0.5 text-xs font-semibold text-amber-900 dark:bg-amber-950 dark:text-amber-200">Review overdue{overdue.review_due ? ` since ${overdue.review_due}` : ""}</span>
          </p>
        )}
        <Markdown text={t.description} className="mt-2 text-slate-600 dark:text-slate-400" />
        {appliesTo.length > 0 && (
          <p className="mt-2 text-sm text-slate-700 dark:text-slate-300" data-testid="applies-to">
            <span className="font-semibold">Applies to</span> {appliesTo.join(", ")}
          </p>
        )}
        <Link to={`/checklist/${encodeURIComponent(treeId)}`} className="mt-2 inline-flex min-h-11 items-center text-sm font-semibold text-indigo-700 hover:text-indigo-900 dark:text-indigo-300">
          Print checklist
        </Link>
      </div>
      <Card className="p-5 sm:p-6">
        <form onSubmit={submit} className="space-y-5">
          <Field label="Ticket number" htmlFor="ticket" hint="Optional. Shown on the export so it lands on the right ticket.">
            <input id="ticket" className={inputClass} placeholder="T20261126.0042" value={form.ticket} onChange={(e) => setForm({ ...form, ticket: e.target.value })} autoComplete="off" {...identifierField} autoFocus />
          </Field>
          <Field label="Client" htmlFor="client" hint="Fills in the client's details (domain, servers) inside the steps.">
            <select id="client" className={inputClass} value={form.clientId} onChange={(e) => setForm({ ...form, clientId: e.target.value })}>
              <option value="">No client</option>
              {(clients.data || []).map((c) => (
                <option key={c._id} value={c._id}>
                  {String(c.name || c._id)}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Title" htmlFor="title">
            <input id="title" className={inputClass} placeholder={t.title} value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} />
          </Field>
          {error && <ErrorBox title="The session could not be started">{error}</ErrorBox>}
          <Button type="submit" tone="primary" className="w-full sm:w-auto" busy={busy}>
            Start session
          </Button>
        </form>
      </Card>
    </div>
  );
}
