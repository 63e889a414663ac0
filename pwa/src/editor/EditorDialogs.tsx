// The editor's dialogs: publishing with a change note, importing a JSON file, and settling a
// conflicting save (both versions side by side, node by node).
import { useMemo, useRef, useState } from "react";
import { ApiError } from "../data";
import { useModalFocus } from "../ui/focusTrap";
import { Button, Dialog, ErrorBox, inputClass } from "../ui/kit";
import { treesApi } from "./api";
import { flattenNode, sameNode } from "./diff";
import type { Conflict } from "./useDraft";
import type { Obj, TreeDoc, TreeNode } from "./model";
import { SHAPE_CODES, validateTree, type Problem } from "./validate";

export function PublishDialog({ tree, problems, onClose, beforePublish, onPick, onPublished, onRequestReview }: { tree: TreeDoc; problems: Problem[]; onClose: () => void; beforePublish: () => Promise<string | null>; onPick: (id: string | null) => void; onPublished: (version: number) => void; onRequestReview: () => void }) {
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [needsReview, setNeedsReview] = useState(false);
  const [serverProblems, setServerProblems] = useState<Problem[] | null>(null);
  const shown = serverProblems || problems;
  const publish = async () => {
    setBusy(true);
    setError(null);
    setNeedsReview(false);
    try {
      const rev = await beforePublish();
      if (!rev) throw new Error("The draft could not be saved first; see the message at the top.");
      const res = await treesApi.publish(tree._id, note.trim(), rev);
      onPublished(res.version);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        setServerProblems(null);
        setError(e.message);
      } else setError(e instanceof Error ? e.message : String(e));
      // The workspace requires an approved review of this exact draft: offer to ask for one.
      setNeedsReview(e instanceof ApiError && e.error === "approval_required");
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={shown.length ? "Fix these before publishing" : "Publish a new version"}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          {!shown.length && (
            <Button tone="primary" busy={busy} onClick={() => void publish()} data-testid="publish-confirm">
              Publish
            </Button>
          )}
        </>
      }
    >
      {shown.length ? (
        <div className="space-y-3">
          <p className="text-sm text-slate-600 dark:text-slate-400">Engineers can only run a tree without problems. Click one to go to its step.</p>
          <ul className="max-h-[50vh] space-y-1 overflow-y-auto">
            {shown.map((p, i) => (
              <li key={i}>
                <button type="button" className="w-full rounded-lg px-3 py-2 text-left text-sm hover:bg-rose-50 dark:hover:bg-rose-950/40" onClick={() => onPick(p.node_id)}>
                  <span className="font-mono text-xs font-semibold text-rose-600">{p.node_id ?? "tree"} · {p.code}</span>
                  <span className="block text-slate-700 dark:text-slate-300">{p.message}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <div className="space-y-3">
          <label htmlFor="change-note" className="block text-sm font-semibold">
            What changed? <span className="font-normal text-slate-500">(shown in the version history)</span>
          </label>
          <textarea id="change-note" rows={3} className={inputClass} value={note} onChange={(e) => setNote(e.target.value)} placeholder="Added a check for the print queue before restarting the spooler." />
          <p className="text-xs text-slate-500">Sessions already running keep the version they started with.</p>
          {error && <ErrorBox title="Not published">{error}</ErrorBox>}
          {needsReview && (
            <Button tone="secondary" onClick={onRequestReview} data-testid="publish-request-review">
              Request review
            </Button>
          )}
        </div>
      )}
    </Dialog>
  );
}

export function ImportDialog({ tree, onClose, onImport }: { tree: TreeDoc; onClose: () => void; onImport: (doc: Obj) => void }) {
  const [doc, setDoc] = useState<Obj | null>(null);
  const [error, setError] = useState<string | null>(null);
  const problems = useMemo(() => (doc ? validateTree(doc) : []), [doc]);
  const fatal = problems.filter((p) => SHAPE_CODES.has(p.code) && p.code !== "invalid_tree_id");
  return (
    <Dialog
      title="Import a tree from JSON"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button tone="primary" disabled={!doc || fatal.length > 0} onClick={() => doc && onImport(doc)} data-testid="import-confirm">
            Replace this draft
          </Button>
        </>
      }
    >
      <div className="space-y-3 text-sm">
        <p className="text-slate-600 dark:text-slate-400">
          The file's steps replace the content of <b>{String(tree.title || tree._id)}</b>; its id stays. Undo brings the previous content back.
        </p>
        <input
          type="file"
          accept="application/json,.json"
          aria-label="JSON file"
          className="block w-full text-sm"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (!f) return;
            try {
              const parsed = JSON.parse(await f.text());
              if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("The file is not a tree: expected a JSON object.");
              setDoc(parsed);
              setError(null);
            } catch (err) {
              setDoc(null);
              setError(err instanceof Error ? err.message : String(err));
            }
          }}
        />
        {error && <ErrorBox title="Cannot read the file">{error}</ErrorBox>}
        {doc && (
          <p data-testid="import-summary">
            “{String(doc.title || "Untitled")}”: {Object.keys((doc.nodes as Obj) || {}).length} steps, {problems.length} problem(s){fatal.length ? `, ${fatal.length} of which make it unreadable: ${fatal[0].message}` : ""}.
          </p>
        )}
      </div>
    </Dialog>
  );
}

