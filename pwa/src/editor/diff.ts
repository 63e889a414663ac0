// A readable diff between two trees (two versions, or a version and the draft): which nodes
// were added, removed or changed, and for each change the field with its old and new text.
// Positions are layout only and never reported.

export type Tree = Record<string, unknown> & { nodes?: Record<string, unknown> };

export interface FieldChange {
  field: string;
  old: string | null;
  new: string | null;
}

export interface NodeChange {
  id: string;
  title: string;
  type: string;
  changes: FieldChange[];
}

export interface TreeDiff {
  tree: FieldChange[];
  added: { id: string; title: string; type: string }[];
  removed: { id: string; title: string; type: string }[];
  changed: NodeChange[];
  /** True when nothing but layout differs. */
  same: boolean;
}

const TREE_FIELDS = ["title", "description", "category", "tags", "start", "archived", "review_by", "review_every_days", "applies_to", "reviewed_at", "sources"];
const NODE_ORDER = ["type", "title", "body", "help", "warning", "variable", "save_to_client", "outcome", "summary", "root_cause", "verification", "handover"];
const IGNORED = new Set(["position"]);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value as text a person reads: strings as they are, lists one item per line. */
export function asText(v: unknown): string | null {
  if (v === undefined || v === null || v === "") return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (!v.length) return null;
    return v.map((x) => asText(x) ?? "").join("\n");
  }
  if (isObj(v)) {
    if ("url" in v || "title" in v) return `${v.title ?? ""} <${v.url ?? ""}>`.trim();
    if ("text" in v) return v.language ? `[${v.language}] ${v.text}` : String(v.text ?? "");
    return JSON.stringify(v);
  }
  return String(v);
}

/** The node's fields flattened to readable paths: `next.yes`, `log.yes`, `option 1002: label`, `links`, ... */
export function flattenNode(node: unknown): Map<string, string | null> {
  const out = new Map<string, string | null>();
  if (!isObj(node)) {
    out.set("(value)", asText(node));
    return out;
  }
  for (const key of NODE_ORDER) if (key in node) out.set(key, asText(node[key]));
  for (const key of ["next", "log"]) {
    const v = node[key];
    if (isObj(v)) for (const [answer, x] of Object.entries(v)) out.set(`${key}.${answer}`, asText(x));
    else if (v !== undefined) out.set(key, asText(v));
  }
  if (Array.isArray(node.options)) {
    node.options.forEach((o, i) => {
      const name = isObj(o) && typeof o.id === "string" && o.id ? o.id : `#${i + 1}`;
      if (!isObj(o)) out.set(`option ${name}`, asText(o));
      else for (const f of ["label", "next", "log"]) out.set(`option ${name}: ${f}`, asText(o[f]));
    });
  }
  if (Array.isArray(node.links)) out.set("links", asText(node.links));
  if (Array.isArray(node.commands)) out.set("commands", asText(node.commands));
  for (const key of Object.keys(node)) {
    if (out.has(key) || IGNORED.has(key) || ["next", "log", "options", "links", "commands"].includes(key)) continue;
    out.set(key, asText(node[key]));
  }
  return out;
}

function compare(a: Map<string, string | null>, b: Map<string, string | null>): FieldChange[] {
  const keys = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  const out: FieldChange[] = [];
  for (const k of keys) {
    const x = a.get(k) ?? null;
    const y = b.get(k) ?? null;
    if (x !== y) out.push({ field: k, old: x, new: y });
  }
  return out;
}

function titleOf(node: unknown, id: string): string {
  return isObj(node) && typeof node.title === "string" && node.title.trim() ? node.title : id;
}
function typeOf(node: unknown): string {
  return isObj(node) && typeof node.type === "string" ? node.type : "?";
}

/** What changed from `a` (older) to `b` (newer). */
export function diffTrees(a: Tree, b: Tree): TreeDiff {
  const tree: FieldChange[] = [];
  for (const f of TREE_FIELDS) {
    const x = asText(a[f]);
    const y = asText(b[f]);
    if (x !== y) tree.push({ field: f, old: x, new: y });
  }
  const na = isObj(a.nodes) ? a.nodes : {};
  const nb = isObj(b.nodes) ? b.nodes : {};
  const added = Object.keys(nb)
    .filter((id) => !(id in na))
    .map((id) => ({ id, title: titleOf(nb[id], id), type: typeOf(nb[id]) }));
  const removed = Object.keys(na)
    .filter((id) => !(id in nb))
    .map((id) => ({ id, title: titleOf(na[id], id), type: typeOf(na[id]) }));
  const changed: NodeChange[] = [];
  for (const id of Object.keys(nb)) {
    if (!(id in na)) continue;
    const changes = compare(flattenNode(na[id]), flattenNode(nb[id]));
    if (changes.length) changed.push({ id, title: titleOf(nb[id], id), type: typeOf(nb[id]), changes });
  }
  return { tree, added, removed, changed, same: !tree.length && !added.length && !removed.length && !changed.length };
}

/** Whether two nodes differ in anything but layout. */
export function sameNode(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return compare(flattenNode(a), flattenNode(b)).length === 0;
}

export interface TextPart {
  op: "same" | "del" | "add";
  text: string;
}

// Words (letters, digits, _), runs of spaces, line breaks and single punctuation marks: a
// changed word shows as that word, not as the whole sentence.
const TOKEN = /\r?\n|[^\S\r\n]+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
/** Above this many cells the word table would be slow; the diff goes line by line. */
const MAX_CELLS = 400_000;

function tokens(text: string, byLine: boolean): string[] {
  return byLine ? text.match(/[^\n]*\n|[^\n]+$/g) || [] : text.match(TOKEN) || [];
}

function push(out: TextPart[], op: TextPart["op"], text: string): void {
  if (!text) return;
  const last = out[out.length - 1];
  if (last && last.op === op) last.text += text;
  else out.push({ op, text });
}

/** A longest-common-subsequence diff of `a` and `b` over tokens, with the common head and
 * tail trimmed first; the deletions come before the additions at each change. Null when
 * what is left is too long for the table. */
function lcsDiff(a: string[], b: string[]): TextPart[] | null {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const n = x.length;
  const m = y.length;
  if (n * m > MAX_CELLS) return null;
  const out: TextPart[] = [];
  push(out, "same", a.slice(0, head).join(""));
  // lengths[i][j]: the longest common subsequence of x[i:] and y[j:].
  const lengths = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lengths[i][j] = x[i] === y[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
  let i = 0;
  let j = 0;
  let del = "";
  let add = "";
  const flush = () => {
    push(out, "del", del);
    push(out, "add", add);
    del = add = "";
  };
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      flush();
      push(out, "same", x[i]);
      i++;
      j++;
    } else if (j >= m || (i < n && lengths[i + 1][j] >= lengths[i][j + 1])) del += x[i++];
    else add += y[j++];
  }
  flush();
  push(out, "same", a.slice(a.length - tail).join(""));
  return out;
}

/** What changed inside a text, word by word (line by line for long texts): the parts in
 * order, each kept, deleted or added. Joining the kept and deleted parts gives `before`;
 * the kept and added ones give `after`. */
export function textDiff(before: string, after: string): TextPart[] {
  const parts = lcsDiff(tokens(before, false), tokens(after, false)) || lcsDiff(tokens(before, true), tokens(after, true));
  if (parts) return parts;
  const out: TextPart[] = [];
  push(out, "del", before);
  push(out, "add", after);
  return out;
}
