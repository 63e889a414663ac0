// The tree editor: the graph, the selected step's panel, live validation, undo/redo,
// autosave, publishing, preview, import/export and conflicts, in one screen.
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { ReactFlowProvider } from "@xyflow/react";
import { saveBlob } from "../data";
import { queryParam } from "../router";
import { Button, ErrorBox, Link, Loading, timeAgo, useNow } from "../ui/kit";
import { treesApi, type NodeDismissed, type NodeSuggestions, type PublishingRules, type Review, type Suggestion } from "./api";
import { ConflictDialog, ImportDialog, PublishDialog, RequestReviewDialog } from "./EditorDialogs";
import { GraphCanvas } from "./GraphCanvas";
import { addNode, duplicateNode, freeSpot, exportable, insertStepBefore, NODE_H, newNode, removeNode, renameNode, setNode, sourcesToText, textToSources, withLayout, withNext, type NodeType, type TreeDoc } from "./model";
import { NodeInspector, Section, TextField, useLazyOptions } from "./NodeInspector";
import { NodeTypeMenuItems } from "./NodeTypeMenuItems";
import { PreviewRun } from "./PreviewRun";
import { commentsOn, liveReview, reviewBadge, type BadgeTone } from "./reviews";
import { StepSearch } from "./StepSearch";
import { TreeTeams } from "./TreeTeams";
import { dismissedAt, withoutGroup, type DismissedSuggestion } from "./suggestions";
import { useDraft, type SaveState } from "./useDraft";
import { scriptProblems } from "./scriptRefs";
import { useNames } from "./useNames";
import { useScriptLibrary } from "./useScriptLibrary";
import { validateTree, type Problem } from "./validate";

const NODE_ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const BADGE_TONE: Record<BadgeTone, string> = {
  neutral: "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-200",
  waiting: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-100",
  good: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200",
  bad: "bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-200",
};

function SaveBadge({ state, savedAt, error }: { state: SaveState; savedAt: number | null; error: string | null }) {
  const now = useNow(5000);
  const text: Record<SaveState, string> = {
    loading: "Loading…",
    saved: savedAt ? `Saved ${timeAgo(savedAt, now)}` : "All changes saved",
    dirty: "Unsaved changes…",
    saving: "Saving…",
    conflict: "Someone else changed this draft",
    offline: "Offline: kept on this device",
    error: error ? `Not saved: ${error}` : "Not saved",
  };
  const tone = state === "conflict" || state === "error" ? "text-rose-600" : state === "offline" ? "text-amber-600" : "text-slate-500";
  return (
    <span role="status" data-testid="save-state" data-state={state} className={`truncate text-xs font-medium ${tone}`}>
      {text[state]}
    </span>
  );
}

type ReviewMode = "default" | "date" | "every";

