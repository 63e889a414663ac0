// React hooks over the local databases: each re-reads when its database changes.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Doc } from "pouchdb-browser";
import type { SessionState } from "../shared/fold";
import { useLocal } from "./index";
import { loadClients, loadLibrary, type LibraryTree } from "./library";
import type { LocalData } from "./local";
import { foldBundle, listHeaders, loadBundle, watchAll, watchSession, type SessionBundle, type SessionHeader } from "./sessions";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

function useLocalQuery<T>(load: (local: LocalData) => Promise<T>, watch: (local: LocalData, cb: () => void) => (() => void)[], deps: unknown[]): Loaded<T> {
  const local = useLocal();
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const gen = useRef(0);
  const run = useCallback(() => {
    if (!local) return;
    const mine = ++gen.current;
    load(local).then(
      (data) => mine === gen.current && setState({ data, error: null, loading: false }),
      (e: unknown) => mine === gen.current && setState((s) => ({ data: s.data, error: e instanceof Error ? e.message : String((e as { message?: string })?.message || e), loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps, react-hooks/use-memo -- the caller's deps decide when it reloads
  }, [local, ...deps]);
  useEffect(() => {
    if (!local) return;
    run();
    let t: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      if (t) clearTimeout(t);
      t = setTimeout(run, 120);
    };
    const stops = watch(local, soon);
    return () => {
      stops.forEach((s) => s());
      if (t) clearTimeout(t);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run, local]);
  return { ...state, reload: run };
}

export function useSessionHeaders(): Loaded<SessionHeader[]> {
  return useLocalQuery(listHeaders, (l, cb) => [watchAll(l, "sessions", cb)], []);
}

export function useLibrary(): Loaded<LibraryTree[]> {
  return useLocalQuery(
    async (l) => loadLibrary(l, await listHeaders(l)),
    (l, cb) => [watchAll(l, "trees", cb), watchAll(l, "sessions", cb)],
    [],
  );
}

export function useClients(): Loaded<Doc[]> {
  return useLocalQuery(loadClients, (l, cb) => [watchAll(l, "clients", cb)], []);
}

export interface LiveSession {
  bundle: SessionBundle;
  state: SessionState | null;
}

export function useSession(sid: string): Loaded<LiveSession> {
  return useLocalQuery(
    async (l) => {
      const bundle = await loadBundle(l, sid);
      return { bundle, state: bundle.tree ? foldBundle(bundle) : null };
    },
    (l, cb) => [watchSession(l, sid, cb), watchAll(l, "trees", cb)],
    [sid],
  );
}

export function useTreeVersion(treeId: string): Loaded<{ meta: Doc; version: Doc } | null> {
  return useLocalQuery(
    async (l) => {
      const slug = treeId.replace(/^tree:/, "");
      let meta: Doc;
      try {
        meta = await l.db.trees.get(`treemeta:${slug}`);
      } catch {
        return null;
      }
      try {
        const version = await l.db.trees.get(`treever:${slug}:${meta.latest_version}`);
        return { meta, version };
      } catch {
        return null;
      }
    },
    (l, cb) => [watchAll(l, "trees", cb)],
    [treeId],
  );
}
