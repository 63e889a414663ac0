// Start from a ticket: the page a PSA opens (a ConnectWise pod, an Autotask insight, a link in
// the ticket) with `/start?ticket=...&summary=...&client=...&tree=...`. Everything it needs is
// on the device (library, clients, sessions), so it works in a server room with no signal;
// the session is written locally and syncs later, like any other. A link with only the ticket's
// number (what a ConnectWise pod passes) asks the team's PSA for its summary when online.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import type { Doc } from "pouchdb-browser";
import { useSignIn } from "../data";
import { useClients, useLibrary, useSessionHeaders } from "../data/hooks";
import { filterLibrary, suggestTrees, type LibraryTree } from "../data/library";
import type { SessionHeader } from "../data/sessions";
import { findTicket, type PsaTicketInfo } from "../psa/api";
import { safeUrl, vendorName } from "../psa/psa";
import { navigate, queryParam } from "../router";
import { Button, Card, ErrorBox, Field, identifierField, inputClass, Link, Loading, timeAgo } from "../ui/kit";
import { ticketLinkParams } from "./ticketLink";
import { useStartSession } from "./useStartSession";

/** The device's client the link names: by id, by exact name, or by a name that starts with it. */
export function matchClient(clients: Doc[], wanted: string): Doc | null {
  if (!wanted) return null;
  const norm = (s: unknown) => String(s || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").trim().toLowerCase();
  const w = norm(wanted);
  return (
    clients.find((c) => c._id === wanted || c._id === `client:${wanted}`) ||
    clients.find((c) => norm(c.name) === w) ||
    clients.find((c) => norm(c.name).startsWith(w) || w.startsWith(norm(c.name))) ||
    null
  );
}

function matchTree(library: LibraryTree[], wanted: string): LibraryTree | null {
  if (!wanted) return null;
  const w = wanted.toLowerCase();
  return library.find((t) => t.id === wanted || t.id === `tree:${wanted}` || t.title.toLowerCase() === w) || null;
}

export default function TicketStartScreen() {
  const params = useMemo(() => ticketLinkParams(queryParam), []);
  const signin = useSignIn();
  const lib = useLibrary();
  const clients = useClients();
  const headers = useSessionHeaders();
  const [treeId, setTreeId] = useState<string | null>(null);
  const [clientId, setClientId] = useState<string | null>(null);
  const [q, setQ] = useState("");
  const { busy, error, start } = useStartSession();
  const [fromPsa, setFromPsa] = useState<PsaTicketInfo | null>(null);
  // The link is read once: whether the PSA is asked is known from the first render.
  const [asking, setAsking] = useState(() => !params.summary && !!params.ticket);

  useEffect(() => {
    if (params.summary || !params.ticket) return;
    let live = true;
    // Offline, or no PSA has it: the engineer searches the library, as without a summary.
    findTicket(params.ticket)
      .then((found) => live && setFromPsa(found))
      .catch(() => undefined)
      .finally(() => live && setAsking(false));
    return () => {
      live = false;
    };
  }, [params.summary, params.ticket]);

  const summary = params.summary || fromPsa?.summary || "";
  const library = useMemo(() => lib.data || [], [lib.data]);
  const named = useMemo(() => matchTree(library, params.tree), [library, params.tree]);
  const suggested = useMemo(() => suggestTrees(library, summary), [library, summary]);
  const matchedClient = useMemo(() => matchClient(clients.data || [], params.client), [clients.data, params.client]);
  const me = signin?.account.user.id;
  const open: SessionHeader[] = useMemo(
    () =>
      params.ticket
        ? (headers.data || []).filter((h) => h.status === "in_progress" && h.owner_id === me && (h.ticket || "").trim() === params.ticket)
        : [],
    [headers.data, params.ticket, me],
  );

  if (lib.loading || clients.loading || headers.loading) return <Loading />;
  if (signin?.account.role === "viewer") {
    return (
      <ErrorBox title="Viewers read trees but do not run sessions">
        Ask an admin of {signin.account.tenant.name} for the engineer role.
      </ErrorBox>
    );
  }

  const chosenTree = treeId ?? named?.id ?? suggested[0]?.tree.id ?? null;
  const chosenClient = clientId ?? matchedClient?._id ?? "";
  const searched = q.trim() ? filterLibrary([...library], q, "", "usage").slice(0, 8) : [];
  const choices: { tree: LibraryTree; why: string }[] = [];
  const seen = new Set<string>();
  const offer = (tree: LibraryTree, why: string) => {
    if (!seen.has(tree.id)) choices.push({ tree, why });
    seen.add(tree.id);
  };
  if (named) offer(named, "Named by the ticket's link");
  for (const s of suggested) offer(s.tree, `Matches “${s.matched.slice(0, 4).join("”, “")}”`);
  for (const t of searched) offer(t, "Search result");
  const picked = library.find((t) => t.id === chosenTree) || null;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!picked) return;
    void start({
      treeId: picked.id,
      version: picked.version,
      ticket: params.ticket,
      clientId: chosenClient || null,
      title: summary || picked.title,
    });
  }

  return (
    <div className="mx-auto max-w-2xl space-y-5">
      <div>
        <p className="text-xs font-semibold tracking-wide text-indigo-700 uppercase dark:text-indigo-300">Start from a ticket</p>
        <h1 className="mt-1 text-2xl font-semibold tracking-tight wrap-anywhere text-slate-900 dark:text-white" data-testid="ticket-heading">
          {params.ticket ? `Ticket ${params.ticket}` : "A ticket without a number"}
        </h1>
        {summary && <p className="mt-1 wrap-anywhere text-slate-600 dark:text-slate-300" data-testid="ticket-summary">{summary}</p>}
        {fromPsa && (
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="ticket-from-psa">
            From {vendorName(fromPsa.system)}
            {fromPsa.status ? ` · ${fromPsa.status}` : ""}
            {safeUrl(fromPsa.url) && (
              <>
                {" · "}
                <a className="font-semibold text-indigo-700 underline dark:text-indigo-300" href={safeUrl(fromPsa.url) as string} target="_blank" rel="noreferrer noopener">
                  Open the ticket
                </a>
              </>
            )}
          </p>
        )}
        {asking && (
          <p role="status" className="mt-1 text-sm text-slate-600 dark:text-slate-400">
            Asking your PSA for the ticket's summary…
          </p>
        )}
      </div>

      {open.length > 0 && (
        <Card className="border-indigo-300 p-4 dark:border-indigo-700">
          <p className="font-semibold text-slate-900 dark:text-white">You already have a session open for this ticket.</p>
          <ul className="mt-2 space-y-2">
            {open.map((h) => (
              <li key={h._id}>
                <Button tone="primary" data-testid="continue-ticket-session" onClick={() => navigate(`/s/${h._id.slice("session:".length)}`, { replace: true })}>
                  Continue “{h.title || h.tree_id}”, started {timeAgo(h.created_at)}
                </Button>
              </li>
            ))}
          </ul>
          <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">Or start another one below.</p>
        </Card>
      )}

      <Card className="p-5 sm:p-6">
        <form onSubmit={submit} className="space-y-5">
          <fieldset>
            <legend className="text-sm font-semibold text-slate-800 dark:text-slate-100">Tree</legend>
            {choices.length === 0 && (
              <p className="mt-1 text-sm text-slate-600 dark:text-slate-300" data-testid="no-suggestion">
                {summary ? "No tree in the library matches the ticket's summary." : "The link gives no summary to suggest a tree from."} Search the library below.
              </p>
            )}
            <ul className="mt-2 space-y-2" data-testid="tree-choices">
              {choices.map(({ tree, why }) => (
                <li key={tree.id}>
                  <label className="flex min-h-11 cursor-pointer items-start gap-3 rounded-xl border border-slate-200 p-3 has-[:checked]:border-indigo-500 has-[:checked]:bg-indigo-50 dark:border-slate-700 dark:has-[:checked]:bg-indigo-950">
                    <input type="radio" name="tree" className="mt-1 h-4 w-4" value={tree.id} checked={chosenTree === tree.id} onChange={() => setTreeId(tree.id)} />
                    <span>
                      <span className="block font-semibold text-slate-900 dark:text-white">{tree.title}</span>
                      <span className="block text-sm text-slate-600 dark:text-slate-400">
                        {tree.category} · {why}
                      </span>
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
          <Field label="Search the library" htmlFor="tree-search">
            <input id="tree-search" type="search" className={inputClass} value={q} onChange={(e) => setQ(e.target.value)} placeholder="e.g. VPN, printer, Outlook" {...identifierField} />
          </Field>
          <Field
            label="Client"
            htmlFor="client"
            hint={params.client && !matchedClient ? `No client named “${params.client}” on this device: choose one, or none.` : "Fills in the client's details inside the steps."}
          >
            <select id="client" className={inputClass} value={chosenClient} onChange={(e) => setClientId(e.target.value)}>
              <option value="">No client</option>
              {(clients.data || []).map((c) => (
                <option key={c._id} value={c._id}>
                  {String(c.name || c._id)}
                </option>
              ))}
            </select>
          </Field>
          {error && <ErrorBox title="The session could not be started">{error}</ErrorBox>}
          <div className="flex flex-wrap items-center gap-3">
            <Button type="submit" tone="primary" busy={busy} disabled={!picked}>
              {picked ? `Start “${picked.title}”` : "Choose a tree"}
            </Button>
            <Link to="/" className="inline-flex min-h-11 items-center text-sm font-semibold text-slate-600 dark:text-slate-300">
              Library
            </Link>
          </div>
        </form>
      </Card>
    </div>
  );
}
