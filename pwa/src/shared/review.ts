// What a tree says about its own currency, as the library and the runner show it: the
// products it applies to, when its content was last reviewed, when the next review falls due
// and the pages it was checked against. Pure: the tree document and its `treemeta:` sidecar in.

export interface Source {
  title: string;
  url: string;
}

export interface ReviewInfo {
  appliesTo: string[];
  /** YYYY-MM-DD: the newer of the tree's own `reviewed_at` and the sidecar's review-done. */
  reviewedOn: string | null;
  /** YYYY-MM-DD, only when the tree sets its own review rule (the workspace default is not known offline). */
  reviewDue: string | null;
  sources: Source[];
}

type Obj = Record<string, unknown>;

/** The UTC day of an ISO date or timestamp, or null when it is not one. */
export function dayOf(value: unknown): string | null {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const day = value.slice(0, 10);
  return Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ? null : day;
}

function newer(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return a >= b ? a : b;
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** When the published tree falls due, by its own rule, as api/freshness/rules.py counts it:
 * N days after the latest publish or review-done, or the fixed date until a later publish or
 * review meets it. */
export function reviewDueOn(tree: Obj, meta: Obj | null | undefined): string | null {
  const touched = newer(dayOf(meta?.published_at), dayOf(meta?.reviewed_at));
  if (!touched) return null;
  const every = tree.review_every_days;
  if (typeof every === "number" && Number.isInteger(every) && every > 0) return addDays(touched, every);
  const fixed = dayOf(tree.review_by);
  return fixed && touched <= fixed ? fixed : null;
}

export function reviewInfo(tree: Obj, meta: Obj | null | undefined): ReviewInfo {
  const appliesTo = Array.isArray(tree.applies_to) ? tree.applies_to.filter((x): x is string => typeof x === "string" && !!x.trim()) : [];
  const sources = Array.isArray(tree.sources)
    ? tree.sources.filter((s): s is Source => !!s && typeof s === "object" && typeof (s as Obj).url === "string" && /^https:\/\//.test((s as Obj).url as string)).map((s) => ({ title: typeof s.title === "string" && s.title.trim() ? s.title : s.url, url: s.url }))
    : [];
  return {
    appliesTo,
    reviewedOn: newer(dayOf(tree.reviewed_at), dayOf(meta?.reviewed_at)),
    reviewDue: reviewDueOn(tree, meta),
    sources,
  };
}
