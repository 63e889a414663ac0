// The tree as the editor changes it: small pure functions that take a tree and return a new
// one (the undo history keeps the old ones), plus the automatic layout.
import dagre from "@dagrejs/dagre";

export type NodeType = "question" | "choice" | "action" | "input" | "resolution";
export type Obj = Record<string, unknown>;
export interface TreeNode extends Obj {
  type: NodeType;
  title?: string;
  position?: { x: number; y: number } | null;
}
export interface TreeDoc extends Obj {
  _id: string;
  _rev?: string;
  title?: string;
  start?: string | null;
  nodes: Record<string, TreeNode>;
  /** Freshness (design_docs/DOCUMENTS.md): a review date (YYYY-MM-DD) or interval, not both. */
  review_by?: string | null;
  review_every_days?: number | null;
  /** Product versions the tree was written for, shown to engineers. */
  applies_to?: string[];
  /** When the content was last checked against `sources` (YYYY-MM-DD). */
  reviewed_at?: string | null;
  /** The pages the author checked for the whole tree. */
  sources?: { title: string; url: string }[];
}

/** The tree's sources as the settings panel edits them: one per line, the title then the URL. */
export function sourcesToText(sources: unknown): string {
  if (!Array.isArray(sources)) return "";
  return sources
    .filter(isObj)
    .map((s) => [typeof s.title === "string" ? s.title : "", typeof s.url === "string" ? s.url : ""].filter(Boolean).join(" "))
    .join("\n");
}

/** Lines back to sources: the last word of a line is its URL when it looks like one, the rest
 * its title; a line without an address keeps its text as the title (validation then asks for
 * an https URL), so nothing typed is lost. */
export function textToSources(text: string): { title: string; url: string }[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const m = /^(.*?)\s*(\S+:\/\/\S+)$/.exec(line);
      return m ? { title: m[1], url: m[2] } : { title: line, url: "" };
    });
}

export const NODE_W = 240;
export const NODE_H = 96;
/** Characters of an option's label per line in a card's option list, and a line's height. */
const OPTION_CHARS = 32;
const OPTION_LINE = 15;

/** The height a card needs: a choice lists its options in full under the title (a little
 * more than they take, so that a card never runs into the row below it). */
export function nodeHeight(node: unknown): number {
  if (!isObj(node) || node.type !== "choice" || !Array.isArray(node.options)) return NODE_H;
  let lines = 0;
  for (const o of node.options) lines += Math.max(1, Math.ceil(((isObj(o) && typeof o.label === "string" ? o.label : "").length + 3) / OPTION_CHARS));
  return NODE_H + lines * OPTION_LINE + node.options.length * 2 + 8;
}

export const TYPE_INFO: Record<NodeType, { label: string; hint: string; color: string; ring: string; dot: string }> = {
  question: { label: "Question", hint: "Yes / no", color: "bg-sky-50 text-sky-800 dark:bg-sky-950 dark:text-sky-200", ring: "ring-sky-300", dot: "bg-sky-500" },
  choice: { label: "Choice", hint: "2 to 12 options", color: "bg-violet-50 text-violet-800 dark:bg-violet-950 dark:text-violet-200", ring: "ring-violet-300", dot: "bg-violet-500" },
  action: { label: "Action", hint: "Done / failed / skipped", color: "bg-amber-50 text-amber-800 dark:bg-amber-950 dark:text-amber-200", ring: "ring-amber-300", dot: "bg-amber-500" },
  input: { label: "Input", hint: "Records a value", color: "bg-teal-50 text-teal-800 dark:bg-teal-950 dark:text-teal-200", ring: "ring-teal-300", dot: "bg-teal-500" },
  resolution: { label: "Resolution", hint: "Ends the path", color: "bg-emerald-50 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200", ring: "ring-emerald-300", dot: "bg-emerald-500" },
};
export const NODE_TYPES: NodeType[] = ["question", "choice", "action", "input", "resolution"];

