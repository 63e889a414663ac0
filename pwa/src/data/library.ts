// The tree library from the local `trees` database: published trees, searchable offline.
import type { Doc } from "pouchdb-browser";
import type { LocalData } from "./local";
import type { SessionHeader } from "./sessions";

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
