// Is a tree complete and runnable? A port of api/trees/validation.py: the same rules, the
// same problem codes, the same node ids and (where JavaScript allows) the same messages, so
// the editor shows exactly what publishing would refuse. tests/trees/test_validation_parity.py
// checks both against each other on seeds, fixtures and random mutations.
//
// Python's pydantic shape check is reproduced by a small table of the tree format's models
// (SHAPES below); Python details that change results are reproduced on purpose: `str.strip()`
// and `\s` whitespace, `$` matching before a final newline in `re`, lengths in code points,
// and `urllib.parse.urlsplit` for links. Values in messages are JSON text on both sides.

export interface Problem {
  node_id: string | null;
  code: string;
  message: string;
}

export const LIMITS = {
  title: 200,
  description: 5_000,
  category: 100,
  tag: 50,
  applies_to: 80,
  applies_to_entries: 20,
  review_days: 3650,
  body: 20_000,
  help: 10_000,
  warning: 2_000,
  log: 1_000,
  label: 200,
  option_id: 64,
  command: 10_000,
  url: 2_000,
  summary: 5_000,
  root_cause: 5_000,
  verification: 5_000,
  sources: 50,
  handover: 10_000,
  nodes: 2_000,
  min_options: 2,
  max_options: 12,
} as const;

export const NODE_TYPES = ["question", "choice", "action", "input", "resolution"] as const;
export const OUTCOMES = ["resolved", "escalated", "unresolved"] as const;

/** Codes that keep a body from being stored even as a draft (the server refuses it). */
export const SHAPE_CODES = new Set(["not_an_object", "invalid_field", "unknown_field", "unknown_node_type", "invalid_tree_id", "too_many_nodes", "invalid_node_id"]);

// --- Python semantics ---------------------------------------------------------------------

const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WS_CLASS = `[${PY_WS}]`;
const STRIP_RE = new RegExp(`^${WS_CLASS}+|${WS_CLASS}+$`, "g");
const NODE_ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}\n?$/; // Python's `$` also matches before a final "\n"
const VARIABLE_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}\n?$/;
// The script library's forms (api/scripts/models.py); matched whole, as Python's fullmatch.
const SCRIPT_ID_RE = /^script:[a-z0-9][a-z0-9_-]{0,63}$/;
const PARAM_NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const TREE_ID_RE = /^tree:[a-z0-9][a-z0-9_-]{0,63}$/; // pydantic's (Rust) regex: no final-newline rule
const INNER_RE = new RegExp(`^${WS_CLASS}*(input|client)\\.([A-Za-z_][A-Za-z0-9_]{0,63})${WS_CLASS}*$`);

function pyStrip(s: string): string {
  return s.replace(STRIP_RE, "");
}

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function has(o: Obj, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}
function get(o: Json, k: string): Json {
  return isObj(o) && has(o, k) ? o[k] : undefined;
}
function isNone(v: Json): boolean {
  return v === null || v === undefined;
}
/** A calendar date written YYYY-MM-DD (the only form `review_by` takes). */
export function isReviewDate(text: string): boolean {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1) return false;
  const at = new Date(Date.UTC(2000, mo - 1, d));
  at.setUTCFullYear(y);
  return at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === d;
}

function blank(v: Json): boolean {
  return isNone(v) || (typeof v === "string" && pyStrip(v) === "");
}
function asObj(v: Json): Obj {
  return isObj(v) ? v : {};
}
function asList(v: Json): Json[] {
  return Array.isArray(v) ? v : [];
}

/** Length in code points, as Python's len(). */
export function pyLen(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function cpSlice(s: string, start: number, count: number): string {
  return Array.from(s.slice(start)).slice(0, count).join("");
}

function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A value as messages show it: JSON text, as `quoted` in api/trees/validation.py writes it. */
export function quoted(v: Json | undefined): string {
  return JSON.stringify(v ?? null);
}

// --- placeholders (api/trees/variables.py) ------------------------------------------------

export interface Placeholder {
  namespace: "input" | "client";
  name: string;
  start: number;
  end: number;
  raw: string;
}
export interface Malformed {
  start: number;
  end: number;
  raw: string;
  reason: string;
  closed: boolean;
}

const NOT_CLOSED = "it is opened with '{{' but never closed with '}}'";
const BAD_SYNTAX = "placeholders are written {{input.NAME}} or {{client.NAME}}, NAME being letters, digits and _ (not starting with a digit)";

export function scanPlaceholders(text: string): { good: Placeholder[]; bad: Malformed[] } {
  const good: Placeholder[] = [];
  const bad: Malformed[] = [];
  let pos = text.indexOf("{{");
  while (pos !== -1) {
    const close = text.indexOf("}}", pos + 2);
    if (close === -1) {
      bad.push({ start: pos, end: text.length, raw: cpSlice(text, pos, 40), reason: NOT_CLOSED, closed: false });
      break;
    }
    const reopened = text.indexOf("{{", pos + 2);
    if (reopened !== -1 && reopened < close) {
      bad.push({ start: pos, end: reopened, raw: text.slice(pos, reopened), reason: NOT_CLOSED, closed: false });
      pos = reopened;
      continue;
    }
    const end = close + 2;
    const raw = text.slice(pos, end);
    const m = INNER_RE.exec(text.slice(pos + 2, close));
    if (m) good.push({ namespace: m[1] as "input" | "client", name: m[2], start: pos, end, raw });
    else bad.push({ start: pos, end, raw, reason: BAD_SYNTAX, closed: true });
    pos = text.indexOf("{{", end);
  }
  return { good, bad };
}

// --- urllib.parse.urlsplit(...).scheme / .hostname ----------------------------------------

// eslint-disable-next-line no-control-regex -- urlsplit strips C0 control characters: matching them is the point
const C0_OR_SPACE = /^[\x00-\x20]+/;
const SCHEME_CHARS = /^[A-Za-z0-9+\-.]+$/;

function validIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && !(p.length > 1 && p[0] === "0"));
}

