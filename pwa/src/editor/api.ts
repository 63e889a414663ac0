// The editor's calls to the trees API (through the app's signed-in `api` helper).
import { api } from "../data";
import type { Obj, TreeDoc } from "./model";
import type { Problem } from "./validate";

export interface TreeRow {
  id: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  node_count: number;
  latest_version: number | null;
  updated_at: string | null;
  archived: boolean;
}
export interface VersionRow {
  version: number;
  published_at: string;
  published_by: string;
  change_note: string;
  /** The publish review it was published on, when the workspace requires approval. */
  review?: { id: string; requested_by: string; approved_by: string; approved_at: string } | null;
}
export type ReviewStatus = "open" | "approved" | "changes_requested" | "withdrawn" | "superseded" | "published";
export interface ReviewComment {
  id: string;
  /** The step commented on; null for the whole draft. */
  node_id: string | null;
  body: string;
  by: string;
  at: string;
}
/** A publish review: someone other than the draft's editor approves one exact revision. */
export interface Review {
  id: string;
  tree_id: string;
  rev: string;
  /** Whether it is of the draft as it is now: an approval counts only then. */
  current: boolean;
  base_version: number | null;
  note: string;
  status: ReviewStatus;
  requested_by: string;
  requested_at: string;
  last_editor: string | null;
  barred_approvers: string[];
  decided_by: string | null;
  decided_at: string | null;
  decision_comment: string | null;
  comments: ReviewComment[];
  published_version: number | null;
}
export interface PublishingRules {
  require_approval: boolean;
  /** Whether the signed-in user may approve reviews. */
  you_review: boolean;
}
export interface SuggestionExample {
  session_id: string;
  text: string;
  answer: string | null;
  note: string | null;
  ts: number;
  user_id: string | null;
  tree_version: number | null;
}
export interface Suggestion {
  text: string;
  /** With the node id, names the group (the wording normalised by the server). */
  text_key: string;
  count: number;
  answers: Record<string, number>;
  session_ids: string[];
  examples: SuggestionExample[];
}
export interface NodeSuggestions {
  node_id: string;
  count: number;
  suggestions: Suggestion[];
}
/** A group as the listing with `?dismissed=true` gives it: the occurrences an author hid. */
export interface DismissedGroup extends Suggestion {
  /** When and by whom (a user id) the group's latest dismissal was made. */
  dismissed_at: string;
  dismissed_by: string;
}
export interface NodeDismissed extends NodeSuggestions {
  suggestions: DismissedGroup[];
}

const path = (id: string) => `/api/v1/trees/${encodeURIComponent(id)}`;

export const treesApi = {
  list: (q = "") => api<{ items: TreeRow[] }>(`/api/v1/trees?limit=200&sort=updated${q ? `&q=${encodeURIComponent(q)}` : ""}`),
  get: (id: string) => api<TreeDoc>(path(id)),
  create: (body: Obj) => api<{ id: string; rev: string }>("/api/v1/trees", { method: "POST", body }),
  save: (tree: TreeDoc, rev: string) => api<{ id: string; rev: string }>(path(tree._id), { method: "PUT", body: { ...tree, _rev: rev } }),
  publish: (id: string, change_note: string, rev: string) =>
    api<{ version: number; published_at: string }>(`${path(id)}/publish`, { method: "POST", body: { change_note, _rev: rev } }),
  versions: (id: string) => api<{ items: VersionRow[] }>(`${path(id)}/versions`),
  version: (id: string, n: number) => api<{ version: number; change_note: string; published_at: string; tree: TreeDoc }>(`${path(id)}/versions/${n}`),
  rollback: (id: string, version: number, rev: string) => api<{ rev: string }>(`${path(id)}/rollback`, { method: "POST", body: { version, _rev: rev } }),
  suggestions: (id: string) => api<{ items: NodeSuggestions[] }>(`${path(id)}/suggestions`),
  dismissedSuggestions: (id: string) => api<{ items: NodeDismissed[] }>(`${path(id)}/suggestions?dismissed=true`),
  dismissSuggestion: (id: string, node_id: string, text_key: string) =>
    api<{ dismissed: number }>(`${path(id)}/suggestions/dismiss`, { method: "POST", body: { node_id, text_key } }),
  restoreSuggestion: (id: string, node_id: string, text_key: string) =>
    api<{ restored: number }>(`${path(id)}/suggestions/restore`, { method: "POST", body: { node_id, text_key } }),
  importTree: (body: Obj, replace = false) => api<{ id: string; rev: string }>(`/api/v1/trees/import${replace ? "?replace=true" : ""}`, { method: "POST", body }),
  waitingReviews: () => api<{ items: (Review & { tree_title: string })[] }>("/api/v1/reviews?status=open&limit=200"),
  reviews: (id: string) => api<{ items: Review[] }>(`${path(id)}/reviews?limit=200`),
  requestReview: (id: string, note: string) => api<Review>(`${path(id)}/reviews`, { method: "POST", body: { note } }),
  decideReview: (id: string, rid: string, approve: boolean, comment: string) =>
    api<Review>(`${path(id)}/reviews/${encodeURIComponent(rid)}/${approve ? "approve" : "reject"}`, { method: "POST", body: { comment } }),
  commentReview: (id: string, rid: string, node_id: string | null, body: string) =>
    api<ReviewComment>(`${path(id)}/reviews/${encodeURIComponent(rid)}/comments`, { method: "POST", body: { ...(node_id ? { node_id } : {}), body } }),
  withdrawReview: (id: string, rid: string) => api<Review>(`${path(id)}/reviews/${encodeURIComponent(rid)}/withdraw`, { method: "POST" }),
  publishing: () => api<PublishingRules>("/api/v1/tenant/publishing"),
  validate: (body: Obj) => api<{ valid: boolean; problems: Problem[] }>("/api/v1/trees/validate", { method: "POST", body }),
};

// A tree fetched when the author presses its link, so the editor opens on data already on
// its way. Used once, and only if recent; the draft's `_rev` still guards every save.
const prefetched = new Map<string, { at: number; doc: Promise<TreeDoc> }>();

export function prefetchTree(id: string): void {
  const doc = treesApi.get(id);
  doc.catch(() => undefined);
  prefetched.set(id, { at: Date.now(), doc });
}

export function loadTree(id: string): Promise<TreeDoc> {
  const hit = prefetched.get(id);
  prefetched.delete(id);
  return hit && Date.now() - hit.at < 10_000 ? hit.doc : treesApi.get(id);
}
