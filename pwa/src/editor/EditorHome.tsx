// The author's list of trees: open one in the editor, start a new one, import a JSON file.
import { useEffect, useState } from "react";
import { ApiError, useSignIn } from "../data";
import { AUTHOR_ROLES, freshnessApi, useAttention, type AttentionItem } from "../data/freshness";
import { navigate } from "../router";
import { Button, Card, Dialog, ErrorBox, inputClass, Link, Loading } from "../ui/kit";
import { prefetchTree, treesApi, type Review, type TreeRow } from "./api";

export { AUTHOR_ROLES };

/** Trees the nightly freshness scan flagged: each reason, a link to the editor, "Mark reviewed". */
function NeedsAttention({ items, onReviewed }: { items: AttentionItem[]; onReviewed: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!items.length) return null;
  const review = async (treeId: string) => {
    setBusy(treeId);
    setError(null);
    try {
      await freshnessApi.reviewDone(treeId);
      onReviewed();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <section aria-labelledby="needs-attention" data-testid="needs-attention">
      <h2 id="needs-attention" className="mb-2 text-sm font-semibold text-amber-800 dark:text-amber-300">
        Needs attention ({items.length})
      </h2>
      {error && <ErrorBox title="Could not mark the tree reviewed">{error}</ErrorBox>}
      <Card className="divide-y divide-slate-100 dark:divide-slate-800">
        {items.map((item) => (
          <div key={item.tree_id} className="flex flex-wrap items-start justify-between gap-3 px-4 py-3">
            <div className="min-w-0 flex-1">
              <Link to={`/editor/${encodeURIComponent(item.tree_id)}`} className="font-semibold text-slate-900 underline-offset-2 hover:underline dark:text-white">
                {item.title || item.tree_id}
              </Link>
              <ul className="mt-1 space-y-1 text-[13px] text-slate-600 dark:text-slate-400">
                {item.flags.map((f) => (
                  <li key={f.kind}>
                    <span className={`mr-1.5 rounded px-1.5 py-0.5 text-xs font-semibold ${f.kind === "failing" ? "bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-300" : "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300"}`}>
                      {f.kind === "failing" ? "Failing more often" : item.overdue_days && item.overdue_days > 0 ? `Review overdue by ${item.overdue_days} day${item.overdue_days === 1 ? "" : "s"}` : "Review overdue"}
                    </span>
                    {f.reason}
                  </li>
                ))}
              </ul>
            </div>
            <Button busy={busy === item.tree_id} onClick={() => void review(item.tree_id)} aria-label={`Mark reviewed: ${item.title || item.tree_id}`}>
              Mark reviewed
            </Button>
          </div>
        ))}
      </Card>
    </section>
  );
}

/** Publish reviews waiting for a reviewer, each a link to its review page. */
function ReviewsWaiting() {
  const [items, setItems] = useState<(Review & { tree_title: string })[]>([]);
  useEffect(() => {
    treesApi.waitingReviews().then(
      (r) => setItems(r.items),
      () => setItems([]),
    );
  }, []);
  if (!items.length) return null;
  return (
    <section aria-labelledby="reviews-waiting" data-testid="reviews-waiting">
      <h2 id="reviews-waiting" className="mb-2 text-sm font-semibold text-indigo-800 dark:text-indigo-300">
        Waiting for review ({items.length})
      </h2>
      <Card className="divide-y divide-slate-100 dark:divide-slate-800">
        {items.map((r) => (
          <div key={r.id} className="px-4 py-3">
            <Link to={`/editor/${encodeURIComponent(r.tree_id)}/review?id=${encodeURIComponent(r.id)}`} className="font-semibold text-slate-900 underline-offset-2 hover:underline dark:text-white">
              {r.tree_title}
            </Link>
            {r.note && <p className="truncate text-sm text-slate-600 dark:text-slate-400">{r.note}</p>}
          </div>
        ))}
      </Card>
    </section>
  );
}

export default function EditorHome() {
  const signin = useSignIn();
  const [rows, setRows] = useState<TreeRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [q, setQ] = useState("");
  const [creating, setCreating] = useState(false);
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  const [importError, setImportError] = useState<string | null>(null);
  const attention = useAttention();

  useEffect(() => {
    // The editor's code, ahead of the first click on a tree.
    void import("./TreeEditor");
  }, []);

  useEffect(() => {
    let live = true;
    treesApi.list(q).then(
      (r) => live && setRows(r.items),
      (e) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [q]);

  if (signin && !AUTHOR_ROLES.includes(signin.account.role)) return <ErrorBox title="Authors only">Editing trees needs the author, admin or owner role.</ErrorBox>;

  const create = async () => {
    setBusy(true);
    try {
      const res = await treesApi.create({ type: "tree", schema_version: 1, title: title.trim(), nodes: {} });
      navigate(`/editor/${encodeURIComponent(res.id)}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  const importFile = async (file: File, replace = false) => {
    try {
      const doc = JSON.parse(await file.text());
      const res = await treesApi.importTree(doc, replace);
      navigate(`/editor/${encodeURIComponent(res.id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && confirm(`${e.message}\n\nReplace that draft with the file?`)) return importFile(file, true);
      setImportError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Edit trees</h1>
          <p className="text-sm text-slate-500">
            Build and publish the troubleshooting trees your engineers run.{" "}
            {/* Phones of admins have no room for Insights in the bottom bar: it is reached from here. */}
            <Link to="/insights" className="font-semibold text-indigo-700 sm:hidden dark:text-indigo-300">
              See how they are used
            </Link>
          </p>
        </div>
        <div className="flex gap-2">
          <label className="inline-flex min-h-11 cursor-pointer items-center rounded-xl px-4 text-[15px] font-semibold text-slate-800 ring-1 ring-slate-300 ring-inset hover:bg-slate-50 dark:text-slate-100 dark:ring-slate-600">
            Import JSON
            <input type="file" accept="application/json,.json" className="sr-only" aria-label="Import a tree file" onChange={(e) => e.target.files?.[0] && void importFile(e.target.files[0])} />
          </label>
          <Button tone="primary" onClick={() => setCreating(true)}>
            + New tree
          </Button>
        </div>
      </div>
      {importError && <ErrorBox title="Import failed">{importError}</ErrorBox>}
      <ReviewsWaiting />
      {attention.items && <NeedsAttention items={attention.items} onReviewed={attention.reload} />}
      <input className={inputClass} type="search" placeholder="Search trees" aria-label="Search trees" value={q} onChange={(e) => setQ(e.target.value)} />
      {error && <ErrorBox>{error}</ErrorBox>}
      {!rows && !error && <Loading />}
      {rows && (
        <Card className="divide-y divide-slate-100 dark:divide-slate-800">
          {rows.length === 0 && <p className="p-6 text-center text-slate-500">No trees yet. Create the first one.</p>}
          {rows.map((r) => (
            <div key={r.id} onPointerDown={() => prefetchTree(r.id)}>
            <Link to={`/editor/${encodeURIComponent(r.id)}`} className="flex items-center justify-between gap-3 px-4 py-3 hover:bg-slate-50 dark:hover:bg-slate-800/60">
              <span className="min-w-0">
                <span className="block truncate font-semibold text-slate-900 dark:text-white">{r.title || r.id}</span>
                <span className="block truncate text-xs text-slate-500">
                  {r.category || "No category"} · {r.node_count} steps · {r.latest_version ? `v${r.latest_version} published` : "never published"}
                </span>
              </span>
              <span className="shrink-0 text-sm font-semibold text-indigo-700 dark:text-indigo-300">Edit →</span>
            </Link>
            </div>
          ))}
        </Card>
      )}
      {creating && (
        <Dialog
          title="New tree"
          onClose={() => setCreating(false)}
          footer={
            <>
              <Button onClick={() => setCreating(false)}>Cancel</Button>
              <Button tone="primary" busy={busy} disabled={!title.trim()} onClick={() => void create()}>
                Create and edit
              </Button>
            </>
          }
        >
          <label htmlFor="new-title" className="mb-1.5 block text-sm font-semibold">
            Symptom
          </label>
          <input id="new-title" className={inputClass} value={title} onChange={(e) => setTitle(e.target.value)} onKeyDown={(e) => e.key === "Enter" && title.trim() && void create()} placeholder="Printer shows offline" />
          <p className="mt-1.5 text-xs text-slate-500">Name it as an engineer would search for it.</p>
        </Dialog>
      )}
    </div>
  );
}
