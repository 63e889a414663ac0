// The draft being edited: undo/redo history, autosave with `_rev`, a copy on this device, and
// conflict detection. A save answered 409 never overwrites: the current server draft is
// fetched and both versions are handed to the author (see ConflictDialog).
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, OfflineError } from "../data";
import { loadTree, treesApi } from "./api";
import { sameNode } from "./diff";
import { withLayout, type TreeDoc } from "./model";

export type SaveState = "loading" | "saved" | "dirty" | "saving" | "conflict" | "offline" | "error";

export interface Conflict {
  mine: TreeDoc;
  theirs: TreeDoc;
  /** What both started from: the last version this editor saved or loaded. */
  base: TreeDoc;
}

const AUTOSAVE_MS = 1200;
const COALESCE_MS = 1000;
const HISTORY = 200;

function backupKey(id: string) {
  return `bl.draft.editor.${id}`;
}

function content(t: TreeDoc): string {
  const { _rev, _conflicts, ...rest } = t as TreeDoc & { _conflicts?: unknown };
  void _rev;
  void _conflicts;
  return JSON.stringify(rest);
}

/** Whether two trees differ in content (node order and layout aside). */
export function sameContent(a: TreeDoc, b: TreeDoc): boolean {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k.startsWith("_") || k === "nodes") continue;
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  }
  const ka = Object.keys(a.nodes || {});
  const kb = Object.keys(b.nodes || {});
  if (ka.length !== kb.length) return false;
  return ka.every((id) => sameNode(a.nodes[id], b.nodes?.[id]));
}

