// One analytics answer for a screen: the kept copy at once (so the dashboard draws without
// waiting for the network, and offline), then the server's answer when it comes.
import { useEffect, useState } from "react";
import { useOnline } from "../data";
import { cached, fetchFigures, type Fetched } from "./cache";

export interface FiguresState<T> {
  figures: Fetched<T> | null;
  error: string | null;
  loading: boolean;
}

export function useFigures<T>(path: string | null): FiguresState<T> {
  const online = useOnline();
  const [state, setState] = useState<FiguresState<T> & { path: string | null }>(() => ({ path, figures: path ? cached<T>(path) : null, error: null, loading: !!path }));
  // A new path shows its own kept copy straight away, never the previous path's figures.
  if (state.path !== path) setState({ path, figures: path ? cached<T>(path) : null, error: null, loading: !!path });
  useEffect(() => {
    if (!path) return;
    let live = true;
    fetchFigures<T>(path).then(
      (figures) => live && setState({ path, figures, error: null, loading: false }),
      (e: unknown) => live && setState((s) => ({ ...s, error: e instanceof Error ? e.message : String(e), loading: false })),
    );
    return () => {
      live = false;
    };
  }, [path, online]);
  return state;
}