function withoutReview(t: TreeDoc): TreeDoc {
  const rest = { ...t };
  delete rest.review_by;
  delete rest.review_every_days;
  return rest;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** When the tree falls due for review, and the product versions it applies to. */
function FreshnessSettings({ tree, onTree }: { tree: TreeDoc; onTree: (fn: (t: TreeDoc) => TreeDoc, key?: string) => void }) {
  const [mode, setMode] = useState<ReviewMode>(tree.review_every_days != null ? "every" : tree.review_by != null ? "date" : "default");
  const [every, setEvery] = useState(tree.review_every_days != null ? String(tree.review_every_days) : "");
  const [applies, setApplies] = useState((Array.isArray(tree.applies_to) ? tree.applies_to : []).join("\n"));
  const [sources, setSources] = useState(sourcesToText(tree.sources));
  const field = "block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm ring-1 ring-slate-300 ring-inset dark:bg-slate-900 dark:ring-slate-700";
  const label = "block text-[13px] font-semibold text-slate-700 dark:text-slate-300";
  const pick = (next: ReviewMode) => {
    setMode(next);
    if (next === "default") onTree(withoutReview, "tree.review");
    if (next === "date") onTree((t) => ({ ...withoutReview(t), review_by: isoDay(Date.now() + 180 * 86_400_000) }), "tree.review");
    if (next === "every") {
      setEvery("180");
      onTree((t) => ({ ...withoutReview(t), review_every_days: 180 }), "tree.review");
    }
  };
  return (
    <Section title="Review and versions">
      <div className="space-y-1">
        <label htmlFor="t-review" className={label}>
          Review
        </label>
        <select id="t-review" className={field} value={mode} onChange={(e) => pick(e.target.value as ReviewMode)}>
          <option value="default">The workspace's default interval</option>
          <option value="date">By a date</option>
          <option value="every">Every so many days</option>
        </select>
      </div>
      {mode === "date" && (
        <div className="space-y-1">
          <label htmlFor="t-review-by" className={label}>
            Review by
          </label>
          <input id="t-review-by" type="date" className={field} value={typeof tree.review_by === "string" ? tree.review_by : ""} onChange={(e) => onTree((t) => ({ ...withoutReview(t), review_by: e.target.value || null }), "tree.review")} />
        </div>
      )}
      {mode === "every" && (
        <div className="space-y-1">
          <label htmlFor="t-review-every" className={label}>
            Review every (days)
          </label>
          <input
            id="t-review-every"
            type="number"
            inputMode="numeric"
            min={1}
            max={3650}
            className={field}
            value={every}
            onChange={(e) => {
              setEvery(e.target.value);
              const n = Number(e.target.value);
              onTree((t) => ({ ...withoutReview(t), review_every_days: e.target.value && Number.isInteger(n) ? n : null }), "tree.review");
            }}
          />
        </div>
      )}
      <p className="text-xs text-slate-500">Counted from the latest publish or review; takes effect when you publish. Trees that fall due are listed under Needs attention.</p>
      <TextField
        id="t-applies-to"
        label="Applies to"
        multiline
        rows={2}
        value={applies}
        onChange={(v) => {
          setApplies(v);
          onTree((t) => ({ ...t, applies_to: v.split("\n").map((x) => x.trim()).filter(Boolean) }), "tree.applies_to");
        }}
        placeholder={"Citrix VDA 2203 LTSR\nSonicOS 7.x"}
        hint="The product versions this tree was written for, one per line. Engineers see them before they start."
      />
      <div className="space-y-1">
        <label htmlFor="t-reviewed-at" className={label}>
          Content reviewed on
        </label>
        <input id="t-reviewed-at" type="date" className={field} value={typeof tree.reviewed_at === "string" ? tree.reviewed_at : ""} onChange={(e) => onTree((t) => ({ ...t, reviewed_at: e.target.value || null }), "tree.reviewed_at")} />
        <p className="text-xs text-slate-500">When you last checked the steps against the sources below. Engineers see it in the library and the runner.</p>
      </div>
      <TextField
        id="t-sources"
        label="Sources"
        multiline
        rows={3}
        value={sources}
        onChange={(v) => {
          setSources(v);
          onTree((t) => ({ ...t, sources: textToSources(v) }), "tree.sources");
        }}
        placeholder={"Microsoft: Troubleshoot DNS clients https://learn.microsoft.com/…"}
        hint="The vendor pages you checked the tree against, one per line: a title, then the https address."
      />
    </Section>
  );
}

function TreeSettings({ tree, onTree }: { tree: TreeDoc; onTree: (fn: (t: TreeDoc) => TreeDoc, key?: string) => void }) {
  const s = (v: unknown) => (typeof v === "string" ? v : "");
  const [tags, setTags] = useState(((tree.tags as string[]) || []).join(", "));
  const [all, lazy] = useLazyOptions(Object.keys(tree.nodes).length);
  return (
    <div data-testid="tree-settings">
      <Section title="Tree">
        <TextField id="t-title" label="Tree title" value={s(tree.title)} onChange={(v) => onTree((t) => ({ ...t, title: v }), "tree.title")} placeholder="Printer shows offline" hint="The symptom an engineer would search for." />
        <TextField id="t-description" label="Description" multiline value={s(tree.description)} onChange={(v) => onTree((t) => ({ ...t, description: v }), "tree.description")} />
        <div className="grid grid-cols-2 gap-2">
          <TextField id="t-category" label="Category" value={s(tree.category)} onChange={(v) => onTree((t) => ({ ...t, category: v }), "tree.category")} placeholder="Printing" />
          <TextField
            id="t-tags"
            label="Tags"
            value={tags}
            onChange={(v) => {
              setTags(v);
              onTree((t) => ({ ...t, tags: v.split(",").map((x) => x.trim()).filter(Boolean) }), "tree.tags");
            }}
            placeholder="printer, spooler"
          />
        </div>
        <div className="space-y-1">
          <label htmlFor="t-start" className="block text-[13px] font-semibold text-slate-700 dark:text-slate-300">
            First step
          </label>
          <select id="t-start" className="block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm ring-1 ring-slate-300 ring-inset dark:bg-slate-900 dark:ring-slate-700" value={s(tree.start)} {...lazy} onChange={(e) => onTree((t) => ({ ...t, start: e.target.value || null }))}>
            <option value="">— none —</option>
            {(all ? Object.entries(tree.nodes) : tree.start && tree.nodes[s(tree.start)] ? [[s(tree.start), tree.nodes[s(tree.start)]] as const] : []).map(([id, n]) => (
              <option key={id} value={id}>
                {s(n?.title) || "Untitled"} · {id}
              </option>
            ))}
          </select>
        </div>
      </Section>
      <FreshnessSettings tree={tree} onTree={onTree} />
      <TreeTeams key={tree._id} treeId={tree._id} />
      <Section title="How to build">
        <ul className="list-disc space-y-1 pl-4 text-[13px] text-slate-600 dark:text-slate-400">
          <li>Add a step with <b>+ Step</b>, or drag from an answer's dot into empty space.</li>
          <li>Drag an answer's dot onto a step to connect it; drag an arrow's end to reconnect.</li>
          <li>Every path ends in a <b>Resolution</b>. Problems are listed on the right and marked in red.</li>
          <li>Changes save by themselves; <b>Publish</b> makes them available to engineers.</li>
          <li>Press <kbd>/</kbd> to find a step by its title, id or text.</li>
        </ul>
      </Section>
    </div>
  );
}

function ProblemList({ problems, tree, onPick }: { problems: Problem[]; tree: TreeDoc; onPick: (id: string | null) => void }) {
  if (!problems.length)
    return (
      <div className="p-6 text-center" data-testid="problems-empty">
        <p className="text-3xl">✓</p>
        <p className="mt-2 font-semibold text-emerald-700 dark:text-emerald-400">No problems: ready to publish.</p>
      </div>
    );
  return (
    <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="problem-list">
      {problems.map((p, i) => (
        <li key={i}>
          <button type="button" className="w-full px-4 py-3 text-left hover:bg-rose-50 dark:hover:bg-rose-950/30" onClick={() => onPick(p.node_id)}>
            <span className="flex items-center gap-2 text-xs">
              <span className="rounded bg-rose-100 px-1.5 py-0.5 font-mono font-semibold text-rose-700 dark:bg-rose-950 dark:text-rose-300">{p.code}</span>
              <span className="truncate font-semibold text-slate-700 dark:text-slate-300">{p.node_id === null ? "Tree" : (typeof tree.nodes[p.node_id]?.title === "string" && tree.nodes[p.node_id].title) || p.node_id}</span>
            </span>
            <span className="mt-1 block text-[13px] text-slate-600 dark:text-slate-400">{p.message}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

function AddStepMenu({ onAdd }: { onAdd: (t: NodeType) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="relative">
      <Button tone="secondary" className="!min-h-9 !rounded-lg !px-3 !py-1.5 !text-sm" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        + Step
      </Button>
      {open && (
        <div role="menu" className="absolute top-11 left-0 z-40 w-60 rounded-xl border border-slate-200 bg-white p-1.5 shadow-xl dark:border-slate-700 dark:bg-slate-900" onMouseLeave={() => setOpen(false)}>
          <NodeTypeMenuItems
            onPick={(t) => {
              setOpen(false);
              onAdd(t);
            }}
          />
        </div>
      )}
    </div>
  );
}

/** Dialogs go to the end of the page, above the app's header (the editor is its own layer). */
function Overlay({ children }: { children: ReactNode }) {
  return createPortal(children, document.body);
}

function graphWidth(): number {
  return window.innerWidth >= 768 ? window.innerWidth - 400 : window.innerWidth;
}

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT" || el.isContentEditable);
}

export default function TreeEditor({ treeId }: { treeId: string }) {
  const draft = useDraft(treeId);
  const { tree, change } = draft;
  // `?node=` (the dashboard's hot spots link here) opens on that step, its suggestions in view.
  const [selected, setSelected] = useState<string | null>(() => queryParam("node"));
  const [tab, setTab] = useState<"step" | "problems">("step");
  const [dialog, setDialog] = useState<"publish" | "preview" | "import" | "review" | null>(null);
  const [reviews, setReviews] = useState<Review[]>([]);
  const [publishing, setPublishing] = useState<PublishingRules | null>(null);
  const name = useNames();
  const [focus, setFocus] = useState<{ id: string; n: number } | null>(() => {
    const node = queryParam("node");
    return node ? { id: node, n: 1 } : null;
  });
  const [suggestions, setSuggestions] = useState<NodeSuggestions[]>([]);
  const [dismissedListing, setDismissedListing] = useState<NodeDismissed[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [t0] = useState(() => performance.now()); // the mount time, for the editor-ready measure
  const searchBox = useRef<HTMLInputElement>(null);

  const scripts = useScriptLibrary();
  const problems = useMemo(() => {
    if (!tree) return [];
    performance.mark("editor:validate");
    const found = validateTree(tree);
    performance.mark("editor:validated");
    // Steps' scripts against the library, as publishing checks them (api/trees/script_refs.py).
    return scripts ? [...found, ...scriptProblems(tree, scripts)] : found;
  }, [tree, scripts]);
  const problemCounts = useMemo(() => {
    const m = new Map<string, number>();
    for (const p of problems) if (p.node_id !== null) m.set(p.node_id, (m.get(p.node_id) || 0) + 1);
    return m;
  }, [problems]);

  useEffect(() => {
    treesApi.suggestions(treeId).then(
      (r) => setSuggestions(r.items),
      () => setSuggestions([]),
    );
    // Fetched with the open ones, so a step's "Show dismissed" is there when it is selected.
    treesApi.dismissedSuggestions(treeId).then(
      (r) => setDismissedListing(r.items),
      () => setDismissedListing([]),
    );
  }, [treeId]);
  // Publish reviews: the badge, and reviewers' comments shown on their steps.
  const refreshReviews = useCallback(
    () =>
      Promise.all([
        treesApi.reviews(treeId).then((r) => setReviews(r.items), () => undefined),
        treesApi.publishing().then(setPublishing, () => undefined),
      ]),
    [treeId],
  );
  useEffect(() => {
    void refreshReviews();
  }, [refreshReviews]);
  const review = liveReview(reviews);
  const commentCounts = useMemo(() => {
    const m = new Map<string, number>();
    for (const c of review?.comments || []) if (c.node_id) m.set(c.node_id, (m.get(c.node_id) || 0) + 1);
    return m;
  }, [review]);
  const [dismissed, setDismissed] = useState<DismissedSuggestion[]>([]);
  const [suggestionError, setSuggestionError] = useState<string | null>(null);
  // After a change, the server's listing is the truth (a new occurrence may have arrived);
  // if it cannot be fetched, what is on screen stays.
  const refreshSuggestions = useCallback(
    () =>
      Promise.all([
        treesApi.suggestions(treeId).then((r) => setSuggestions(r.items), () => undefined),
        treesApi.dismissedSuggestions(treeId).then((r) => setDismissedListing(r.items), () => undefined),
      ]),
    [treeId],
  );
  const dismissSuggestion = useCallback(
    async (nodeId: string, s: Suggestion) => {
      setSuggestionError(null);
      try {
        await treesApi.dismissSuggestion(treeId, nodeId, s.text_key);
      } catch (e) {
        setSuggestionError(`Could not dismiss “${s.text}”: ${e instanceof Error ? e.message : String(e)}`);
        return false;
      }
      setSuggestions((items) => withoutGroup(items, nodeId, s.text_key));
      setDismissed((ds) => [...ds.filter((d) => d.node_id !== nodeId || d.text_key !== s.text_key), { node_id: nodeId, text_key: s.text_key, text: s.text }]);
      void refreshSuggestions();
      return true;
    },
    [treeId, refreshSuggestions],
  );
  const restoreSuggestion = useCallback(
    async (d: DismissedSuggestion) => {
      setSuggestionError(null);
      try {
        await treesApi.restoreSuggestion(treeId, d.node_id, d.text_key);
      } catch (e) {
        setSuggestionError(`Could not bring back “${d.text}”: ${e instanceof Error ? e.message : String(e)}`);
        return false;
      }
      // Offered back either by an undo or from the list of earlier dismissals: drop both.
      setDismissed((ds) => ds.filter((x) => x.node_id !== d.node_id || x.text_key !== d.text_key));
      setDismissedListing((items) => withoutGroup(items, d.node_id, d.text_key));
      await refreshSuggestions();
      return true;
    },
    [treeId, refreshSuggestions],
  );
  // Suggestions adopted in this editor: hidden at once, whatever the server answers and
  // whatever the new step is renamed to later.
  const [adopted, setAdopted] = useState<DismissedSuggestion[]>([]);
  // A suggestion already turned into a step (same title, or adopted here) is not offered again.
  const openSuggestions = useMemo(() => {
    if (!tree) return [];
    const titles = new Set(Object.values(tree.nodes).map((n) => (typeof n?.title === "string" ? n.title.trim().toLowerCase().replace(/\.$/, "") : "")));
    const handled = (nodeId: string, s: Suggestion) => titles.has(s.text.trim().toLowerCase().replace(/\.$/, "")) || adopted.some((a) => a.node_id === nodeId && a.text_key === s.text_key);
    return suggestions
      .map((g) => ({ ...g, suggestions: g.suggestions.filter((s) => !handled(g.node_id, s)) }))
      .filter((g) => g.suggestions.length && tree.nodes[g.node_id]);
  }, [suggestions, tree, adopted]);
  // Adopting a suggestion settles it on the server as well (a dismissal, which "Show
  // dismissed" can undo), so renaming the new step later does not bring it back.
  const adoptSuggestion = useCallback(
    (nodeId: string, s: Suggestion) => {
      setAdopted((as) => [...as, { node_id: nodeId, text_key: s.text_key, text: s.text }]);
      treesApi.dismissSuggestion(treeId, nodeId, s.text_key).then(
        () => refreshSuggestions(),
        () => undefined,
      );
    },
    [treeId, refreshSuggestions],
  );
  const suggestionCounts = useMemo(() => new Map(openSuggestions.map((g) => [g.node_id, g.suggestions.reduce((a, s) => a + s.count, 0)])), [openSuggestions]);

  useEffect(() => {
    if (tree && draft.state !== "loading") {
      // Exposed for the benchmark: open + validate + first render, in milliseconds.
      const w = window as unknown as { __editorReady?: number; __editorReadyAt?: number };
      if (w.__editorReady === undefined)
        requestAnimationFrame(() => {
          w.__editorReadyAt = performance.now();
          w.__editorReady = w.__editorReadyAt - t0;
        });
    }
  }, [tree, draft.state, t0]);

  const select = useCallback((id: string | null, center = false) => {
    setSelected(id);
    if (id) setTab("step");
    if (id && center) setFocus((f) => ({ id, n: (f?.n || 0) + 1 }));
  }, []);

  const addStep = useCallback(
    (type: NodeType, from?: { id: string; key: string }, at?: { x: number; y: number }) => {
      let created = "";
      change((t) => {
        const base = from ? t.nodes[from.id]?.position : null;
        const node = newNode(type);
        node.position = at || freeSpot(t, base ? { x: base.x, y: base.y + NODE_H + 90 } : { x: 40, y: 40 });
        const [t2, id] = addNode(t, type, node);
        created = id;
        return from ? setNode(t2, from.id, withNext(t2.nodes[from.id], from.key, id)) : t2;
      });
      setTimeout(() => {
        select(created, true);
        document.getElementById("f-title")?.focus();
      }, 0);
    },
    [change, select],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typing(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === "z" && !e.shiftKey) {
        e.preventDefault();
        draft.undo();
      } else if (mod && (e.key.toLowerCase() === "y" || (e.key.toLowerCase() === "z" && e.shiftKey))) {
        e.preventDefault();
        draft.redo();
      } else if (mod && e.key.toLowerCase() === "s") {
        e.preventDefault();
        void draft.save();
      } else if (e.key === "/" && !mod) {
        e.preventDefault();
        searchBox.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [draft]);

  if (draft.state === "loading" && !tree) return <Loading label="Opening the tree…" />;
  if (!tree) return <ErrorBox title="The tree could not be opened" onRetry={() => void draft.reload()}>{draft.error}</ErrorBox>;

  const nodeChange = (id: string) => (fn: (n: TreeDoc["nodes"][string]) => TreeDoc["nodes"][string], key?: string) => change((t) => (t.nodes[id] ? setNode(t, id, fn(t.nodes[id])) : t), key);
  const sel = selected && tree.nodes[selected] !== undefined ? selected : null;
  const nodeProblems = sel ? problems.filter((p) => p.node_id === sel) : [];
  const treeProblems = problems.filter((p) => p.node_id === null);
  const badge = reviewBadge(review, draft.rev, !!publishing?.require_approval);
  const stepComments = sel ? commentsOn(review, sel) : [];

  const exportJson = () => {
    const blob = new Blob([JSON.stringify(exportable(tree), null, 2) + "\n"], { type: "application/json" });
    saveBlob(blob, `${tree._id.split(":")[1]}.tree.json`);
  };

  return (
    <div className="fixed inset-x-0 top-14 bottom-0 z-20 flex flex-col bg-slate-50 sm:bottom-0 dark:bg-slate-950" data-testid="tree-editor">
      <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 bg-white px-3 py-2 dark:border-slate-800 dark:bg-slate-900">
        <Link to="/editor" className="rounded-lg px-2 py-1.5 text-sm font-semibold text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800">
          ← Trees
        </Link>
        <div className="min-w-0 flex-1">
          <h1 className="truncate text-[15px] font-semibold text-slate-900 dark:text-white" data-testid="editor-title">
            {(typeof tree.title === "string" && tree.title) || "Untitled tree"}
          </h1>
          <SaveBadge state={draft.state} savedAt={draft.savedAt} error={draft.error} />
        </div>
        {/* In the toolbar, not over the graph: no card is ever hidden behind it. */}
        {Object.keys(tree.nodes).length > 0 && <StepSearch ref={searchBox} nodes={tree.nodes} onPick={(id) => select(id, true)} />}
        <div className="flex flex-wrap items-center gap-1.5">
          <Button tone="ghost" className="!min-h-9 !rounded-lg !px-2.5 !py-1.5 !text-sm" disabled={!draft.canUndo} onClick={draft.undo} aria-label="Undo" title="Undo (Ctrl+Z)">
            ↶ Undo
          </Button>
          <Button tone="ghost" className="!min-h-9 !rounded-lg !px-2.5 !py-1.5 !text-sm" disabled={!draft.canRedo} onClick={draft.redo} aria-label="Redo" title="Redo (Ctrl+Shift+Z)">
            ↷ Redo
          </Button>
          <AddStepMenu onAdd={(t) => addStep(t)} />
          <Button tone="ghost" className="!min-h-9 !rounded-lg !px-2.5 !py-1.5 !text-sm" onClick={() => change((t) => withLayout(t))} title="Arrange the steps top to bottom">
            Tidy up
          </Button>
          <Button tone="ghost" className="!min-h-9 !rounded-lg !px-2.5 !py-1.5 !text-sm" onClick={() => setDialog("import")}>
            Import
          </Button>
          <Button tone="ghost" className="!min-h-9 !rounded-lg !px-2.5 !py-1.5 !text-sm" onClick={exportJson}>
            Export
          </Button>
          <Link to={`/editor/${encodeURIComponent(tree._id)}/history`} className="inline-flex min-h-9 items-center rounded-lg px-2.5 text-sm font-semibold text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800">
            History
          </Link>
          {badge && (
            <Link to={`/editor/${encodeURIComponent(tree._id)}/review`} className={`inline-flex min-h-9 items-center rounded-lg px-2.5 text-xs font-semibold ${BADGE_TONE[badge.tone]}`} data-testid="review-badge" data-tone={badge.tone}>
              {badge.label}
            </Link>
          )}
          <Button tone="ghost" className="!min-h-9 !rounded-lg !px-2.5 !py-1.5 !text-sm" onClick={() => setDialog("review")}>
            Request review
          </Button>
          <Button className="!min-h-9 !rounded-lg !px-3 !py-1.5 !text-sm" onClick={() => setDialog("preview")}>
            ▶ Preview run
          </Button>
          <Button tone="primary" className="!min-h-9 !rounded-lg !px-3 !py-1.5 !text-sm" onClick={() => setDialog("publish")}>
            Publish
          </Button>
        </div>
      </div>

      {notice && (
        <div className="flex items-center justify-between gap-2 border-b border-emerald-200 bg-emerald-50 px-4 py-2 text-sm text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100" role="status">
          <span data-testid="notice">{notice}</span>
          <button type="button" className="font-semibold" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}

      <div className="flex min-h-0 flex-1 flex-col md:flex-row">
        <div className="relative min-h-[45vh] flex-1">
          {/* The graph's size up front, so a large tree draws only the cards in view from the first frame. */}
          <ReactFlowProvider initialWidth={graphWidth()} initialHeight={Math.max(300, window.innerHeight - 130)}>
            <GraphCanvas
              tree={tree}
              selected={sel}
              problemCounts={problemCounts}
              suggestionCounts={suggestionCounts}
              commentCounts={commentCounts}
              highlighted={null}
              focusRequest={focus}
              onSelect={(id) => select(id)}
              onOpen={(id) => {
                select(id);
                setTimeout(() => document.getElementById("f-title")?.focus(), 0);
              }}
              onConnect={(from, key, to) => change((t) => (t.nodes[from] ? setNode(t, from, withNext(t.nodes[from], key, to)) : t))}
              onMove={(pos) =>
                change((t) => {
                  const nodes = { ...t.nodes };
                  for (const [id, p] of Object.entries(pos)) if (nodes[id]) nodes[id] = { ...nodes[id], position: p };
                  return { ...t, nodes };
                })
              }
              onCreateFrom={(from, key, type, at) => addStep(type, { id: from, key }, at)}
              onDeleteNodes={(ids) => {
                change((t) => ids.reduce((acc, id) => removeNode(acc, id), t));
                setSelected(null);
              }}
            />
          </ReactFlowProvider>
          {Object.keys(tree.nodes).length === 0 && (
            <div className="pointer-events-none absolute inset-0 flex items-center justify-center">
              <div className="pointer-events-auto max-w-sm rounded-2xl border border-dashed border-slate-300 bg-white/90 p-6 text-center shadow-sm dark:border-slate-700 dark:bg-slate-900/90">
                <p className="font-semibold text-slate-900 dark:text-white">Start with the first question</p>
                <p className="mt-1 text-sm text-slate-500">What would you check first for this symptom?</p>
                <Button tone="primary" className="mt-4" onClick={() => addStep("question")}>
                  Add the first question
                </Button>
              </div>
            </div>
          )}
        </div>
        <aside className="flex max-h-[55vh] w-full shrink-0 flex-col border-t border-slate-200 bg-white md:max-h-none md:w-[400px] md:border-t-0 md:border-l dark:border-slate-800 dark:bg-slate-900" aria-label="Editor panel">
          <div className="flex border-b border-slate-200 dark:border-slate-800" role="tablist">
            <button type="button" role="tab" aria-selected={tab === "step"} className={`flex-1 px-4 py-2.5 text-sm font-semibold ${tab === "step" ? "border-b-2 border-indigo-600 text-indigo-700 dark:text-indigo-300" : "text-slate-500"}`} onClick={() => setTab("step")}>
              {sel ? "Step" : "Tree"}
            </button>
            <button type="button" role="tab" aria-selected={tab === "problems"} data-testid="problems-tab" className={`flex-1 px-4 py-2.5 text-sm font-semibold ${tab === "problems" ? "border-b-2 border-indigo-600 text-indigo-700 dark:text-indigo-300" : "text-slate-500"}`} onClick={() => setTab("problems")}>
              Problems{" "}
              <span data-testid="problem-count" className={`ml-1 rounded-full px-2 py-0.5 text-xs ${problems.length ? "bg-rose-100 text-rose-700 dark:bg-rose-950 dark:text-rose-300" : "bg-emerald-100 text-emerald-700 dark:bg-emerald-950 dark:text-emerald-300"}`}>
                {problems.length}
              </span>
            </button>
          </div>
          {/* A stable gutter: opening a list that makes the panel scroll does not shift it sideways. */}
          <div className="min-h-0 flex-1 overflow-y-auto [scrollbar-gutter:stable]">
            {tab === "problems" ? (
              <ProblemList problems={problems} tree={tree} onPick={(id) => (id ? select(id, true) : (setSelected(null), setTab("step")))} />
            ) : sel ? (
              <>
                <div className="flex items-center justify-between px-4 pt-3">
                  <button type="button" className="text-xs font-semibold text-indigo-700 hover:underline dark:text-indigo-300" onClick={() => setSelected(null)}>
                    ← Tree settings
                  </button>
                </div>
                {stepComments.length > 0 && (
                  <div className="mx-4 mt-3 space-y-1.5 rounded-xl border border-amber-200 bg-amber-50 p-3 text-[13px] text-amber-950 dark:border-amber-900 dark:bg-amber-950/50 dark:text-amber-100" data-testid="node-review-comments">
                    <p className="font-semibold">Review comments on this step</p>
                    {stepComments.map((c) => (
                      <p key={c.id} data-testid="node-review-comment">
                        <span className="font-semibold">{name(c.by)}</span>: <span className="whitespace-pre-wrap">{c.body}</span>
                      </p>
                    ))}
                  </div>
                )}
                <NodeInspector
                  tree={tree}
                  id={sel}
                  problems={nodeProblems}
                  scripts={scripts}
                  suggestions={openSuggestions.find((g) => g.node_id === sel) || null}
                  dismissed={dismissed.filter((d) => d.node_id === sel)}
                  dismissedBefore={dismissedAt(dismissedListing, sel, dismissed)}
                  suggestionError={suggestionError}
                  onDismissSuggestion={(s) => dismissSuggestion(sel, s)}
                  onRestoreSuggestion={restoreSuggestion}
                  onChange={nodeChange(sel)}
                  onTree={change}
                  onSelect={(id) => select(id, true)}
                  onCreateFrom={(key, type) => addStep(type, { id: sel, key })}
                  onRename={(to) => {
                    if (to === sel) return null;
                    if (!NODE_ID_RE.test(to)) return "Use 1 to 64 lowercase letters, digits, _ and -, starting with a letter or digit.";
                    if (to in tree.nodes) return `There is already a step ${to}.`;
                    change((t) => renameNode(t, sel, to));
                    setSelected(to);
                    return null;
                  }}
                  onDuplicate={() => {
                    let created = "";
                    change((t) => {
                      const [t2, id] = duplicateNode(t, sel);
                      created = id;
                      return t2;
                    });
                    setTimeout(() => select(created, true), 0);
                  }}
                  onDelete={() => {
                    change((t) => removeNode(t, sel));
                    setSelected(null);
                  }}
                  onAdoptSuggestion={(suggestion) => {
                    const text = suggestion.text;
                    adoptSuggestion(sel, suggestion);
                    let created = "";
                    change((t) => {
                      const [t2, id] = insertStepBefore(t, sel, text);
                      created = id;
                      return t2;
                    });
                    setNotice(`Added “${text}” as a step before “${(typeof tree.nodes[sel]?.title === "string" && tree.nodes[sel].title) || sel}”.`);
                    setTimeout(() => select(created, true), 0);
                  }}
                />
              </>
            ) : (
              <>
                {treeProblems.length > 0 && (
                  <div className="mx-4 mt-3 space-y-1 rounded-xl border border-rose-200 bg-rose-50 p-3 text-[13px] text-rose-900 dark:border-rose-900 dark:bg-rose-950/50 dark:text-rose-200">
                    {treeProblems.map((p, i) => (
                      <p key={i}>{p.message}</p>
                    ))}
                  </div>
                )}
                <TreeSettings tree={tree} onTree={change} />
              </>
            )}
          </div>
        </aside>
      </div>

      <Overlay>
        {dialog === "publish" && (
          <PublishDialog
            tree={tree}
            problems={problems}
            onClose={() => setDialog(null)}
            beforePublish={draft.save}
            onPick={(id) => {
              setDialog(null);
              if (id) select(id, true);
              else setTab("problems");
            }}
            onPublished={(v) => {
              setDialog(null);
              setNotice(`Published version ${v}. Engineers get it with their next sync.`);
              void refreshReviews();
            }}
            onRequestReview={() => setDialog("review")}
          />
        )}
        {dialog === "review" && (
          <RequestReviewDialog
            treeId={tree._id}
            onClose={() => setDialog(null)}
            beforeRequest={draft.save}
            onRequested={() => {
              setDialog(null);
              setNotice("Review requested. Admins and reviewers see it from the tree's review page.");
              void refreshReviews();
            }}
          />
        )}
        {dialog === "preview" && <PreviewRun tree={tree} problems={problems} onClose={() => setDialog(null)} onEdit={(id) => (setDialog(null), select(id, true))} />}
        {dialog === "import" && (
          <ImportDialog
            tree={tree}
            onClose={() => setDialog(null)}
            onImport={(doc) => {
              change((t) => withLayout({ ...doc, _id: t._id, _rev: t._rev, nodes: (doc.nodes as TreeDoc["nodes"]) || {} }, true));
              setDialog(null);
              setSelected(null);
              setNotice("Imported the file into this draft. Undo brings the previous content back.");
            }}
          />
        )}
        {draft.conflict && <ConflictDialog conflict={draft.conflict} onResolve={(t) => void draft.resolve(t)} />}
      </Overlay>
    </div>
  );
}