export function useDraft(treeId: string) {
  const [tree, setTree] = useState<TreeDoc | null>(null);
  const [rev, setRev] = useState<string>("");
  const [state, setState] = useState<SaveState>("loading");
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [savedAt, setSavedAt] = useState<number | null>(null);
  const past = useRef<TreeDoc[]>([]);
  const future = useRef<TreeDoc[]>([]);
  const lastKey = useRef<{ key: string; at: number } | null>(null);
  const saved = useRef<TreeDoc | null>(null); // the content at `rev`
  const [, bump] = useState(0);
  const treeRef = useRef<TreeDoc | null>(null);
  // eslint-disable-next-line react-hooks/refs -- the latest tree, for a save that finishes later
  treeRef.current = tree;

  const load = useCallback(async () => {
    setState("loading");
    setError(null);
    try {
      performance.mark("editor:fetch");
      const doc = await loadTree(treeId);
      performance.mark("editor:fetched");
      const laid = withLayout({ ...doc, nodes: doc.nodes || {} }, true);
      performance.mark("editor:laid-out");
      saved.current = doc;
      setRev(doc._rev || "");
      past.current = [];
      future.current = [];
      // Work left on this device (closed tab, offline) comes back; if the server moved on
      // meanwhile, it is a conflict like any other.
      const raw = localStorage.getItem(backupKey(doc._id));
      const backup = raw ? (JSON.parse(raw) as { tree: TreeDoc; rev: string }) : null;
      if (backup && !sameContent(backup.tree, doc)) {
        if (backup.rev === doc._rev) {
          setTree(backup.tree);
          setState("dirty");
          return;
        }
        setTree(backup.tree);
        setConflict({ mine: backup.tree, theirs: doc, base: doc });
        setState("conflict");
        return;
      }
      setTree(laid);
      setState("saved");
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setState("error");
    }
  }, [treeId]);

  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- loading a draft starts with the loading state
    void load();
  }, [load]);

  /** Apply a change. Changes with the same `coalesce` key within a second are one undo step. */
  const change = useCallback((fn: (t: TreeDoc) => TreeDoc, coalesce?: string) => {
    setTree((cur) => {
      if (!cur) return cur;
      const next = fn(cur);
      if (next === cur) return cur;
      const now = Date.now();
      const merge = coalesce && lastKey.current && lastKey.current.key === coalesce && now - lastKey.current.at < COALESCE_MS;
      if (!merge) {
        past.current.push(cur);
        if (past.current.length > HISTORY) past.current.shift();
      }
      lastKey.current = coalesce ? { key: coalesce, at: now } : null;
      future.current = [];
      return next;
    });
    setState((s) => (s === "conflict" ? s : "dirty"));
  }, []);

  const undo = useCallback(() => {
    setTree((cur) => {
      const prev = past.current.pop();
      if (!cur || !prev) return cur;
      future.current.push(cur);
      lastKey.current = null;
      return prev;
    });
    setState((s) => (s === "conflict" ? s : "dirty"));
    bump((n) => n + 1);
  }, []);

  const redo = useCallback(() => {
    setTree((cur) => {
      const next = future.current.pop();
      if (!cur || !next) return cur;
      past.current.push(cur);
      lastKey.current = null;
      return next;
    });
    setState((s) => (s === "conflict" ? s : "dirty"));
    bump((n) => n + 1);
  }, []);

  // Keep a copy on this device at every change, tagged with the revision it was edited from.
  useEffect(() => {
    if (!tree || state === "loading") return;
    if (state === "saved" || (saved.current && state !== "dirty" && sameContent(tree, saved.current))) localStorage.removeItem(backupKey(tree._id));
    else localStorage.setItem(backupKey(tree._id), JSON.stringify({ tree, rev: conflict ? conflict.theirs._rev : rev }));
  }, [tree, rev, state, conflict]);

  const inFlight = useRef<Promise<string | null> | null>(null);
  const revRef = useRef(rev);
  // eslint-disable-next-line react-hooks/refs -- the latest revision, for a save that finishes later
  revRef.current = rev;
  /** One PUT of `sent` on the latest revision; the draft's state follows its answer. */
  const send = useCallback(async (sent: TreeDoc): Promise<string | null> => {
    setState("saving");
    try {
      const res = await treesApi.save(sent, revRef.current);
      saved.current = { ...sent, _rev: res.rev };
      setRev(res.rev);
      setSavedAt(Date.now());
      setError(null);
      revRef.current = res.rev;
      setState(treeRef.current === sent ? "saved" : "dirty");
      return res.rev;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        try {
          const theirs = await treesApi.get(sent._id);
          setConflict({ mine: sent, theirs, base: saved.current || theirs });
          setState("conflict");
        } catch (e2) {
          setError(e2 instanceof Error ? e2.message : String(e2));
          setState("error");
        }
      } else if (e instanceof OfflineError) {
        setState("offline");
      } else {
        setError(e instanceof Error ? e.message : String(e));
        setState("error");
      }
      return null;
    }
  }, []);

  /** Save now; answers the draft's new `_rev`, or null when it could not be saved. A save
   * asked for while another is on its way (Publish clicked as the autosave runs) waits for
   * it, then sends what changed since, if anything. Before, it answered null at once, and
   * the publish failed with "the draft could not be saved first". */
  const save = useCallback(async (): Promise<string | null> => {
    while (inFlight.current) {
      if (!(await inFlight.current)) return null; // that save failed: its message is at the top
    }
    // The refs, not this render's values: a save that finished while this one waited moved them.
    const sent = treeRef.current;
    if (!sent || conflict) return null;
    if (saved.current && content(sent) === content(saved.current)) {
      setState("saved");
      return revRef.current;
    }
    const run = send(sent);
    inFlight.current = run;
    try {
      return await run;
    } finally {
      if (inFlight.current === run) inFlight.current = null;
    }
  }, [conflict, send]);

  // Autosave a moment after the last change; retry when back online.
  useEffect(() => {
    if (state !== "dirty" && state !== "offline") return;
    const t = setTimeout(() => void save(), state === "offline" ? 5000 : AUTOSAVE_MS);
    return () => clearTimeout(t);
  }, [tree, state, save]);

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (state === "dirty" || state === "saving") e.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [state]);

  /** Settle a conflict with `result`, saved on top of the server's current revision. */
  const resolve = useCallback(
    async (result: TreeDoc) => {
      if (!conflict) return;
      const theirs = conflict.theirs;
      saved.current = theirs;
      setRev(theirs._rev || "");
      setConflict(null);
      if (sameContent(result, theirs)) {
        setTree(theirs);
        setState("saved");
        localStorage.removeItem(backupKey(theirs._id));
        return;
      }
      past.current.push(tree || theirs);
      setTree({ ...result, _rev: theirs._rev });
      setState("dirty");
    },
    [conflict, tree],
  );

  /** Replace the whole draft with the server's (after a rollback or import). */
  const reload = load;

  return {
    tree,
    rev,
    state,
    error,
    conflict,
    savedAt,
    change,
    undo,
    redo,
    // eslint-disable-next-line react-hooks/refs -- the undo stacks re-render through `bump`
    canUndo: past.current.length > 0,
    // eslint-disable-next-line react-hooks/refs -- the undo stacks re-render through `bump`
    canRedo: future.current.length > 0,
    save,
    resolve,
    reload,
  };
}
