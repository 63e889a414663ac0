// The tree library: search, filter by category, sort, and the trees used most recently.
import { useMemo, useState } from "react";
import { useSyncStatus } from "../data";
import { useLibrary, useSessionHeaders } from "../data/hooks";
import { filterLibrary, recentlyUsed, type LibrarySort, type LibraryTree } from "../data/library";
import { navigate } from "../router";
import { ErrorBox, inputClass, Link, Loading } from "../ui/kit";

const SORTS: { id: LibrarySort; label: string }[] = [
  { id: "usage", label: "Most used" },
  { id: "updated", label: "Recently updated" },
  { id: "name", label: "Name" },
];

/** Under a tree's description: what it applies to, when it was reviewed and when it is due
 * again; the dates get their own line, so a long product list cannot crowd them out. */
function ReviewLine({ review }: { review: LibraryTree["review"] }) {
  const dates = [review.reviewedOn ? `Reviewed ${review.reviewedOn}` : null, review.reviewDue ? `Review due ${review.reviewDue}` : null].filter(Boolean);
  if (!review.appliesTo.length && !dates.length) return null;
  return (
    <span className="mt-1.5 block text-xs text-slate-600 dark:text-slate-400" data-testid="tree-review">
      {review.appliesTo.length > 0 && <span className="line-clamp-2">Applies to {review.appliesTo.join(", ")}</span>}
      {dates.length > 0 && (
        <span className="flex flex-wrap gap-x-1.5">
          {dates.map((d, i) => (
            <span key={d} className="whitespace-nowrap">
              {i > 0 && <span aria-hidden="true">· </span>}
              {d}
            </span>
          ))}
        </span>
      )}
    </span>
  );
}

function TreeCard({ tree }: { tree: LibraryTree }) {
  return (
    <li>
      <Link
        to={`/start/${encodeURIComponent(tree.id)}`}
        className="group flex h-full flex-col rounded-2xl border border-slate-200 bg-white p-4 shadow-sm transition hover:border-indigo-300 hover:shadow-md focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-slate-800 dark:bg-slate-900"
      >
        <span className="text-xs font-semibold tracking-wide text-indigo-700 uppercase dark:text-indigo-300">{tree.category}</span>
        <span className="mt-1 text-[1.0625rem] leading-snug font-semibold wrap-anywhere text-slate-900 group-hover:text-indigo-800 dark:text-white">{tree.title}</span>
        <span className="mt-1.5 line-clamp-2 text-sm text-slate-600 dark:text-slate-400">{tree.description}</span>
        <ReviewLine review={tree.review} />
        <span className="mt-auto flex items-center gap-3 pt-3 text-xs text-slate-500">
          <span>{tree.nodeCount} steps</span>
          <span aria-hidden="true">·</span>
          <span>v{tree.version}</span>
          {tree.usage > 0 && (
            <>
              <span aria-hidden="true">·</span>
              <span>
                run {tree.usage} time{tree.usage === 1 ? "" : "s"}
              </span>
            </>
          )}
        </span>
      </Link>
    </li>
  );
}

