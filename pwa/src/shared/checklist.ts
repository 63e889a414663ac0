// The simplified checklist of a published tree, laid out for paper: the twin of
// api/trees/checklist.py, whose docstring holds the rules (a start page up to the first
// decision, one page per answer of it, every step numbered once, shared tails and loops
// referred to by number). tests/trees/test_checklist_parity.py checks both give the same
// layout, so the app prints offline exactly what the server prints.

type Obj = Record<string, unknown>;

export const CHECKLIST_SCHEMA_VERSION = 1;

export type ChecklistTarget = { step: number; page: number } | { missing: string | null };

export interface ChecklistAnswer {
  answer: string;
  label: string;
  to: ChecklistTarget;
}

export interface ChecklistStep {
  number: number;
  node_id: string;
  type: unknown;
  title: string;
  text: string | null;
  variable: string | null;
  outcome: unknown;
  answers: ChecklistAnswer[];
}

export interface ChecklistPage {
  number: number;
  title: string;
  opened_by: { step: number; answer: string; label: string } | null;
  steps: ChecklistStep[];
}

export interface ChecklistLayout {
  schema_version: number;
  title: string;
  pages: ChecklistPage[];
  unreachable: string[];
}

const QUESTION: [string, string][] = [
  ["yes", "Yes"],
  ["no", "No"],
];
const ACTION: [string, string][] = [
  ["done", "Done"],
  ["failed", "Failed"],
  ["skipped", "Skipped"],
];

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const own = (o: Obj, k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

function nodesOf(tree: Obj): Obj {
  const nodes = own(tree, "nodes");
  return isObj(nodes) ? nodes : {};
}

/** [answer id, label, next node id] of each answer a node offers, in the tree's order. */
export function answersOf(node: Obj): [string, string, unknown][] {
  const kind = own(node, "type");
  const next = own(node, "next");
  if (kind === "question" && isObj(next)) return QUESTION.filter(([a]) => own(next, a) !== undefined).map(([a, l]) => [a, l, next[a]]);
  if (kind === "action" && isObj(next)) return ACTION.filter(([a]) => own(next, a) !== undefined).map(([a, l]) => [a, l, next[a]]);
  if (kind === "choice") {
    const options = own(node, "options");
    if (!Array.isArray(options)) return [];
    return options.filter(isObj).map((o) => {
      const id = typeof own(o, "id") === "string" ? (o.id as string) : "";
      const label = typeof own(o, "label") === "string" && o.label ? (o.label as string) : id;
      return [id, label, own(o, "next")];
    });
  }
  if (kind === "input" && next !== undefined && next !== null) return [["submitted", "Noted", next]];
  return [];
}

function targets(node: Obj, nodes: Obj): string[] {
  const out: string[] = [];
  for (const [, , t] of answersOf(node)) {
    if (typeof t === "string" && own(nodes, t) !== undefined && !out.includes(t)) out.push(t);
  }
  return out;
}

function node(nodes: Obj, id: string): Obj {
  const n = nodes[id];
  return isObj(n) ? n : {};
}

function pagesOf(tree: Obj): [string | null, string[]][] {
  const nodes = nodesOf(tree);
  const start = own(tree, "start");
  if (typeof start !== "string" || own(nodes, start) === undefined) return [];
  const placed = new Set<string>();
  const trunk: string[] = [];
  let id: string | null = start;
  while (id !== null && !placed.has(id)) {
    trunk.push(id);
    placed.add(id);
    const ts = targets(node(nodes, id), nodes);
    id = ts.length === 1 ? ts[0] : null;
  }
  const pages: [string | null, string[]][] = [[null, trunk]];
  const decision = node(nodes, trunk[trunk.length - 1]);
  if (targets(decision, nodes).length < 2) return pages;
  for (const [answer, , target] of answersOf(decision)) {
    if (typeof target !== "string" || own(nodes, target) === undefined || placed.has(target)) continue;
    const order: string[] = [];
    const stack = [target];
    while (stack.length) {
      const current = stack.pop() as string;
      if (placed.has(current)) continue;
      placed.add(current);
      order.push(current);
      // Reversed onto the stack, so the first answer's steps come first.
      stack.push(...targets(node(nodes, current), nodes).reverse().filter((t) => !placed.has(t)));
    }
    pages.push([answer, order]);
  }
  return pages;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value : null;
}

/** The checklist of a tree document's body (e.g. a published version's `tree`). */
export function checklistLayout(tree: unknown): ChecklistLayout {
  const t = isObj(tree) ? tree : {};
  const nodes = nodesOf(t);
  const raw = pagesOf(t);
  const number = new Map<string, number>();
  const pageOf = new Map<string, number>();
  raw.forEach(([, ids], i) => {
    for (const id of ids) {
      number.set(id, number.size + 1);
      pageOf.set(id, i + 1);
    }
  });
  const decision = raw.length ? raw[0][1][raw[0][1].length - 1] : null;
  const pages = raw.map(([openedBy, ids], i): ChecklistPage => {
    let title = "Start";
    let opened: ChecklistPage["opened_by"] = null;
    if (openedBy !== null && decision !== null) {
      const label = answersOf(node(nodes, decision)).find(([a]) => a === openedBy)?.[1] ?? openedBy;
      title = `If ${label} at step ${number.get(decision)}`;
      opened = { step: number.get(decision) as number, answer: openedBy, label };
    }
    return { number: i + 1, title, opened_by: opened, steps: ids.map((id) => stepOf(id, nodes, number, pageOf)) };
  });
  const title = own(t, "title");
  return {
    schema_version: CHECKLIST_SCHEMA_VERSION,
    title: typeof title === "string" ? title : "",
    pages,
    unreachable: Object.keys(nodes)
      .filter((n) => !number.has(n))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}

function stepOf(id: string, nodes: Obj, number: Map<string, number>, pageOf: Map<string, number>): ChecklistStep {
  const n = node(nodes, id);
  const answers = answersOf(n).map(([answer, label, target]): ChecklistAnswer => ({
    answer,
    label,
    to: typeof target === "string" && number.has(target) ? { step: number.get(target) as number, page: pageOf.get(target) as number } : { missing: typeof target === "string" ? target : null },
  }));
  const resolution = own(n, "type") === "resolution";
  return {
    number: number.get(id) as number,
    node_id: id,
    type: own(n, "type") ?? null,
    title: text(own(n, "title")) ?? id,
    text: text(resolution ? own(n, "summary") : own(n, "body")),
    variable: text(own(n, "variable")),
    outcome: resolution ? (own(n, "outcome") ?? null) : null,
    answers,
  };
}

/** How an answer reads on paper: "go to step 4", "go back to step 1, page 1". */
export function gotoText(to: ChecklistTarget, from: number, page: number): string {
  if ("missing" in to) return `(the tree has no step “${to.missing ?? ""}”)`;
  const verb = to.step <= from ? "go back to" : "go to";
  return `${verb} step ${to.step}${to.page !== page ? `, page ${to.page}` : ""}`;
}
