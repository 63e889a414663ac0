// The tree library from the local `trees` database: published trees, searchable offline.
import type { Doc } from "pouchdb-browser";
import type { LocalData } from "./local";
import type { SessionHeader } from "./sessions";
import { reviewInfo, type ReviewInfo } from "../shared/review";

export interface LibraryTree {
  id: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  version: number;
  updatedAt: string;
  nodeCount: number;
  usage: number;
  lastUsed: number | null;
  /** Applies to, reviewed, review due and sources, from the published version and its sidecar. */
  review: ReviewInfo;
}

export type LibrarySort = "usage" | "updated" | "name";

export async function loadLibrary(local: LocalData, sessions: SessionHeader[]): Promise<LibraryTree[]> {
  const metas = await local.db.trees.allDocs({ startkey: "treemeta:", endkey: "treemeta:\uffff", include_docs: true });
  const usage = new Map<string, { n: number; last: number }>();
  for (const s of sessions) {
    const u = usage.get(s.tree_id) || { n: 0, last: 0 };
    u.n += 1;
    if (s.owner_id === local.account.user.id) u.last = Math.max(u.last, s.created_at || 0);
    usage.set(s.tree_id, u);
  }
  const wanted: { meta: Doc; verId: string; treeId: string }[] = [];
  for (const row of metas.rows) {
    const meta = row.doc;
    if (!meta || typeof meta.latest_version !== "number" || !meta.latest_version) continue;
    const treeId = String(meta.tree_id || "tree:" + row.id.slice("treemeta:".length));
    wanted.push({ meta, treeId, verId: `treever:${treeId.replace(/^tree:/, "")}:${meta.latest_version}` });
  }
  const drafts = await local.db.trees.allDocs({ keys: wanted.map((w) => w.treeId), include_docs: true });
  const versions = await local.db.trees.allDocs({ keys: wanted.map((w) => w.verId), include_docs: true });
  const out: LibraryTree[] = [];
  wanted.forEach((w, i) => {
    const draft = drafts.rows[i]?.doc;
    if (draft && draft.archived) return;
    const ver = versions.rows[i]?.doc;
    const tree = (ver?.tree || draft) as Doc | undefined;
    if (!tree || !ver) return;
    const u = usage.get(w.treeId);
    out.push({
      id: w.treeId,
      title: String(tree.title || w.treeId),
      description: String(tree.description || ""),
      category: String(tree.category || "Other"),
      tags: Array.isArray(tree.tags) ? (tree.tags as string[]) : [],
      version: Number(w.meta.latest_version),
      updatedAt: String(w.meta.updated_at || w.meta.published_at || ""),
      nodeCount: tree.nodes && typeof tree.nodes === "object" ? Object.keys(tree.nodes as object).length : 0,
      usage: u?.n || 0,
      lastUsed: u?.last || null,
      review: reviewInfo(tree, w.meta),
    });
  });
  return out;
}

/** Case- and accent-insensitive search over title, description, category and tags. */
export function filterLibrary(items: LibraryTree[], q: string, category: string, sort: LibrarySort): LibraryTree[] {
  const norm = (s: string) => s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const words = norm(q).split(/\s+/).filter(Boolean);
  const hits = items.filter((t) => {
    if (category && t.category !== category) return false;
    const hay = norm([t.title, t.description, t.category, ...t.tags].join(" "));
    return words.every((w) => hay.includes(w));
  });
  const byName = (a: LibraryTree, b: LibraryTree) => a.title.localeCompare(b.title);
  if (sort === "name") return hits.sort(byName);
  if (sort === "updated") return hits.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || byName(a, b));
  return hits.sort((a, b) => b.usage - a.usage || byName(a, b));
}

export function recentlyUsed(items: LibraryTree[], n = 3): LibraryTree[] {
  return items
    .filter((t) => t.lastUsed)
    .sort((a, b) => (b.lastUsed || 0) - (a.lastUsed || 0))
    .slice(0, n);
}

