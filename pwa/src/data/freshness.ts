// Tree freshness: the trees that need an author's attention (the server's nightly scan), and
// "mark reviewed". Authors only; the list needs a connection (it is not replicated).
import { useCallback, useEffect, useState } from "react";
import { api, useOnline, useSignIn } from "./index";

export const AUTHOR_ROLES = ["owner", "admin", "author"];

export interface FreshnessFlag {
  kind: "failing" | "review_due";
  reason: string;
  raised_at: string;
  due: string | null;
}

export interface AttentionItem {
  tree_id: string;
  title: string | null;
  review_due: string | null;
  overdue_days: number | null;
  flags: FreshnessFlag[];
}

export const freshnessApi = {
  attention: () => api<{ items: AttentionItem[] }>("/api/v1/trees/attention"),
  reviewDone: (treeId: string) =>
    api<{ reviewed_at: string; next_review_due: string | null }>(`/api/v1/trees/${encodeURIComponent(treeId)}/review-done`, { method: "POST" }),
};

/** The attention list for an author while online (null: not loaded, not an author, or offline). */
export function useAttention(): { items: AttentionItem[] | null; error: string | null; reload: () => void } {
  const signin = useSignIn();
  const online = useOnline();
  const author = !!signin && AUTHOR_ROLES.includes(signin.account.role);
  const [items, setItems] = useState<AttentionItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (!author || !online) return;
    let live = true;
    freshnessApi.attention().then(
      (r) => {
        if (!live) return;
        setItems(r.items);
        setError(null);
      },
      (e) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [author, online, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { items: author ? items : null, error, reload };
}