export interface Answer {
  /** Handle id: yes, no, done, failed, skipped, next (input) or opt:<index> (choice). */
  key: string;
  label: string;
  target: string | null;
  log: string;
  optional?: boolean;
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** The answers a node offers, each with where it leads and its log sentence. */
export function answersOf(node: TreeNode): Answer[] {
  const next = isObj(node.next) ? node.next : {};
  const log = isObj(node.log) ? node.log : {};
  switch (node.type) {
    case "question":
      return ["yes", "no"].map((k) => ({ key: k, label: k === "yes" ? "Yes" : "No", target: str(next[k]) || null, log: str(log[k]) }));
    case "action":
      return ["done", "failed", "skipped"].map((k) => ({ key: k, label: k[0].toUpperCase() + k.slice(1), target: str(next[k]) || null, log: str(log[k]), optional: k === "skipped" }));
    case "choice":
      return (Array.isArray(node.options) ? node.options : []).map((o, i) => ({
        key: `opt:${i}`,
        label: isObj(o) ? str(o.label) || str(o.id) || `Option ${i + 1}` : `Option ${i + 1}`,
        target: isObj(o) ? str(o.next) || null : null,
        log: isObj(o) ? str(o.log) : "",
      }));
    case "input":
      return [{ key: "next", label: "Continue", target: typeof node.next === "string" ? node.next || null : null, log: str(node.log) }];
    default:
      return [];
  }
}

/** The node with answer `key` leading to `target` (null clears it). */
export function withNext(node: TreeNode, key: string, target: string | null): TreeNode {
  if (key.startsWith("opt:")) {
    const i = Number(key.slice(4));
    const options = [...((node.options as Obj[]) || [])];
    options[i] = { ...options[i], next: target };
    return { ...node, options };
  }
  if (key === "next") return { ...node, next: target };
  return { ...node, next: { ...(isObj(node.next) ? node.next : {}), [key]: target } };
}

export function withLog(node: TreeNode, key: string, text: string): TreeNode {
  if (key.startsWith("opt:")) {
    const i = Number(key.slice(4));
    const options = [...((node.options as Obj[]) || [])];
    options[i] = { ...options[i], log: text };
    return { ...node, options };
  }
  if (key === "next") return { ...node, log: text };
  return { ...node, log: { ...(isObj(node.log) ? node.log : {}), [key]: text } };
}

export function setNode(tree: TreeDoc, id: string, node: TreeNode): TreeDoc {
  return { ...tree, nodes: { ...tree.nodes, [id]: node } };
}

export function slug(text: string, fallback = "step"): string {
  const s = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return s || fallback;
}

export function uniqueId(tree: TreeDoc, base: string): string {
  const b = slug(base);
  if (!(b in tree.nodes)) return b;
  for (let i = 2; ; i++) if (!(`${b}-${i}` in tree.nodes)) return `${b}-${i}`;
}

/** A new node of `type` with the fields an author fills in, and sensible starting text. */
export function newNode(type: NodeType, title = ""): TreeNode {
  switch (type) {
    case "question":
      return { type, title, body: "", next: { yes: null, no: null }, log: { yes: "", no: "" } };
    case "action":
      return { type, title, body: "", next: { done: null, failed: null }, log: { done: "", failed: "" } };
    case "choice":
      return {
        type,
        title,
        body: "",
        options: [
          { id: "option-1", label: "", next: null, log: "" },
          { id: "option-2", label: "", next: null, log: "" },
        ],
      };
    case "input":
      return { type, title, body: "", variable: "", next: null, log: "" };
    case "resolution":
      return { type, title, outcome: "resolved", summary: "" };
  }
}

/** Change a node's type, keeping what carries over (title, body, help, links, commands). */
export function changeType(node: TreeNode, type: NodeType): TreeNode {
  if (node.type === type) return node;
  const fresh = newNode(type, str(node.title));
  for (const k of ["body", "help", "links", "commands", "warning", "position"]) if (k in node) fresh[k] = node[k];
  const old = answersOf(node).filter((a) => a.target);
  let i = 0;
  for (const a of answersOf(fresh)) {
    if (i < old.length) {
      Object.assign(fresh, withLog(withNext(fresh, a.key, old[i].target), a.key, old[i].log));
      i++;
    }
  }
  return fresh;
}

/** Add `node` under a fresh id made from `base`; answers the tree and the id. */
export function addNode(tree: TreeDoc, base: string, node: TreeNode): [TreeDoc, string] {
  const id = uniqueId(tree, base);
  const t = setNode(tree, id, node);
  if (!t.start) t.start = id;
  return [t, id];
}

/** Remove a node; answers that led to it lose their `next` (validation then points them out). */
export function removeNode(tree: TreeDoc, id: string): TreeDoc {
  const nodes: Record<string, TreeNode> = {};
  for (const [k, n] of Object.entries(tree.nodes)) {
    if (k === id) continue;
    let m = n;
    for (const a of answersOf(n)) if (a.target === id) m = withNext(m, a.key, null);
    nodes[k] = m;
  }
  return { ...tree, nodes, start: tree.start === id ? null : tree.start };
}

/** Rename a node and every reference to it. */
export function renameNode(tree: TreeDoc, from: string, to: string): TreeDoc {
  if (from === to || to in tree.nodes) return tree;
  const nodes: Record<string, TreeNode> = {};
  for (const [k, n] of Object.entries(tree.nodes)) {
    let m = n;
    for (const a of answersOf(n)) if (a.target === from) m = withNext(m, a.key, to);
    nodes[k === from ? to : k] = m;
  }
  return { ...tree, nodes, start: tree.start === from ? to : tree.start };
}

export function duplicateNode(tree: TreeDoc, id: string): [TreeDoc, string] {
  const n = tree.nodes[id];
  const copy: TreeNode = JSON.parse(JSON.stringify(n));
  if (n.position) copy.position = { x: n.position.x + 40, y: n.position.y + NODE_H + 40 };
  copy.title = `${str(n.title)} (copy)`;
  return addNode(tree, id, copy);
}

/**
 * Turn an engineer's custom step into a real action node placed before `at` (where the
 * engineer added it): every answer that led to `at` now leads to the new step, which
 * continues to `at` when done or failed.
 */
export function insertStepBefore(tree: TreeDoc, at: string, text: string): [TreeDoc, string] {
  const title = text.trim().replace(/\.$/, "");
  const node: TreeNode = {
    type: "action",
    title,
    body: "",
    next: { done: at, failed: at },
    log: { done: text.trim().endsWith(".") ? text.trim() : `${text.trim()}.`, failed: `Tried: ${title}; it did not work.` },
  };
  const pos = tree.nodes[at]?.position;
  if (pos) node.position = { x: pos.x - NODE_W - 60, y: pos.y - 20 };
  const id = uniqueId(tree, title);
  const nodes: Record<string, TreeNode> = {};
  for (const [k, n] of Object.entries(tree.nodes)) {
    let m = n;
    for (const a of answersOf(n)) if (a.target === at) m = withNext(m, a.key, id);
    nodes[k] = m;
  }
  nodes[id] = node;
  return [{ ...tree, nodes, start: tree.start === at ? id : tree.start }, id];
}

export interface Edge {
  from: string;
  key: string;
  label: string;
  to: string;
}

export function edgesOf(tree: TreeDoc): Edge[] {
  const out: Edge[] = [];
  for (const [id, n] of Object.entries(tree.nodes)) {
    if (!isObj(n)) continue;
    for (const a of answersOf(n)) if (a.target && a.target in tree.nodes) out.push({ from: id, key: a.key, label: a.label, to: a.target });
  }
  return out;
}

const DAGRE_MAX = 300;

/**
 * Top-to-bottom layout for every node; answers positions by node id. Dagre for trees of
 * ordinary size; large ones (and any dagre cannot handle: its ordering recurses once per
 * rank) get a linear layered layout: rows by distance from the start, each row ordered by
 * where its parents sit.
 */
export function layout(tree: TreeDoc): Record<string, { x: number; y: number }> {
  if (Object.keys(tree.nodes).length > DAGRE_MAX) return layeredLayout(tree);
  try {
    return dagreLayout(tree);
  } catch {
    return layeredLayout(tree);
  }
}

export function layeredLayout(tree: TreeDoc): Record<string, { x: number; y: number }> {
  const ids = Object.keys(tree.nodes);
  const succ = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of edgesOf(tree)) succ.get(e.from)!.push(e.to);
  const depth = new Map<string, number>();
  const rows: string[][] = [];
  const place = (id: string, d: number) => {
    depth.set(id, d);
    (rows[d] ||= []).push(id);
  };
  const roots = [typeof tree.start === "string" && tree.start in tree.nodes ? tree.start : null, ...ids].filter((x): x is string => !!x);
  for (const root of roots) {
    if (depth.has(root)) continue;
    let frontier = [root];
    place(root, rows.length);
    while (frontier.length) {
      const next: string[] = [];
      for (const u of frontier) for (const v of succ.get(u)!) if (!depth.has(v)) {
        place(v, depth.get(u)! + 1);
        next.push(v);
      }
      frontier = next;
    }
  }
  const out: Record<string, { x: number; y: number }> = {};
  let top = 0;
  for (const row of rows) {
    row.forEach((id, i) => {
      out[id] = { x: Math.round((i - (row.length - 1) / 2) * (NODE_W + 40)), y: top };
    });
    top += Math.max(...row.map((id) => nodeHeight(tree.nodes[id]))) + 70;
  }
  return out;
}