/** One side of a conflicting step; the fields that differ from the other side are marked. */
function NodeSummary({ node, other }: { node: TreeNode | undefined; other: TreeNode | undefined }) {
  if (node === undefined) return <p className="text-sm text-slate-500 italic dark:text-slate-400">(deleted on this side)</p>;
  const rows = [...flattenNode(node).entries()].filter(([, v]) => v !== null);
  const theirs = other === undefined ? null : flattenNode(other);
  return (
    <dl className="space-y-0.5 text-xs">
      {rows.map(([k, v]) => (
        <div key={k} className={`grid grid-cols-[90px_1fr] gap-2 rounded ${theirs && (theirs.get(k) ?? null) !== v ? "bg-amber-100 font-semibold dark:bg-amber-900/40" : ""}`}>
          <dt className="truncate font-mono text-slate-500">{k}</dt>
          <dd className="break-words whitespace-pre-wrap text-slate-800 dark:text-slate-200">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

const TREE_KEYS = ["title", "description", "category", "tags", "start", "review_by", "review_every_days", "applies_to", "reviewed_at", "sources"];

/** Someone saved the draft since it was loaded: show both versions and let the author choose. */
export function ConflictDialog({ conflict, onResolve }: { conflict: Conflict; onResolve: (t: TreeDoc) => void }) {
  const { mine, theirs, base } = conflict;
  // No Escape here: the dialog goes away only once the author has chosen a version.
  const ref = useRef<HTMLDivElement>(null);
  useModalFocus(ref);
  const differing = useMemo(() => {
    const ids = [...new Set([...Object.keys(mine.nodes || {}), ...Object.keys(theirs.nodes || {})])];
    return ids.filter((id) => !sameNode(mine.nodes?.[id], theirs.nodes?.[id]));
  }, [mine, theirs]);
  const treeDiff = TREE_KEYS.filter((k) => JSON.stringify(mine[k]) !== JSON.stringify(theirs[k]));
  // Default per node: the side that changed it since the common start (mine when both did).
  const [pick, setPick] = useState<Record<string, "mine" | "theirs">>(() => {
    const out: Record<string, "mine" | "theirs"> = {};
    for (const id of differing) out[id] = sameNode(mine.nodes?.[id], base.nodes?.[id]) ? "theirs" : "mine";
    out.__tree = treeDiff.every((k) => JSON.stringify(mine[k]) === JSON.stringify(base[k])) ? "theirs" : "mine";
    return out;
  });
  const merged = (): TreeDoc => {
    const src = pick.__tree === "mine" ? mine : theirs;
    const nodes: Record<string, TreeNode> = {};
    const order = [...Object.keys(theirs.nodes || {}), ...Object.keys(mine.nodes || {}).filter((id) => !(id in (theirs.nodes || {})))];
    for (const id of order) {
      const side = differing.includes(id) ? pick[id] : "theirs";
      const n = side === "mine" ? mine.nodes?.[id] : theirs.nodes?.[id];
      if (n !== undefined) nodes[id] = n;
    }
    const out: TreeDoc = { ...theirs, nodes };
    for (const k of TREE_KEYS) out[k] = src[k];
    return out;
  };
  const title = (n: TreeNode | undefined, id: string) => (n && typeof n.title === "string" && n.title) || id;
  return (
    <div ref={ref} tabIndex={-1} className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/60 p-3 outline-none backdrop-blur-[2px]" role="dialog" aria-modal="true" aria-labelledby="conflict-title" data-testid="conflict-dialog">
      <div className="flex max-h-[94vh] w-full max-w-5xl flex-col overflow-hidden rounded-3xl bg-white shadow-2xl dark:bg-slate-900">
        <div className="border-b border-slate-200 p-5 dark:border-slate-800">
          <h2 id="conflict-title" className="text-lg font-semibold text-slate-900 dark:text-white">
            Someone else saved this draft while you were editing
          </h2>
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
            Nothing was overwritten. {differing.length} step(s){treeDiff.length ? " and the tree's details" : ""} differ. Keep your version, take theirs, or choose step by step and merge.
          </p>
        </div>
        <div className="min-h-0 flex-1 space-y-3 overflow-y-auto p-5">
          {treeDiff.length > 0 && (
            <ConflictRow label="Tree details" choice={pick.__tree} onChoose={(c) => setPick({ ...pick, __tree: c })} mine={<p className="text-xs">{treeDiff.map((k) => `${k}: ${JSON.stringify(mine[k])}`).join("\n")}</p>} theirs={<p className="text-xs">{treeDiff.map((k) => `${k}: ${JSON.stringify(theirs[k])}`).join("\n")}</p>} />
          )}
          {differing.map((id) => (
            <ConflictRow
              key={id}
              label={`${title(mine.nodes?.[id] || theirs.nodes?.[id], id)} · ${id}`}
              choice={pick[id]}
              onChoose={(c) => setPick({ ...pick, [id]: c })}
              mine={<NodeSummary node={mine.nodes?.[id]} other={theirs.nodes?.[id]} />}
              theirs={<NodeSummary node={theirs.nodes?.[id]} other={mine.nodes?.[id]} />}
            />
          ))}
        </div>
        <div className="flex flex-col-reverse gap-2 border-t border-slate-200 p-4 sm:flex-row sm:justify-end dark:border-slate-800">
          <Button onClick={() => onResolve(theirs)} data-testid="conflict-theirs">
            Take theirs
          </Button>
          <Button onClick={() => onResolve(mine)} data-testid="conflict-mine">
            Keep mine
          </Button>
          <Button tone="primary" onClick={() => onResolve(merged())} data-testid="conflict-merge">
            Merge my choices
          </Button>
        </div>
      </div>
    </div>
  );
}

function ConflictRow({ label, choice, onChoose, mine, theirs }: { label: string; choice: "mine" | "theirs"; onChoose: (c: "mine" | "theirs") => void; mine: React.ReactNode; theirs: React.ReactNode }) {
  const side = (c: "mine" | "theirs", body: React.ReactNode) => (
    <label className={`block cursor-pointer rounded-xl p-3 ring-1 ${choice === c ? "bg-indigo-50 ring-2 ring-indigo-500 dark:bg-indigo-950/40" : "ring-slate-200 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800"}`}>
      <span className="mb-1.5 flex items-center gap-2 text-xs font-bold tracking-wide text-slate-600 uppercase dark:text-slate-300">
        <input type="radio" name={label} checked={choice === c} onChange={() => onChoose(c)} aria-label={`${c === "mine" ? "Mine" : "Theirs"}: ${label}`} />
        {c === "mine" ? "Mine" : "Theirs"}
      </span>
      {body}
    </label>
  );
  return (
    <div className="rounded-2xl border border-slate-200 p-3 dark:border-slate-800" data-testid="conflict-row">
      <p className="mb-2 text-sm font-semibold text-slate-900 dark:text-white">{label}</p>
      <div className="grid gap-2 md:grid-cols-2">
        {side("mine", mine)}
        {side("theirs", theirs)}
      </div>
    </div>
  );
}

/** Ask for a publish review of the draft as it is now (saved first, so the review pins it). */
export function RequestReviewDialog({ treeId, onClose, beforeRequest, onRequested }: { treeId: string; onClose: () => void; beforeRequest: () => Promise<string | null>; onRequested: () => void }) {
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      const rev = await beforeRequest();
      if (!rev) throw new Error("The draft could not be saved first; see the message at the top.");
      await treesApi.requestReview(treeId, note.trim());
      onRequested();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Request a review"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button tone="primary" busy={busy} onClick={() => void send()} data-testid="review-request-confirm">
            Request review
          </Button>
        </>
      }
    >
      <div className="space-y-3">
        <label htmlFor="review-note" className="block text-sm font-semibold">
          Note for the reviewer <span className="font-normal text-slate-500">(what changed, what to look at)</span>
        </label>
        <textarea id="review-note" rows={3} className={inputClass} value={note} onChange={(e) => setNote(e.target.value)} placeholder="Added a check of the print queue before the spooler restart." />
        <p className="text-xs text-slate-500">The review is of the draft exactly as it is now; editing it afterwards needs a new review. An admin, an owner or a named reviewer other than the draft's last editor approves it.</p>
        {error && <ErrorBox title="Not requested">{error}</ErrorBox>}
      </div>
    </Dialog>
  );
}
