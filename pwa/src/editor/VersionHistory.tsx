// Version history: every published version with its change note, a readable diff between
// any two of them (or the draft), and rollback of the draft to an old version.
import { useEffect, useMemo, useState } from "react";
import { ApiError } from "../data";
import { Button, Card, Dialog, ErrorBox, Link, Loading } from "../ui/kit";
import { treesApi, type VersionRow } from "./api";
import { diffTrees, type Tree } from "./diff";
import { DiffList } from "./DiffView";
import type { TreeDoc } from "./model";
import { useNames } from "./useNames";

const DRAFT = 0;

export default function VersionHistory({ treeId }: { treeId: string }) {
  const [versions, setVersions] = useState<VersionRow[] | null>(null);
  const [draft, setDraft] = useState<TreeDoc | null>(null);
  const [trees, setTrees] = useState<Record<number, Tree>>({});
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rollback, setRollback] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const person = useNames();

  const load = async () => {
    try {
      const [v, d] = await Promise.all([treesApi.versions(treeId), treesApi.get(treeId)]);
      setVersions(v.items);
      setDraft(d);
      setTrees((t) => ({ ...t, [DRAFT]: d }));
      if (v.items.length >= 2) {
        setFrom((f) => f ?? v.items[1].version);
        setTo((x) => x ?? v.items[0].version);
      } else if (v.items.length === 1) {
        setFrom((f) => f ?? v.items[0].version);
        setTo((x) => x ?? DRAFT);
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- load() sets state only after its first await
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [treeId]);

  useEffect(() => {
    for (const n of [from, to]) {
      if (n === null || n === DRAFT || trees[n]) continue;
      treesApi.version(treeId, n).then(
        (v) => setTrees((t) => ({ ...t, [n]: v.tree })),
        (e) => setError(e instanceof Error ? e.message : String(e)),
      );
    }
  }, [from, to, trees, treeId]);

  const diff = useMemo(() => (from !== null && to !== null && trees[from] && trees[to] ? diffTrees(trees[from], trees[to]) : null), [from, to, trees]);
  const name = (n: number) => (n === DRAFT ? "Draft (unpublished)" : `Version ${n}`);

  if (error) return <ErrorBox onRetry={() => (setError(null), void load())}>{error}</ErrorBox>;
  if (!versions || !draft) return <Loading />;

  const doRollback = async (n: number) => {
    setBusy(true);
    try {
      const fresh = await treesApi.get(treeId);
      await treesApi.rollback(treeId, n, fresh._rev || "");
      setRollback(null);
      setDone(`The draft is now a copy of version ${n}. Publish it to make it the newest version.`);
      setTrees({});
      await load();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const options = [DRAFT, ...versions.map((v) => v.version)];
  return (
    <div className="space-y-5" data-testid="version-history">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <Link to={`/editor/${encodeURIComponent(treeId)}`} className="text-sm font-semibold text-indigo-700 dark:text-indigo-300">
            ← Back to the editor
          </Link>
          <h1 className="mt-1 text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">History of “{String(draft.title || treeId)}”</h1>
        </div>
      </div>
      {done && (
        <p role="status" className="rounded-xl bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100">
          {done}
        </p>
      )}
      <div className="grid gap-5 lg:grid-cols-[320px_1fr]">
        <Card className="divide-y divide-slate-100 self-start dark:divide-slate-800">
          {versions.length === 0 && <p className="p-4 text-sm text-slate-500">Not published yet.</p>}
          {versions.map((v) => (
            <div key={v.version} className="space-y-1 p-4" data-testid={`version-${v.version}`}>
              <div className="flex items-center justify-between">
                <span className="font-semibold text-slate-900 dark:text-white">Version {v.version}</span>
                <span className="text-xs text-slate-500">{new Date(v.published_at).toLocaleString()}</span>
              </div>
              <p className="text-sm text-slate-600 dark:text-slate-400">{v.change_note || <i>No change note</i>}</p>
              <p className="text-xs text-slate-500" data-testid="version-people">
                Published by {person(v.published_by)}
                {v.review && (
                  <>
                    {" "}
                    · review requested by {person(v.review.requested_by)}, approved by{" "}
                    <Link to={`/editor/${encodeURIComponent(treeId)}/review?id=${encodeURIComponent(v.review.id)}`} className="font-semibold text-indigo-700 hover:underline dark:text-indigo-300">
                      {person(v.review.approved_by)}
                    </Link>
                  </>
                )}
              </p>
              <div className="flex gap-3 pt-1 text-xs font-semibold">
                <button type="button" className="text-indigo-700 hover:underline dark:text-indigo-300" onClick={() => (setFrom(v.version), setTo(DRAFT))}>
                  Compare with draft
                </button>
                <button type="button" className="text-rose-700 hover:underline dark:text-rose-400" onClick={() => setRollback(v.version)}>
                  Roll back to this
                </button>
              </div>
            </div>
          ))}
        </Card>
        <div className="space-y-4">
          <Card className="flex flex-wrap items-center gap-3 p-4">
            <label className="text-sm font-semibold" htmlFor="diff-from">
              Compare
            </label>
            <select id="diff-from" className="rounded-lg px-3 py-2 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700" value={from ?? ""} onChange={(e) => setFrom(Number(e.target.value))}>
              {options.map((n) => (
                <option key={n} value={n}>
                  {name(n)}
                </option>
              ))}
            </select>
            <label className="text-sm font-semibold" htmlFor="diff-to">
              with
            </label>
            <select id="diff-to" className="rounded-lg px-3 py-2 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700" value={to ?? ""} onChange={(e) => setTo(Number(e.target.value))}>
              {options.map((n) => (
                <option key={n} value={n}>
                  {name(n)}
                </option>
              ))}
            </select>
          </Card>
          {from !== null && to !== null && !diff && <Loading />}
          {diff && <DiffList diff={diff} />}
        </div>
      </div>
      {rollback !== null && (
        <Dialog
          title={`Roll back to version ${rollback}?`}
          onClose={() => setRollback(null)}
          footer={
            <>
              <Button onClick={() => setRollback(null)}>Cancel</Button>
              <Button tone="danger" busy={busy} onClick={() => void doRollback(rollback)} data-testid="rollback-confirm">
                Roll back the draft
              </Button>
            </>
          }
        >
          <p className="text-sm text-slate-600 dark:text-slate-300">The draft becomes a copy of version {rollback}. Published versions do not change; publish afterwards to make it the newest version.</p>
        </Dialog>
      )}
    </div>
  );
}