export async function loadClients(local: LocalData): Promise<Doc[]> {
  const rows = await local.db.clients.allDocs({ startkey: "client:", endkey: "client:\uffff", include_docs: true });
  return rows.rows
    .map((r) => r.doc)
    .filter((d): d is Doc => !!d)
    .sort((a, b) => String(a.name || "").localeCompare(String(b.name || "")));
}

// --- Suggesting a tree for a ticket ------------------------------------------------------
// A ticket's summary is written by a client ("VPN to the branch office keeps dropping since
// this morning"), not as a search query: every word must not be required, as in the library's
// search box. Each library word the summary shares counts by how rare it is in the library
// (a word every tree has, like "server", tells little) and by where it stands (title first).

/** Words too common in ticket summaries to tell trees apart. */
const STOPWORDS = new Set(
  "a an and are as at be been but by can cannot cant do does doesnt dont for from has have having i in is it its me my no not of on or our please since so still the their them then there this to too us was we were what when where which while who will with won wont you your after again all any because before being both each few get gets getting got into just more most new now off only other out over same some such than that these those through under until up very via help hi hello thanks urgent asap issue issues problem problems working work works".split(
    " ",
  ),
);

/** A word that can tell trees apart: not a stop word, and not a lone letter ("the S: drive"). */
function telling(w: string): boolean {
  return w.length > 1 && !STOPWORDS.has(w);
}

/** The words of a text, lower case and without accents. */
function tokens(text: string): string[] {
  return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().match(/[\p{L}\p{N}]+/gu) || [];
}

/** Lower case, accents off, and the common English endings cut, so "registering" finds "registration". */
export function wordsOf(text: string): string[] {
  return tokens(text).filter(telling).map(stem);
}

/** A crude English stem: the common endings cut, then at most six letters, so that
 * "registering" and "registration" (or "replicate" and "replication") meet. */
function stem(w: string): string {
  if (w.length <= 4 || /^\d+$/.test(w)) return w;
  for (const end of ["ations", "ation", "ings", "ing", "ions", "ion", "ers", "er", "ed", "es", "s"]) {
    if (w.endsWith(end) && w.length - end.length >= 4) return w.slice(0, -end.length).slice(0, 6);
  }
  return w.slice(0, 6);
}

const FIELD_WEIGHTS: [keyof LibraryTree, number][] = [
  ["title", 3],
  ["tags", 2],
  ["category", 1.5],
  ["description", 1],
];

export interface TreeSuggestion {
  tree: LibraryTree;
  score: number;
  /** The summary's words this tree matched, as the summary wrote them, for "why this tree". */
  matched: string[];
}

/** The library's trees ranked for a ticket summary: best first, only those sharing a word. */
export function suggestTrees(items: LibraryTree[], summary: string, n = 5): TreeSuggestion[] {
  const asked = new Map<string, string>(); // stem -> the summary's own word, for `matched`
  for (const raw of tokens(summary).filter(telling)) {
    if (!asked.has(stem(raw))) asked.set(stem(raw), raw);
  }
  if (asked.size === 0) return [];
  const fields = items.map((t) =>
    FIELD_WEIGHTS.map(([key, weight]) => {
      const value = t[key];
      return { weight, words: new Set(wordsOf(Array.isArray(value) ? value.join(" ") : String(value))) };
    }),
  );
  // How many trees mention each word at all: rarer words weigh more (inverse document frequency).
  const df = new Map<string, number>();
  for (const f of fields) {
    const seen = new Set(f.flatMap((x) => [...x.words]));
    for (const w of asked.keys()) if (seen.has(w)) df.set(w, (df.get(w) || 0) + 1);
  }
  const out: TreeSuggestion[] = [];
  items.forEach((tree, i) => {
    let score = 0;
    const matched: string[] = [];
    for (const [w, raw] of asked) {
      const best = Math.max(0, ...fields[i].filter((f) => f.words.has(w)).map((f) => f.weight));
      if (!best) continue;
      score += best * Math.log(1 + items.length / (df.get(w) || 1));
      matched.push(raw);
    }
    if (score > 0) out.push({ tree, score, matched });
  });
  return out.sort((a, b) => b.score - a.score || b.tree.usage - a.tree.usage || a.tree.title.localeCompare(b.tree.title)).slice(0, n);
}