function validIPv6(s: string): boolean {
  const pct = s.indexOf("%");
  if (pct !== -1) {
    if (pct === s.length - 1) return false;
    s = s.slice(0, pct);
  }
  let groups = 8;
  let body = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    if (!validIPv4(s.slice(lastColon + 1))) return false;
    body = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const parse = (h: string) => (h === "" ? [] : h.split(":"));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (![...head, ...tail].every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const n = head.length + tail.length;
  if (halves.length === 2) return n <= groups - 1;
  groups = 8;
  return n === groups;
}

function checkNetloc(netloc: string): void {
  // eslint-disable-next-line no-control-regex -- "all ASCII", control characters included, as Python's isascii()
  if (!netloc || /^[\x00-\x7f]*$/.test(netloc)) return;
  const n = netloc.replace(/[@:#?]/g, "");
  const n2 = n.normalize("NFKC");
  if (n === n2) return;
  if (/[/?#@:]/.test(n2)) throw new Error("netloc contains invalid characters under NFKC normalization");
}

/** Whether Python's `urlsplit(url.strip())` has scheme "https" and a hostname (a throw is a ValueError). */
export function isHttpsUrl(url: string): boolean {
  try {
    let u = pyStrip(url).replace(C0_OR_SPACE, "").replace(/[\t\r\n]/g, "");
    let scheme = "";
    let netloc = "";
    const i = u.indexOf(":");
    if (i > 0 && /^[A-Za-z]/.test(u[0]) && SCHEME_CHARS.test(u.slice(0, i))) {
      scheme = u.slice(0, i).toLowerCase();
      u = u.slice(i + 1);
    }
    if (u.startsWith("//")) {
      let delim = u.length;
      for (const c of "/?#") {
        const w = u.indexOf(c, 2);
        if (w >= 0) delim = Math.min(delim, w);
      }
      netloc = u.slice(2, delim);
      const open = netloc.includes("[");
      const close = netloc.includes("]");
      if (open !== close) return false;
      if (open && close) {
        const host = netloc.split("[").slice(1).join("[").split("]")[0];
        if (host.startsWith("v")) {
          if (!/^v[a-fA-F0-9]+\..+$/s.test(host)) return false;
        } else if (!validIPv6(host)) {
          if (validIPv4(host)) return false;
          return false;
        }
      }
    }
    checkNetloc(netloc);
    const hostinfo = netloc.slice(netloc.lastIndexOf("@") + 1);
    const br = hostinfo.indexOf("[");
    const hostname = br !== -1 ? hostinfo.slice(br + 1).split("]")[0] : hostinfo.split(":")[0];
    return scheme === "https" && hostname !== "";
  } catch {
    return false;
  }
}

// --- shape (the pydantic models in api/trees/models.py) -----------------------------------

type Spec =
  | { k: "str" }
  | { k: "strOpt" }
  | { k: "bool" }
  | { k: "float" }
  | { k: "intOpt" }
  | { k: "list"; item: Spec }
  | { k: "dictStr" }
  | { k: "model"; model: string; opt?: boolean }
  | { k: "lit"; values: string[]; opt?: boolean }
  | { k: "const" };

const S: Spec = { k: "str" };
const SO: Spec = { k: "strOpt" };
const model = (m: string, opt = false): Spec => ({ k: "model", model: m, opt });

const NODE_BASE: [string, Spec][] = [
  ["title", S],
  ["body", S],
  ["help", S],
  ["links", { k: "list", item: model("Link") }],
  ["commands", { k: "list", item: model("Command") }],
  ["warning", SO],
  ["position", model("Position", true)],
];
const TYPE: [string, Spec] = ["type", { k: "const" }];

const SHAPES: Record<string, [string, Spec][]> = {
  Link: [["title", S], ["url", S]],
  Command: [["language", S], ["text", S]],
  Position: [["x", { k: "float" }], ["y", { k: "float" }]],
  YesNoNext: [["yes", SO], ["no", SO]],
  YesNoLog: [["yes", S], ["no", S]],
  ActionNext: [["done", SO], ["failed", SO], ["skipped", SO]],
  ActionLog: [["done", S], ["failed", S], ["skipped", S]],
  ChoiceOption: [["id", S], ["label", S], ["next", SO], ["log", S]],
  question: [...NODE_BASE, TYPE, ["next", model("YesNoNext")], ["log", model("YesNoLog")]],
  choice: [...NODE_BASE, TYPE, ["options", { k: "list", item: model("ChoiceOption") }]],
  ScriptRef: [["id", S], ["parameters", { k: "dictStr" }]],
  action: [...NODE_BASE, TYPE, ["next", model("ActionNext")], ["log", model("ActionLog")], ["script", model("ScriptRef", true)]],
  input: [...NODE_BASE, TYPE, ["variable", S], ["save_to_client", SO], ["next", SO], ["log", S]],
  resolution: [...NODE_BASE, TYPE, ["outcome", { k: "lit", values: [...OUTCOMES], opt: true }], ["summary", S], ["root_cause", SO], ["verification", SO], ["handover", SO]],
};
const TREE_FIELDS = ["type", "schema_version", "title", "description", "category", "tags", "start", "nodes", "archived", "review_by", "review_every_days", "applies_to", "reviewed_at", "sources", "_id", "_rev"];
const COUCH_METADATA = new Set(["_deleted", "_attachments", "_conflicts", "_deleted_conflicts", "_revisions", "_revs_info", "_local_seq"]);
const FORMAT_HINT = "See 'Tree format (v1)' in DESIGN.md for the expected shape.";
const HINTS: Record<string, string> = {
  string_type: "Enter text here (a JSON string).",
  list_type: "Use a list ([...]) here.",
  dict_type: "Use an object ({...}) here.",
  model_type: "Use an object ({...}) here.",
  model_attributes_type: "Use an object ({...}) here.",
  bool_type: "Use true or false here.",
  literal_error: "Use one of the values listed.",
  missing: "Add it.",
};

type Path = (string | number)[];
interface ShapeError {
  loc: Path;
  kind: string;
  msg: string;
}

function dotted(path: Path): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : String(part);
  return out;
}

function checkValue(value: Json, spec: Spec, loc: Path, errs: ShapeError[]): void {
  switch (spec.k) {
    case "str":
      if (typeof value !== "string") errs.push({ loc, kind: "string_type", msg: "Input should be a valid string" });
      return;
    case "strOpt":
      if (value !== null && typeof value !== "string") errs.push({ loc, kind: "string_type", msg: "Input should be a valid string" });
      return;
    case "bool":
      if (typeof value !== "boolean") errs.push({ loc, kind: "bool_type", msg: "Input should be a valid boolean" });
      return;
    case "float":
      if (typeof value !== "number") errs.push({ loc, kind: "float_type", msg: "Input should be a valid number" });
      return;
    case "intOpt":
      if (value !== null && !(typeof value === "number" && Number.isInteger(value))) errs.push({ loc, kind: "int_type", msg: "Input should be a valid integer" });
      return;
    case "list":
      if (!Array.isArray(value)) errs.push({ loc, kind: "list_type", msg: "Input should be a valid list" });
      else value.forEach((item, i) => checkValue(item, spec.item, [...loc, i], errs));
      return;
    case "dictStr":
      if (!isObj(value)) errs.push({ loc, kind: "dict_type", msg: "Input should be a valid dictionary" });
      else for (const key of Object.keys(value)) checkValue(value[key], S, [...loc, key], errs);
      return;
    case "model":
      if (spec.opt && value === null) return;
      if (!isObj(value)) errs.push({ loc, kind: "model_type", msg: `Input should be a valid dictionary or instance of ${spec.model}` });
      else checkModel(value, SHAPES[spec.model], loc, errs);
      return;
    case "lit":
      if (spec.opt && value === null) return;
      if (typeof value !== "string" || !spec.values.includes(value)) {
        const vals = spec.values.map((v) => `'${v}'`);
        const msg = vals.length > 1 ? `${vals.slice(0, -1).join(", ")} or ${vals[vals.length - 1]}` : vals[0];
        errs.push({ loc, kind: "literal_error", msg: `Input should be ${msg}` });
      }
      return;
    case "const":
      return;
  }
}

function checkModel(obj: Obj, fields: [string, Spec][], loc: Path, errs: ShapeError[]): void {
  const known = new Set<string>();
  for (const [name, spec] of fields) {
    known.add(name);
    if (has(obj, name)) checkValue(obj[name], spec, [...loc, name], errs);
  }
  for (const key of Object.keys(obj)) if (!known.has(key)) errs.push({ loc: [...loc, key], kind: "extra_forbidden", msg: "Extra inputs are not permitted" });
}

function shapeErrors(doc: Obj): ShapeError[] {
  const errs: ShapeError[] = [];
  const str = (name: string, loc = name) => {
    if (has(doc, name) && typeof doc[name] !== "string") errs.push({ loc: [loc], kind: "string_type", msg: "Input should be a valid string" });
  };
  if (has(doc, "type") && doc.type !== "tree") errs.push({ loc: ["type"], kind: "literal_error", msg: "Input should be 'tree'" });
  if (has(doc, "schema_version")) {
    const v = doc.schema_version;
    if (typeof v === "boolean") errs.push({ loc: ["schema_version"], kind: "value_error", msg: "Value error, schema_version must be an integer" });
    else if (v !== 1) errs.push({ loc: ["schema_version"], kind: "literal_error", msg: "Input should be 1" });
  }
  str("title");
  str("description");
  str("category");
  if (has(doc, "tags")) checkValue(doc.tags, { k: "list", item: S }, ["tags"], errs);
  if (has(doc, "start")) checkValue(doc.start, SO, ["start"], errs);
  if (has(doc, "nodes")) {
    const nodes = doc.nodes;
    if (!isObj(nodes)) errs.push({ loc: ["nodes"], kind: "dict_type", msg: "Input should be a valid dictionary" });
    else
      for (const id of Object.keys(nodes)) {
        const node = nodes[id];
        if (!isObj(node)) {
          errs.push({ loc: ["nodes", id], kind: "model_attributes_type", msg: "Input should be a valid dictionary or object to extract fields from" });
          continue;
        }
        if (!has(node, "type")) {
          errs.push({ loc: ["nodes", id], kind: "union_tag_not_found", msg: "" });
          continue;
        }
        const t = node.type;
        if (typeof t !== "string" || !(NODE_TYPES as readonly string[]).includes(t)) {
          errs.push({ loc: ["nodes", id], kind: "union_tag_invalid", msg: "" });
          continue;
        }
        checkModel(node, SHAPES[t], ["nodes", id, t], errs);
      }
  }
  if (has(doc, "archived")) checkValue(doc.archived, { k: "bool" }, ["archived"], errs);
  if (has(doc, "review_by")) checkValue(doc.review_by, SO, ["review_by"], errs);
  if (has(doc, "review_every_days")) checkValue(doc.review_every_days, { k: "intOpt" }, ["review_every_days"], errs);
  if (has(doc, "applies_to")) checkValue(doc.applies_to, { k: "list", item: S }, ["applies_to"], errs);
  if (has(doc, "reviewed_at")) checkValue(doc.reviewed_at, SO, ["reviewed_at"], errs);
  if (has(doc, "sources")) checkValue(doc.sources, { k: "list", item: model("Link") }, ["sources"], errs);
  // `_id`/`_rev` may also be sent by field name (`id`, `rev`) when the alias is absent.
  for (const [alias, name] of [
    ["_id", "id"],
    ["_rev", "rev"],
  ]) {
    const key = has(doc, alias) ? alias : has(doc, name) ? name : null;
    if (key === null) continue;
    const v = doc[key];
    if (v === null) continue;
    if (typeof v !== "string") errs.push({ loc: [key], kind: "string_type", msg: "Input should be a valid string" });
    else if (alias === "_id" && !TREE_ID_RE.test(v)) errs.push({ loc: [key], kind: "string_pattern_mismatch", msg: "String should match pattern '^tree:[a-z0-9][a-z0-9_-]{0,63}$'" });
  }
  for (const key of Object.keys(doc)) {
    if (TREE_FIELDS.includes(key) || COUCH_METADATA.has(key)) continue;
    if ((key === "id" && !has(doc, "_id")) || (key === "rev" && !has(doc, "_rev"))) continue;
    errs.push({ loc: [key], kind: "extra_forbidden", msg: "Extra inputs are not permitted" });
  }
  return errs;
}

function allowedFields(modelFields: [string, Spec][] | null, path: Path): string[] {
  let fields = modelFields;
  for (const part of path.slice(0, -1)) {
    if (fields === null) return [];
    if (typeof part === "number") continue;
    const f = fields.find(([name]) => name === part);
    let spec = f ? f[1] : null;
    while (spec && spec.k === "list") spec = spec.item;
    fields = spec && spec.k === "model" ? SHAPES[spec.model] : null;
  }
  return fields ? fields.map(([name]) => name) : [];
}

function shapeProblems(doc: Obj): Problem[] {
  const out: Problem[] = [];
  // Only the shape of `sources` matters here: it names the allowed fields of a source.
  const treeFields: [string, Spec][] = TREE_FIELDS.map((f) => [f, f === "sources" ? { k: "list", item: model("Link") } : S]);
  for (const err of shapeErrors(doc)) {
    const loc = err.loc;
    let nodeId: string | null = null;
    let nodeType: string | null = null;
    let path = loc;
    if (loc.length >= 2 && loc[0] === "nodes") {
      nodeId = String(loc[1]);
      path = loc.slice(2);
      if (path.length && (NODE_TYPES as readonly Json[]).includes(path[0])) {
        nodeType = String(path[0]);
        path = path.slice(1);
      }
    }
    // Python tests the id's truth here, so a node called "" reads as the tree (kept for parity).
    const where = path.length ? `Field \`${dotted(path)}\`` : nodeId ? "Node" : "The tree";
    const node = nodeId !== null ? get(get(doc, "nodes"), nodeId) : undefined;
    if (err.kind === "union_tag_not_found" || err.kind === "union_tag_invalid") {
      const got = get(node, "type");
      out.push({ node_id: nodeId, code: "unknown_node_type", message: (!isNone(got) ? `Node type ${quoted(got)} is not known. ` : "Node has no `type`. ") + `Set \`type\` to one of: ${NODE_TYPES.join(", ")}.` });
    } else if (err.kind === "extra_forbidden") {
      const allowed = allowedFields(nodeId ? (nodeType ? SHAPES[nodeType] : null) : treeFields, path);
      out.push({ node_id: nodeId, code: "unknown_field", message: `${where} is not part of the tree format. Remove it or fix its spelling` + (allowed.length ? `; allowed here: ${allowed.join(", ")}.` : ".") });
    } else if (path.length && path[path.length - 1] === "outcome" && nodeType === "resolution") {
      out.push({ node_id: nodeId, code: "invalid_outcome", message: `Outcome ${quoted(get(node, "outcome"))} is not allowed. Use one of: ${OUTCOMES.join(", ")}.` });
    } else if (loc.length === 1 && loc[0] === "_id") {
      out.push({ node_id: null, code: "invalid_tree_id", message: `The tree id ${quoted(doc._id)} is malformed. Use \`tree:\` followed by a slug of lowercase letters, digits, _ and -, e.g. \`tree:citrix-vda-registration\`.` });
    } else {
      out.push({ node_id: nodeId, code: "invalid_field", message: `${where}: ${err.msg}. ${HINTS[err.kind] ?? FORMAT_HINT}` });
    }
  }
  return out;
}

// --- per-node checks and graph passes -----------------------------------------------------

const REQUIRED_ANSWERS: Record<string, string[]> = { question: ["yes", "no"], action: ["done", "failed"] };
const OPTIONAL_ANSWERS: Record<string, string[]> = { question: [], action: ["skipped"] };
const ANSWER_LABELS: Record<string, string> = { yes: "Yes", no: "No", done: "Done", failed: "Failed", skipped: "Skipped" };
// Answers are named as the editor labels them, so a message says where to click rather than
// which JSON field is wrong: [the answer, its log sentence, the box for its target].
function answerNames(answer: string): [string, string, string] {
  const label = ANSWER_LABELS[answer];
  return [`The answer ${label}`, `The log sentence of ${label}`, `${label} leads to`];
}

class Checker {
  nodes: Obj;
  ids: string[];
  problems: Problem[] = [];
  index = new Map<string, number>();
  succ: number[][];
  isResolution: boolean[];
  genVar: (string | null)[];
  inputRefs: [number, string, string, boolean][] = [];

  constructor(public doc: Obj) {
    this.nodes = asObj(doc.nodes);
    this.ids = Object.keys(this.nodes);
    this.ids.forEach((id, i) => this.index.set(id, i));
    this.succ = this.ids.map(() => []);
    // Unreadable nodes count as reaching a resolution: their own problem is reported.
    this.isResolution = this.ids.map((id) => {
      const n = this.nodes[id];
      return !(isObj(n) && typeof n.type === "string" && (NODE_TYPES as readonly string[]).includes(n.type));
    });
    this.genVar = this.ids.map(() => null);
  }

  add(nodeId: string | null, code: string, message: string): void {
    this.problems.push({ node_id: nodeId, code, message });
  }

  text(nodeId: string | null, field: string, value: Json, limit: number, ownVar = false): void {
    if (typeof value !== "string" || !value) return;
    if (value.length > limit) {
      const n = pyLen(value);
      if (n > limit) this.add(nodeId, "text_too_long", `${field} has ${thousands(n)} characters; the limit is ${thousands(limit)}. Shorten it, or move detail into the body, help or links.`);
    }
    if (!value.includes("{{")) return;
    const { good, bad } = scanPlaceholders(value);
    for (const item of bad) this.add(nodeId, "malformed_placeholder", `${field} contains ${quoted(item.raw)}, which is not a valid placeholder: ${item.reason}. Write {{input.NAME}} or {{client.NAME}}.`);
    if (nodeId === null) return;
    for (const ph of good) if (ph.namespace === "input") this.inputRefs.push([this.index.get(nodeId)!, field, ph.name, ownVar]);
  }

  /** Record one answer's target (`what` names the answer, `box` the editor's field for it). */
  edge(nodeId: string, what: string, target: Json, box: string, required = true): void {
    if (typeof target === "string" && this.index.has(target)) {
      this.succ[this.index.get(nodeId)!].push(this.index.get(target)!);
      return;
    }
    if (blank(target)) {
      if (required) this.add(nodeId, "missing_next", `${what} does not lead to any step yet. Choose the next step under "${box}", or drag from its dot on the graph onto a step.`);
      return;
    }
    if (typeof target === "string") this.add(nodeId, "dangling_next", `${what} leads to ${quoted(target)}, which is not a step in this tree (deleted or renamed?). Choose an existing step under "${box}", or create a step with the id ${quoted(target)}.`);
  }

  log(nodeId: string, field: string, value: Json, ownVar = false): void {
    if (blank(value)) this.add(nodeId, "empty_log", `${field} is empty. Write what the engineer did, in the past tense, e.g. "Restarted the print spooler.": the exported notes are built from these sentences.`);
    this.text(nodeId, field, value, LIMITS.log, ownVar);
  }

  checkTreeFields(): void {
    const doc = this.doc;
    if (blank(doc.title)) this.add(null, "empty_title", 'The tree has no title. Name the symptom an engineer would search for, e.g. "Citrix VDA Not Registering".');
    this.text(null, "The tree title", doc.title, LIMITS.title);
    this.text(null, "The description", doc.description, LIMITS.description);
    this.text(null, "The category", doc.category, LIMITS.category);
    asList(doc.tags).forEach((tag, i) => this.text(null, `Tag ${i + 1}`, tag, LIMITS.tag));
    this.checkReview();
    this.checkAppliesTo();
    this.checkSources();
    if (this.ids.length > LIMITS.nodes) this.add(null, "too_many_nodes", `The tree has ${thousands(this.ids.length)} nodes; the limit is ${thousands(LIMITS.nodes)}. Split it into smaller trees, one per symptom.`);
  }

  /** The review settings (tree freshness): a real date, a sensible interval, not both. */
  checkReview(): void {
    const by = get(this.doc, "review_by");
    const every = get(this.doc, "review_every_days");
    if (typeof by === "string" && !isReviewDate(by)) this.add(null, "invalid_review_date", `Review by ${quoted(by)} is not a date. Write it as YYYY-MM-DD, e.g. 2027-06-30.`);
    if (typeof every === "number" && Number.isInteger(every) && !(every >= 1 && every <= LIMITS.review_days))
      this.add(null, "invalid_review_interval", `Review every ${every} days is out of range. Use a whole number of days from 1 to ${LIMITS.review_days}.`);
    const reviewed = get(this.doc, "reviewed_at");
    if (typeof reviewed === "string" && !isReviewDate(reviewed)) this.add(null, "invalid_review_date", `Content reviewed on ${quoted(reviewed)} is not a date. Write it as YYYY-MM-DD, e.g. 2026-12-03.`);
    if (by != null && every != null) this.add(null, "review_date_and_interval", "The tree has both a review date and a review interval. Keep one: a fixed date, or every N days after each publish or review.");
  }

  checkAppliesTo(): void {
    const entries = asList(get(this.doc, "applies_to"));
    if (entries.length > LIMITS.applies_to_entries)
      this.add(null, "invalid_applies_to", `The tree lists ${entries.length} product versions under Applies to; the limit is ${LIMITS.applies_to_entries}. Keep the versions engineers actually meet.`);
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      if (typeof entry !== "string") return;
      const key = pyStrip(entry).toLowerCase();
      if (!key) this.add(null, "invalid_applies_to", `Applies to, entry ${i + 1} is empty. Remove it or name a product version, e.g. "SonicOS 7.x".`);
      else if (seen.has(key)) this.add(null, "invalid_applies_to", `Applies to, entry ${i + 1} repeats ${quoted(entry)}. Remove the copy.`);
      seen.add(key);
      this.text(null, `Applies to, entry ${i + 1}`, entry, LIMITS.applies_to);
    });
  }

  checkStart(): number | null {
    const start = get(this.doc, "start");
    if (blank(start)) {
      this.add(null, "missing_start", 'The tree has no first step. Choose the step an engineer should see first under "First step" in the tree settings.');
      return null;
    }
    if (typeof start !== "string") return null;
    if (!this.index.has(start)) {
      this.add(null, "unknown_start", `The first step is ${quoted(start)}, which is not a step in this tree. Choose an existing step under "First step" in the tree settings.`);
      return null;
    }
    return this.index.get(start)!;
  }

  checkNode(nodeId: string, node: Json): void {
    if (!NODE_ID_RE.test(nodeId)) this.add(nodeId, "invalid_node_id", `Node id ${quoted(nodeId)} is not allowed. Use 1 to 64 lowercase letters, digits, _ and -, starting with a letter or digit, e.g. \`check-dns\`.`);
    if (!isObj(node)) return;
    const kind = typeof node.type === "string" ? node.type : null;
    if (blank(get(node, "title"))) this.add(nodeId, "empty_title", "The step has no title. Say in a few words what the engineer checks or does.");
    this.text(nodeId, "The title", get(node, "title"), LIMITS.title);
    this.text(nodeId, "The body", get(node, "body"), LIMITS.body);
    this.text(nodeId, "The help", get(node, "help"), LIMITS.help);
    this.text(nodeId, "The warning", get(node, "warning"), LIMITS.warning);
    this.checkLinks(nodeId, node);
    this.checkCommands(nodeId, node);
    if (kind === "action") this.checkScript(nodeId, node);
    if (kind === "question" || kind === "action") this.checkAnswers(nodeId, node, kind);
    else if (kind === "choice") this.checkChoice(nodeId, node);
    else if (kind === "input") this.checkInput(nodeId, node);
    else if (kind === "resolution") this.checkResolution(nodeId, node);
    else this.followUnknown(nodeId, node);
  }

  followUnknown(nodeId: string, node: Obj): void {
    const nxt = get(node, "next");
    const targets: Json[] = isObj(nxt) ? Object.values(nxt) : [nxt];
    for (const o of asList(get(node, "options"))) if (isObj(o)) targets.push(get(o, "next"));
    const here = this.succ[this.index.get(nodeId)!];
    for (const t of targets) if (typeof t === "string" && this.index.has(t)) here.push(this.index.get(t)!);
    const variable = get(node, "variable");
    if (typeof variable === "string" && VARIABLE_RE.test(variable)) this.genVar[this.index.get(nodeId)!] = variable;
  }

  /** The tree's sources are links too (title and https), named "Source n" in messages. */
  checkSources(): void {
    const sources = asList(get(this.doc, "sources"));
    if (sources.length > LIMITS.sources) this.add(null, "text_too_long", `The tree lists ${sources.length} sources; the limit is ${LIMITS.sources}. Keep the pages the steps rely on.`);
    this.checkLinks(null, { links: sources }, "Source");
  }

  checkLinks(nodeId: string | null, node: Obj, what = "Link"): void {
    asList(get(node, "links")).forEach((link, i) => {
      if (!isObj(link)) return;
      const title = get(link, "title");
      const url = get(link, "url");
      if (blank(title)) this.add(nodeId, "empty_label", `${what} ${i + 1} has no title. Say what the engineer will find there, e.g. "Microsoft: DNS troubleshooting".`);
      this.text(nodeId, `The title of ${what.toLowerCase()} ${i + 1}`, title, LIMITS.label);
      if (typeof url === "string" || isNone(url)) {
        if (!isHttpsUrl(typeof url === "string" ? url : "")) this.add(nodeId, "link_not_https", `${what} ${i + 1} (${quoted(url)}) is not an https:// address. Use the https address of the page (open it in a browser and copy it).`);
        this.text(nodeId, `The URL of ${what.toLowerCase()} ${i + 1}`, url, LIMITS.url);
      }
    });
  }

  checkCommands(nodeId: string, node: Obj): void {
    asList(get(node, "commands")).forEach((command, i) => {
      if (!isObj(command)) return;
      if (blank(get(command, "text"))) this.add(nodeId, "empty_command", `Command ${i + 1} has no text. Enter the command to run, or remove the empty command.`);
      this.text(nodeId, `Command ${i + 1}`, get(command, "text"), LIMITS.command);
    });
  }

  // The form of an action's script reference; whether the library has it is scriptRefs.ts's.
  checkScript(nodeId: string, node: Obj): void {
    const ref = get(node, "script");
    if (!isObj(ref)) return;
    const scriptId = get(ref, "id");
    if (typeof scriptId === "string" && !SCRIPT_ID_RE.test(scriptId)) this.add(nodeId, "invalid_script_ref", `The script ${quoted(scriptId)} is not a script id. Pick a script from the library.`);
    const params = asObj(get(ref, "parameters"));
    for (const name of Object.keys(params)) {
      if (!PARAM_NAME_RE.test(name)) {
        this.add(nodeId, "invalid_script_ref", `The script parameter ${quoted(name)} is not a parameter name. Map the script's own parameters only.`);
        continue;
      }
      this.text(nodeId, `The value of script parameter ${name}`, params[name], LIMITS.command);
    }
  }

  checkAnswers(nodeId: string, node: Obj, kind: string): void {
    const rawNext = get(node, "next");
    const rawLog = get(node, "log");
    const nxtOk = isNone(rawNext) || isObj(rawNext);
    const logOk = isNone(rawLog) || isObj(rawLog);
    const nxt = asObj(rawNext);
    const log = asObj(rawLog);
    for (const answer of REQUIRED_ANSWERS[kind]) {
      const [what, field, box] = answerNames(answer);
      this.edge(nodeId, what, get(nxt, answer), box, nxtOk);
      if (logOk) this.log(nodeId, field, get(log, answer));
    }
    for (const answer of OPTIONAL_ANSWERS[kind]) {
      const [what, field, box] = answerNames(answer);
      if (!blank(get(nxt, answer))) {
        this.edge(nodeId, what, get(nxt, answer), box);
        if (logOk) this.log(nodeId, field, get(log, answer));
      } else this.text(nodeId, field, get(log, answer), LIMITS.log);
    }
  }

  checkChoice(nodeId: string, node: Obj): void {
    const raw = get(node, "options");
    if (!isNone(raw) && !Array.isArray(raw)) return;
    const options = (raw as Json[] | null | undefined) || [];
    if (options.length < LIMITS.min_options || options.length > LIMITS.max_options)
      this.add(nodeId, "choice_option_count", `The choice has ${options.length} option(s); it needs ${LIMITS.min_options} to ${LIMITS.max_options}. ` + (options.length < LIMITS.min_options ? "Add options, or use a yes/no question for a single check." : "Merge similar options or split the step in two."));
    const seen = new Set<string>();
    options.forEach((option, i) => {
      if (!isObj(option)) return;
      const optionId = get(option, "id");
      const name = `Option ${i + 1}`;
      if (blank(optionId)) this.add(nodeId, "empty_option_id", `Option ${i + 1} has no id. Give it a short id, unique in this step, e.g. \`event-1002\`.`);
      else if (typeof optionId === "string") {
        if (seen.has(optionId)) this.add(nodeId, "duplicate_option_id", `Two options have the id ${quoted(optionId)}; sessions record the id, so they could not be told apart. Rename one of them.`);
        seen.add(optionId);
        const n = pyLen(optionId);
        if (n > LIMITS.option_id) this.add(nodeId, "text_too_long", `Option id ${quoted(cpSlice(optionId, 0, 20))}... has ${n} characters; the limit is ${LIMITS.option_id}. Use a shorter id.`);
      }
      if (blank(get(option, "label"))) this.add(nodeId, "empty_label", `Option ${i + 1} has no label. Write the answer as the engineer will see it.`);
      this.text(nodeId, `The label of option ${i + 1}`, get(option, "label"), LIMITS.label);
      this.edge(nodeId, name, get(option, "next"), `${name} leads to`);
      this.log(nodeId, `The log sentence of option ${i + 1}`, get(option, "log"));
    });
  }

  checkInput(nodeId: string, node: Obj): void {
    const variable = get(node, "variable");
    if (blank(variable) || (typeof variable === "string" && !VARIABLE_RE.test(variable)))
      this.add(nodeId, "invalid_variable_name", (blank(variable) ? "The input does not name its value. " : `The variable ${quoted(variable)} is not a usable name. `) + 'Under "Variable", name the value so later steps can use it as {{input.NAME}}: letters, digits and _, not starting with a digit, e.g. vda_name.');
    else if (typeof variable === "string") this.genVar[this.index.get(nodeId)!] = variable;
    const save = get(node, "save_to_client");
    if (typeof save === "string" && !VARIABLE_RE.test(save)) this.add(nodeId, "invalid_variable_name", `"Save to client field" is ${quoted(save)}, which is not a valid client field name. Use letters, digits and _, e.g. vdas, or clear it.`);
    this.edge(nodeId, "The input", get(node, "next"), "Continue leads to");
    this.log(nodeId, "The log sentence", get(node, "log"), true);
  }

  checkResolution(nodeId: string, node: Obj): void {
    this.isResolution[this.index.get(nodeId)!] = true;
    if (isNone(get(node, "outcome"))) this.add(nodeId, "invalid_outcome", 'The resolution has no outcome. Choose Resolved, Escalated or Unresolved under "Outcome".');
    if (blank(get(node, "summary"))) this.add(nodeId, "missing_summary", 'The resolution has no summary. Under "Summary", say how the case ends; it opens the exported notes.');
    if (get(node, "outcome") === "escalated" && blank(get(node, "handover"))) this.add(nodeId, "missing_handover", 'An escalation needs a handover. Under "Handover", write what the next tier must know and what was already ruled out.');
    this.text(nodeId, "The summary", get(node, "summary"), LIMITS.summary);
    this.text(nodeId, "The root cause", get(node, "root_cause"), LIMITS.root_cause);
    this.text(nodeId, "The verification", get(node, "verification"), LIMITS.verification);
    this.text(nodeId, "The handover", get(node, "handover"), LIMITS.handover);
  }

  reachableFrom(start: number): boolean[] {
    const seen = this.succ.map(() => false);
    seen[start] = true;
    const stack = [start];
    while (stack.length) {
      for (const v of this.succ[stack.pop()!]) {
        if (!seen[v]) {
          seen[v] = true;
          stack.push(v);
        }
      }
    }
    return seen;
  }

  reachesResolution(): boolean[] {
    const pred: number[][] = this.succ.map(() => []);
    this.succ.forEach((targets, u) => targets.forEach((v) => pred[v].push(u)));
    const ok = [...this.isResolution];
    const stack: number[] = [];
    ok.forEach((r, i) => r && stack.push(i));
    while (stack.length) {
      for (const u of pred[stack.pop()!]) {
        if (!ok[u]) {
          ok[u] = true;
          stack.push(u);
        }
      }
    }
    return ok;
  }

  checkGraph(start: number | null): void {
    const ids = this.ids;
    const reach = start !== null ? this.reachableFrom(start) : null;
    if (reach)
      reach.forEach((seen, i) => {
        if (!seen) this.add(ids[i], "unreachable", `No path from the first step ${quoted(ids[start!])} leads here. Connect an answer of another step to it, or delete it.`);
      });
    const ok = this.reachesResolution();
    const enteredFromGood = ids.map(() => false);
    const hasPred = ids.map(() => false);
    this.succ.forEach((targets, u) => {
      for (const v of targets) {
        hasPred[v] = true;
        if (ok[u] && (reach === null || reach[u])) enteredFromGood[v] = true;
      }
    });
    for (let i = 0; i < ids.length; i++) {
      if (ok[i]) continue;
      const report = reach !== null ? reach[i] && (i === start || enteredFromGood[i]) : enteredFromGood[i] || !hasPred[i];
      if (report) this.add(ids[i], "no_resolution_reachable", "No resolution can be reached from this step: every path from here stops at an answer that leads nowhere, or loops without a way out. Lead at least one answer (here or further on) to a resolution step.");
    }
    if (reach) this.checkVariables(reach);
  }

  checkVariables(reach: boolean[]): void {
    if (!this.inputRefs.length) return;
    const ids = this.ids;
    const bits = new Map<string, number>();
    const gen: bigint[] = ids.map(() => 0n);
    this.genVar.forEach((v, i) => {
      if (v !== null && reach[i]) {
        if (!bits.has(v)) bits.set(v, bits.size);
        gen[i] = 1n << BigInt(bits.get(v)!);
      }
    });
    const available = this.mayDefine(reach, gen);
    const definedAnywhere = new Map<string, string[]>();
    this.genVar.forEach((v, i) => {
      if (v !== null) {
        if (!definedAnywhere.has(v)) definedAnywhere.set(v, []);
        definedAnywhere.get(v)!.push(ids[i]);
      }
    });
    for (const [i, field, name, own] of this.inputRefs) {
      if (!reach[i]) continue;
      const avail = available[i] | (own ? gen[i] : 0n);
      if (bits.has(name) && (avail >> BigInt(bits.get(name)!)) & 1n) continue;
      const where = definedAnywhere.get(name);
      let hint: string;
      if (where) {
        hint = `It is asked only in ${where.slice(0, 3).map(quoted).join(", ")}, which no path passes before this step. Move that input earlier, or add one on the way here.`;
      } else {
        const known = [...definedAnywhere.keys()].sort(pyCompare);
        hint = `No input step asks for ${name}. Add an input step with the variable ${name} before this step, or fix the name` + (known.length ? ` (known: ${known.slice(0, 10).join(", ")}).` : ".");
      }
      this.add(ids[i], "unknown_variable", `${field} uses {{input.${name}}}, which is not known here. ${hint}`);
    }
  }

  /** Per node, the variables asked on at least one path from the start to it (Tarjan SCCs). */
  mayDefine(reach: boolean[], gen: bigint[]): bigint[] {
    const n = this.succ.length;
    const index = new Array<number>(n).fill(-1);
    const low = new Array<number>(n).fill(0);
    const onStack = new Array<boolean>(n).fill(false);
    const comp = new Array<number>(n).fill(-1);
    const comps: number[][] = [];
    const stack: number[] = [];
    let counter = 0;
    for (let root = 0; root < n; root++) {
      if (index[root] !== -1 || !reach[root]) continue;
      const work: [number, number][] = [[root, 0]];
      while (work.length) {
        const top = work[work.length - 1];
        const [v, pos] = top;
        if (pos === 0) {
          index[v] = low[v] = counter++;
          stack.push(v);
          onStack[v] = true;
        }
        const targets = this.succ[v];
        if (pos < targets.length) {
          top[1] = pos + 1;
          const w = targets[pos];
          if (index[w] === -1) work.push([w, 0]);
          else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
          continue;
        }
        work.pop();
        if (work.length) {
          const parent = work[work.length - 1][0];
          low[parent] = Math.min(low[parent], low[v]);
        }
        if (low[v] === index[v]) {
          const members: number[] = [];
          for (;;) {
            const w = stack.pop()!;
            onStack[w] = false;
            comp[w] = comps.length;
            members.push(w);
            if (w === v) break;
          }
          comps.push(members);
        }
      }
    }
    const pred: number[][] = Array.from({ length: n }, () => []);
    for (let u = 0; u < n; u++) if (reach[u]) for (const v of this.succ[u]) pred[v].push(u);
    const inn: bigint[] = new Array(n).fill(0n);
    const out: bigint[] = new Array(n).fill(0n);
    for (let c = comps.length - 1; c >= 0; c--) {
      const members = comps[c];
      let acc = 0n;
      const cyclic = members.length > 1 || this.succ[members[0]].includes(members[0]);
      for (const u of members) {
        for (const p of pred[u]) if (comp[p] !== c) acc |= out[p];
        if (cyclic) acc |= gen[u];
      }
      for (const u of members) {
        inn[u] = acc;
        out[u] = acc | gen[u];
      }
    }
    return inn;
  }
}

/** Python's default string order (by code point), not JavaScript's (by UTF-16 unit). */
function pyCompare(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}

function typeName(v: Json): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  if (Array.isArray(v)) return "list";
  return "dict";
}

/** Every problem that keeps `doc` from being published; an empty list means valid. Never throws. */
export function validateTree(doc: Json): Problem[] {
  if (!isObj(doc)) {
    return [{ node_id: null, code: "not_an_object", message: `A tree must be a JSON object, not ${typeName(doc)}. Send the tree document itself ({"type": "tree", ...}).` }];
  }
  const checker = new Checker(doc);
  checker.problems.push(...shapeProblems(doc));
  checker.checkTreeFields();
  const start = checker.checkStart();
  for (const id of checker.ids) checker.checkNode(id, checker.nodes[id]);
  checker.checkGraph(start);
  // Tree-level problems first, then node by node in the tree's order (a stable sort).
  const order = (p: Problem) => (p.node_id === null ? -1 : (checker.index.get(p.node_id) ?? -1));
  return checker.problems.map((p, i) => [p, i] as const).sort((a, b) => order(a[0]) - order(b[0]) || a[1] - b[1]).map(([p]) => p);
}
