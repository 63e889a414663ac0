// Session history: mine, shared with me, and (for admins) everyone's; all from the device.
import { useCallback, useMemo, useState } from "react";
import { useSignIn } from "../data";
import { useClients, useLibrary, useSessionHeaders } from "../data/hooks";
import type { SessionHeader } from "../data/sessions";
import { navigate } from "../router";
import { ErrorBox, inputClass, Link, Loading } from "../ui/kit";

type Scope = "mine" | "shared" | "all";

const STATUS: Record<string, { label: string; tone: string }> = {
  in_progress: { label: "In progress", tone: "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-300" },
  completed: { label: "Completed", tone: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300" },
  abandoned: { label: "Abandoned", tone: "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300" },
};

export default function HistoryScreen() {
  const signin = useSignIn();
  const headers = useSessionHeaders();
  const lib = useLibrary();
  const admin = signin ? ["owner", "admin"].includes(signin.account.role) : false;
  const [scope, setScope] = useState<Scope>("mine");
  const [q, setQ] = useState("");
  const me = signin?.account.user.id;
  const clientDocs = useClients();
  const titles = useMemo(() => new Map((lib.data || []).map((t) => [t.id, t.title])), [lib.data]);
  // Engineers know clients by name ("Contoso Ltd"), not by the slug in the id ("contoso").
  const clientNames = useMemo(() => new Map((clientDocs.data || []).map((c) => [c._id, String(c.name || "")])), [clientDocs.data]);
  const clientName = useCallback((id: string | null | undefined) => (id ? clientNames.get(id) || id.replace(/^client:/, "") : ""), [clientNames]);
  const rows = useMemo(() => {
    const all = headers.data || [];
    const scoped = all.filter((h: SessionHeader) =>
      scope === "mine" ? h.owner_id === me : scope === "shared" ? h.owner_id !== me && (h.shared_with || []).includes(me || "") : true,
    );
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    return scoped.filter((h) => {
      const hay = [h.title, h.ticket, clientName(h.client_id), titles.get(h.tree_id)].join(" ").toLowerCase();
      return words.every((w) => hay.includes(w));
    });
  }, [headers.data, scope, me, q, titles, clientName]);

  const scopes: [Scope, string][] = [
    ["mine", "Mine"],
    ["shared", "Shared with me"],
    ...(admin ? ([["all", "Everyone's"]] as [Scope, string][]) : []),
  ];

  return (
    <div className="space-y-5">
      <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Sessions</h1>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
        <div className="inline-flex rounded-xl bg-slate-200/70 p-1 dark:bg-slate-800" role="tablist">
          {scopes.map(([id, label]) => (
            <button
              key={id}
              role="tab"
              type="button"
              aria-selected={scope === id}
              onClick={() => setScope(id)}
              className={`min-h-11 rounded-lg px-4 text-sm font-semibold ${scope === id ? "bg-white text-slate-900 shadow-sm dark:bg-slate-700 dark:text-white" : "text-slate-600 dark:text-slate-300"}`}
            >
              {label}
            </button>
          ))}
        </div>
        <label className="sm:w-72">
          <span className="sr-only">Search sessions</span>
          <input type="search" className={inputClass} placeholder="Ticket, title, client…" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
      </div>
      {headers.error && <ErrorBox onRetry={headers.reload}>{headers.error}</ErrorBox>}
      {headers.loading ? (
        <Loading />
      ) : rows.length === 0 ? (
        <div className="rounded-2xl border border-dashed border-slate-300 p-10 text-center text-slate-500 dark:border-slate-700">
          {scope === "mine" ? (
            <>
              No sessions yet.{" "}
              <Link to="/" className="font-semibold text-indigo-700 dark:text-indigo-300">
                Start one from the library
              </Link>
              .
            </>
          ) : (
            "Nothing here yet."
          )}
        </div>
      ) : (
        <ul className="divide-y divide-slate-200 overflow-hidden rounded-2xl border border-slate-200 bg-white shadow-sm dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900" data-testid="session-list">
          {rows.map((h) => {
            const st = STATUS[h.status] || STATUS.in_progress;
            return (
              <li key={h._id}>
                <button type="button" onClick={() => navigate(`/s/${h._id.slice(8)}`)} className="flex min-h-16 w-full items-center gap-3 px-4 py-3 text-left hover:bg-slate-50 dark:hover:bg-slate-800/60">
                  <span className="min-w-0 flex-1">
                    <span className="block truncate font-semibold text-slate-900 dark:text-white">{h.title || titles.get(h.tree_id) || "Untitled session"}</span>
                    <span className="block truncate text-sm text-slate-500">
                      {[h.ticket, clientName(h.client_id), new Date(h.created_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })].filter(Boolean).join(" · ")}
                    </span>
                  </span>
                  <span className={`shrink-0 rounded-full px-2.5 py-1 text-xs font-semibold ${st.tone}`}>{st.label}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