export function LibraryScreen() {
  const lib = useLibrary();
  const headers = useSessionHeaders();
  const status = useSyncStatus();
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [sort, setSort] = useState<LibrarySort>(() => (localStorage.getItem("bl.librarysort") as LibrarySort) || "usage");
  const items = useMemo(() => lib.data || [], [lib.data]);
  const categories = useMemo(() => [...new Set(items.map((t) => t.category))].sort(), [items]);
  const shown = useMemo(() => filterLibrary([...items], q, category, sort), [items, q, category, sort]);
  const recent = useMemo(() => recentlyUsed(items), [items]);
  const running = (headers.data || []).filter((h) => h.status === "in_progress").slice(0, 3);

  return (
    <div className="space-y-6">
      {running.length > 0 && (
        <section aria-labelledby="continue">
          <h2 id="continue" className="mb-2 text-sm font-semibold text-slate-500">
            Continue where you left off
          </h2>
          <ul className="grid grid-cols-1 gap-2 sm:grid-cols-3">
            {running.map((h) => (
              <li key={h._id}>
                <button
                  type="button"
                  onClick={() => navigate(`/s/${h._id.slice(8)}`)}
                  className="flex min-h-14 w-full items-center justify-between gap-3 rounded-xl bg-indigo-600 px-4 py-3 text-left text-white shadow-sm hover:bg-indigo-700"
                >
                  <span className="min-w-0">
                    <span className="line-clamp-2 font-semibold wrap-anywhere">{h.title || "Untitled session"}</span>
                    <span className="block text-sm wrap-anywhere text-indigo-100">{h.ticket || "No ticket"}</span>
                  </span>
                  <span aria-hidden="true" className="text-xl">→</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <div>
        <h1 className="text-2xl font-semibold tracking-tight wrap-break-word text-slate-900 dark:text-white">Start troubleshooting</h1>
        <p className="mt-1 text-slate-600 dark:text-slate-400">
          Pick the tree that matches the problem. Everything works offline.{" "}
          <Link to="/scripts" className="font-semibold text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300">
            Scripts
          </Link>
        </p>
      </div>
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-[minmax(0,1fr)_auto_auto]">
        <label className="relative block">
          <span className="sr-only">Search trees</span>
          <svg viewBox="0 0 20 20" fill="currentColor" className="pointer-events-none absolute top-1/2 left-3.5 h-5 w-5 -translate-y-1/2 text-slate-400" aria-hidden="true">
            <path fillRule="evenodd" d="M9 3.5a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11ZM2 9a7 7 0 1 1 12.45 4.39l3.08 3.08a.75.75 0 1 1-1.06 1.06l-3.08-3.08A7 7 0 0 1 2 9Z" clipRule="evenodd" />
          </svg>
          <input type="search" className={`${inputClass} pl-11`} placeholder="Search: VPN, Outlook, BitLocker…" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <label>
          <span className="sr-only">Category</span>
          <select className={inputClass} value={category} onChange={(e) => setCategory(e.target.value)}>
            <option value="">All categories</option>
            {categories.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          <span className="sr-only">Sort</span>
          <select
            className={inputClass}
            value={sort}
            onChange={(e) => {
              setSort(e.target.value as LibrarySort);
              localStorage.setItem("bl.librarysort", e.target.value);
            }}
          >
            {SORTS.map((s) => (
              <option key={s.id} value={s.id}>
                Sort: {s.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {lib.error && <ErrorBox title="The library could not be read from this device" onRetry={lib.reload}>{lib.error}</ErrorBox>}
      {lib.loading || (!items.length && status && !status.treesReady && !lib.error) ? (
        <Loading label={status?.online === false ? "Waiting for a connection to download the library…" : "Downloading your library…"} />
      ) : (
        <>
          {recent.length > 0 && !q && !category && (
            <section aria-labelledby="recent">
              <h2 id="recent" className="mb-3 text-sm font-semibold text-slate-500">
                Recently used
              </h2>
              <ul className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3">
                {recent.map((t) => (
                  <TreeCard key={t.id} tree={t} />
                ))}
              </ul>
            </section>
          )}
          <section aria-labelledby="all">
            <h2 id="all" className="mb-3 text-sm font-semibold text-slate-500">
              {q || category ? `${shown.length} matching tree${shown.length === 1 ? "" : "s"}` : `All trees (${shown.length})`}
            </h2>
            {shown.length ? (
              <ul className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3" data-testid="tree-list">
                {shown.map((t) => (
                  <TreeCard key={t.id} tree={t} />
                ))}
              </ul>
            ) : (
              <p className="rounded-2xl border border-dashed border-slate-300 p-8 text-center text-slate-500">
                {items.length ? "No tree matches. Try fewer words or another category." : "Your workspace has no published trees yet."}
              </p>
            )}
          </section>
        </>
      )}
    </div>
  );
}