function dagreLayout(tree: TreeDoc): Record<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const [id, n] of Object.entries(tree.nodes)) g.setNode(id, { width: NODE_W, height: nodeHeight(n) });
  for (const e of edgesOf(tree)) if (e.from !== e.to) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const out: Record<string, { x: number; y: number }> = {};
  for (const id of Object.keys(tree.nodes)) {
    const p = g.node(id);
    out[id] = { x: Math.round(p.x - NODE_W / 2), y: Math.round(p.y - nodeHeight(tree.nodes[id]) / 2) };
  }
  return out;
}

/** The tree with every node placed by `layout` (for trees that carry no positions). */
export function withLayout(tree: TreeDoc, onlyMissing = false): TreeDoc {
  if (onlyMissing && Object.values(tree.nodes).every((n) => !isObj(n) || n.position)) return tree;
  const pos = layout(tree);
  const nodes: Record<string, TreeNode> = {};
  for (const [id, n] of Object.entries(tree.nodes)) nodes[id] = isObj(n) && (!onlyMissing || !n.position) ? { ...n, position: pos[id] } : n;
  return { ...tree, nodes };
}

/** The draft without revision metadata: what the export file holds. */
export function exportable(tree: TreeDoc): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(tree)) if (!k.startsWith("_") || k === "_id") out[k] = v;
  return out;
}

/** The nearest spot at or right of `want` (then below) where a new card overlaps no other. */
export function freeSpot(tree: TreeDoc, want: { x: number; y: number }): { x: number; y: number } {
  const boxes = Object.values(tree.nodes)
    .map((n) => (isObj(n) && n.position ? n.position : null))
    .filter((p): p is { x: number; y: number } => !!p);
  const clear = (p: { x: number; y: number }) => boxes.every((b) => Math.abs(b.x - p.x) >= NODE_W + 30 || Math.abs(b.y - p.y) >= NODE_H + 30);
  for (let row = 0; row < 20; row++) {
    for (let col = 0; col < 12; col++) {
      for (const dir of col === 0 ? [0] : [1, -1]) {
        const p = { x: want.x + dir * col * (NODE_W + 40), y: want.y + row * (NODE_H + 60) };
        if (clear(p)) return p;
      }
    }
  }
  return want;
}
