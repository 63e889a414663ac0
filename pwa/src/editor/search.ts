// Finding a step in a large tree by what the author remembers of it: a word of its title,
// its id, or something written in it (body, help, answers, commands).
import type { TreeNode } from "./model";

export interface StepMatch {
  id: string;
  title: string;
  /** Where the words were found, for the result line: "title", "id" or "text". */
  where: "title" | "id" | "text";
}

function fold(text: string): string {
  return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

// `next` is not the step's own words: where its answers lead names other steps.
function strings(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) if (k !== "next") strings(v, out);
}

const OWN_FIELDS = new Set(["title", "type", "position", "next"]);

/** Every text of a step other than its title, id and targets, in one string. */
function textOf(node: TreeNode): string {
  const out: string[] = [];
  for (const [key, value] of Object.entries(node)) if (!OWN_FIELDS.has(key)) strings(value, out);
  return out.join("\n");
}

/** The steps whose title, id or text hold every word of `query` (any case, any accents),
 * best first: an exact id, then titles that start with the query, then titles, ids and
 * other text that contain all its words; ties keep the tree's order. */
export function findSteps(nodes: Record<string, TreeNode>, query: string, limit = 8): StepMatch[] {
  const q = fold(query.trim());
  const words = q.split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const ranked: { match: StepMatch; rank: number; order: number }[] = [];
  Object.entries(nodes).forEach(([id, node], order) => {
    if (!node || typeof node !== "object") return;
    const title = typeof node.title === "string" ? node.title : "";
    const t = fold(title);
    const i = fold(id);
    const all = (s: string) => words.every((w) => s.includes(w));
    let rank = -1;
    let where: StepMatch["where"] = "title";
    if (i === q) [rank, where] = [0, "id"];
    else if (t.startsWith(q)) rank = 1;
    else if (all(t)) rank = 2;
    else if (all(i)) [rank, where] = [3, "id"];
    else if (all(`${t}\n${i}\n${fold(textOf(node))}`)) [rank, where] = [4, "text"];
    if (rank >= 0) ranked.push({ match: { id, title, where }, rank, order });
  });
  ranked.sort((a, b) => a.rank - b.rank || a.order - b.order);
  return ranked.slice(0, limit).map((r) => r.match);
}
