// Exports in the app: the view model, and the Markdown and plain-text renderers.
//
// This is `api/exports/render.py` (the model), `api/exports/markdown.py` and `text.py` (the
// escaping and layout helpers) and the built-in templates `api/exports/templates/markdown.j2`
// and `text.j2`, in TypeScript, so an engineer offline exports exactly the bytes the server
// would. The rules and the reasons for them are written once, in render.py's docstring; both
// sides are checked against the hand-checked fixtures in tests/golden/exports/. Change one,
// change the other in the same commit.
//
// What JavaScript forces on the translation: strings are compared by code point (as Python
// does), lookups by keys that came from documents go through `own()`, and only ASCII
// whitespace is ever trimmed (the two languages disagree on what else is whitespace).
import { duration } from "./duration";
import { compareCodePoints, fill, foldSession } from "./fold";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = { [key: string]: any };

export const MODEL_VERSION = 1;

export interface ExportOptions {
  notes: boolean;
  timestamps: boolean;
  undone: boolean;
  attachments: boolean;
}

export const DEFAULT_OPTIONS: ExportOptions = { notes: true, timestamps: true, undone: true, attachments: true };

export interface ExportAttachment {
  evidence: string | null;
  id: string;
  name: string;
  content_type: string | null;
  size: string | null;
  caption: string | null;
  is_image: boolean;
}

export interface ExportScriptRun {
  line: string;
  time: string | null;
  output: string | null;
}

export interface ExportEntry {
  number: number;
  kind: "step" | "custom";
  node_type: string | null;
  tried: boolean;
  status: string | null;
  marker: string | null;
  time: string | null;
  sentence: string;
  warning: string | null;
  value: string | null;
  commands: { language: string; text: string }[];
  notes: string[];
  attachments: ExportAttachment[];
  script_runs: ExportScriptRun[];
}

export interface ExportHolder {
  notes: string[];
  attachments: ExportAttachment[];
  script_runs: ExportScriptRun[];
}

export interface ExportOutcome extends ExportHolder {
  status: "in_progress" | "completed" | "abandoned";
  outcome: string | null;
  label: string;
  title: string | null;
  reason: string | null;
  current_step: string | null;
  handover: string | null;
}

export interface ExportModel {
  schema_version: number;
  title: string;
  tenant: string | null;
  session_id: string | null;
  ticket: string | null;
  client: string | null;
  engineers: string[];
  tree: { id: string; title: string; version: number | null };
  summary: { outcome: string; root_cause: string | null; verification: string | null; fix_label: string; fix: string | null };
  details: { label: string; value: string }[];
  steps: ExportEntry[];
  other_notes: (ExportHolder & { title: string })[];
  outcome: ExportOutcome;
  options: ExportOptions;
  times: {
    started_ms: number | null;
    ended_ms: number | null;
    elapsed_ms: number | null;
    started: string | null;
    ended: string | null;
    hours: number;
  };
  filename: string;
}

export interface ExportBundle {
  header?: unknown;
  events?: unknown[];
  tree?: unknown;
  tree_version?: unknown;
  client?: unknown;
  state?: unknown;
  now_ms?: number | null;
}

const OUTCOME_LABELS: Obj = { resolved: "Resolved", escalated: "Escalated", unresolved: "Unresolved" };
const STATUS_LABELS: Obj = { in_progress: "In progress", abandoned: "Abandoned" };
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

const NEWLINES = /[ \t\r\n]*[\r\n][ \t\r\n]*/g;
const EDGE_BLANKS = /^[ \t\r\n]+|[ \t\r\n]+$/g;
const BLANK = /^[ \t\r\n]*$/;
const FILENAME_UNSAFE = /[^A-Za-z0-9._-]+/g;
const LANGUAGE = /^[A-Za-z0-9_+-]{1,30}$/;

/** The fully resolved view model of a session for every export format (see render.py). */
export function buildExportModel(
  bundle: ExportBundle,
  options?: Partial<ExportOptions> | null,
  tenant?: unknown,
  engineerNames?: Record<string, string> | null,
): ExportModel {
  const opts: ExportOptions = { ...DEFAULT_OPTIONS };
  for (const key of Object.keys(DEFAULT_OPTIONS) as (keyof ExportOptions)[]) {
    const given = own(options, key);
    if (given !== undefined && given !== null) opts[key] = Boolean(given);
  }
  const names: Obj = engineerNames ?? {};
  const header = obj(bundle.header);
  const client = obj(bundle.client);
  let tree = obj(bundle.tree);
  if (own(tree, "nodes") === undefined && isObj(own(tree, "tree"))) tree = own(tree, "tree");
  const nodes = obj(own(tree, "nodes"));
  let state: Obj = bundle.state as Obj;
  if (!isObj(state)) {
    const events = Array.isArray(bundle.events) ? bundle.events : [];
    state = foldSession(tree, events, header, client, bundle.now_ms ?? null) as unknown as Obj;
  }

  const started = state.started_at;
  const startDay = day(started);
  const path: Obj[] = list(state.path);
  const inputs: Record<string, unknown> = Object.create(null);
  const placed: { key: [number, number, number, string]; entry: ExportEntry }[] = [];
  const pathOwner = new Map<string, ExportEntry>();
  const triedOwner = new Map<string, ExportEntry>();

  path.forEach((step, i) => {
    const node = obj(own(nodes, step.node_id));
    if (step.node_type === "input" && typeof own(node, "variable") === "string") inputs[node.variable] = step.value;
    const entry = stepEntry(step, node, inputs, client, opts, startDay, false);
    placed.push({ key: [i, 0, num(step.ts), text(step.event_id)], entry });
    pathOwner.set(text(step.node_id), entry);
  });

  for (const custom of list(state.custom_steps)) {
    const entry = customEntry(custom, opts, startDay, false);
    placed.push({ key: [num(custom.after_step), 1, num(custom.ts), text(custom.event_id)], entry });
  }

  if (opts.undone) {
    const triedSteps = list(state.tried).filter((t) => t.kind !== "custom");
    for (const undone of list(state.tried)) {
      let entry: ExportEntry;
      let anchor: number;
      if (undone.kind === "custom") {
        entry = customEntry(undone, opts, startDay, true);
        anchor = customAnchor(undone, triedSteps);
      } else {
        const node = obj(own(nodes, undone.node_id));
        entry = stepEntry(undone, node, inputs, client, opts, startDay, true);
        anchor = num(undone.position) - 1;
        triedOwner.set(text(undone.node_id), entry);
      }
      placed.push({ key: [anchor, 1, num(undone.ts), text(undone.event_id)], entry });
    }
  }

  placed.sort((a, b) => {
    for (let i = 0; i < 3; i++) {
      const x = a.key[i] as number;
      const y = b.key[i] as number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return compareCodePoints(a.key[3], b.key[3]);
  });
  const entries = placed.map((p) => p.entry);
  entries.forEach((entry, i) => (entry.number = i + 1));

  const resolution: Obj | null = isObj(state.resolution) ? state.resolution : null;
  const status: ExportOutcome["status"] = ["in_progress", "completed", "abandoned"].includes(state.status)
    ? state.status
    : "in_progress";
  const outcomeKey: string | null = typeof state.outcome === "string" && own(OUTCOME_LABELS, state.outcome) ? state.outcome : null;
  const label: string =
    status === "completed" && outcomeKey ? OUTCOME_LABELS[outcomeKey] : status === "completed" ? "Unresolved" : STATUS_LABELS[status];
  const current = text(state.current_node);
  let currentTitle: string | null = null;
  if (status !== "completed") {
    currentTitle = oneLine(fill(own(obj(own(nodes, current)), "title"), inputs, client)) || "(untitled step)";
  }

  const outcome: ExportOutcome = {
    status,
    outcome: status === "completed" ? outcomeKey : null,
    label,
    title: resolution && status === "completed" ? outcomeTitle(resolution.title, label) : null,
    reason: status === "abandoned" ? abandonReason(state) : null,
    current_step: currentTitle,
    handover: null,
    notes: [],
    attachments: [],
    script_runs: [],
  };
  if (resolution && outcomeKey === "escalated" && typeof resolution.handover === "string") {
    outcome.handover = block(resolution.handover) || null;
  }

  const other = new Map<string, ExportHolder & { title: string; key: [number, string] }>();
  const holder = (nodeId: string, firstTs: number): ExportHolder => {
    const onPath = pathOwner.get(nodeId);
    if (onPath) return onPath;
    const tried = triedOwner.get(nodeId);
    if (tried) return tried;
    if (nodeId === current) return outcome;
    let section = other.get(nodeId);
    if (!section) {
      const title = fill(own(obj(own(nodes, nodeId)), "title"), inputs, client);
      section = {
        title: oneLine(title) || "(a step not in this tree)",
        notes: [],
        attachments: [],
        script_runs: [],
        key: [firstTs, nodeId],
      };
      other.set(nodeId, section);
    }
    return section;
  };

  if (opts.notes) {
    for (const [nodeId, notes] of orderedMap(state.notes)) {
      for (const note of notes) {
        if (typeof note.text === "string" && !BLANK.test(note.text)) holder(nodeId, num(note.ts)).notes.push(block(note.text));
      }
    }
  }
  if (opts.attachments) {
    for (const [nodeId, items] of orderedMap(state.attachments)) {
      for (const att of items) holder(nodeId, num(att.ts)).attachments.push(attachment(att, opts, startDay));
    }
  }
  // Script runs are evidence of work done: shown whatever the options say.
  for (const [nodeId, runs] of orderedMap(state.script_runs)) {
    for (const run of runs) holder(nodeId, num(run.ts)).script_runs.push(scriptRun(run, opts, startDay));
  }
  const otherSections = [...other.values()]
    .sort((a, b) => (a.key[0] !== b.key[0] ? (a.key[0] < b.key[0] ? -1 : 1) : compareCodePoints(a.key[1], b.key[1])))
    .map(({ title, notes, attachments, script_runs }) => ({ title, notes, attachments, script_runs }));

  const summary = status === "completed" && typeof state.summary === "string" ? state.summary : null;
  const engineers = engineerList(header, state, names);
  const treeTitle = oneLine(own(tree, "title")) || "Untitled tree";
  let version: unknown = bundle.tree_version;
  if (isObj(version)) version = own(version, "version");
  if (version === undefined || version === null) {
    version = own(header, "tree_version") !== undefined ? own(header, "tree_version") : own(header, "version");
  }
  const treeVersion = typeof version === "number" && Number.isInteger(version) ? version : null;
  const ticket = oneLine(own(header, "ticket")) || null;
  const clientName = oneLine(own(client, "name")) || null;
  const sessionTitle = oneLine(own(header, "title")) || treeTitle;
  const ended = state.ended_at;
  const elapsed = state.elapsed_ms;

  const details: { label: string; value: string }[] = [];
  const rows: [string, string | null][] = [
    ["Ticket", ticket],
    ["Client", clientName],
    [engineers.length > 1 ? "Engineers" : "Engineer", engineers.join(", ") || null],
    ["Tree", treeVersion !== null ? `${treeTitle} (version ${treeVersion})` : treeTitle],
    ["Started", dateTime(started)],
    ["Ended", dateTime(ended)],
    ["Duration", duration(elapsed)],
  ];
  for (const [key, value] of rows) if (value !== null) details.push({ label: key, value });

  const rawSlug = text(own(tree, "_id")) || text(own(header, "tree_id"));
  const treeSlug = rawSlug.replace(/^(tree|treever):/, "").split(":")[0] || "session";
  return {
    schema_version: MODEL_VERSION,
    title: ticket ? `${ticket}: ${sessionTitle}` : sessionTitle,
    tenant: tenantName(tenant),
    session_id: typeof state.session_id === "string" ? state.session_id : null,
    ticket,
    client: clientName,
    engineers,
    tree: { id: treeSlug, title: treeTitle, version: treeVersion },
    summary: {
      outcome: label,
      root_cause: resolution ? oneLine(resolution.root_cause) || null : null,
      verification: resolution ? oneLine(resolution.verification) || null : null,
      fix_label: outcome.outcome === "resolved" ? "Fix" : "Summary",
      fix: oneLine(summary) || null,
    },
    details,
    steps: entries,
    other_notes: otherSections,
    outcome,
    options: opts,
    times: {
      started_ms: isInt(started) ? started : null,
      ended_ms: isInt(ended) ? ended : null,
      elapsed_ms: isInt(elapsed) ? elapsed : null,
      started: iso(started),
      ended: iso(ended),
      hours: hours(elapsed),
    },
    filename: filename(ticket, treeSlug, started, state.session_id),
  };
}

// --- entries ----------------------------------------------------------------------------------

function stepEntry(
  step: Obj,
  node: Obj,
  inputs: Record<string, unknown>,
  client: Obj,
  opts: ExportOptions,
  startDay: string | null,
  tried: boolean,
): ExportEntry {
  const title = oneLine(step.title) || "(untitled step)";
  let sentence = oneLine(step.log);
  if (!sentence) {
    const separator = ["?", ":", "."].includes(title.slice(-1)) ? " " : ": ";
    sentence = `${title}${separator}${oneLine(step.answer_label)}`;
  }
  const value = step.value;
  let shownValue: string | null = null;
  if (step.node_type === "input" && typeof value === "string" && value && !sentence.includes(oneLine(value))) {
    shownValue = oneLine(value);
  }
  const warning = oneLine(fill(own(node, "warning"), inputs, client)) || null;
  const commands: { language: string; text: string }[] = [];
  if (!tried && step.node_type === "action" && (step.answer === "done" || step.answer === "failed")) {
    for (const cmd of list(own(node, "commands"))) {
      if (typeof cmd.text === "string" && !BLANK.test(cmd.text)) {
        const language = typeof cmd.language === "string" ? cmd.language : "";
        commands.push({ language: LANGUAGE.test(language) ? language : "", text: commandText(cmd.text, inputs, client) });
      }
    }
  }
  return {
    number: 0,
    kind: "step",
    node_type: typeof step.node_type === "string" ? step.node_type : null,
    tried,
    status: null,
    marker: tried ? "Tried, then revisited" : null,
    time: opts.timestamps ? stepTime(step.ts, startDay) : null,
    sentence,
    warning,
    value: shownValue,
    commands,
    notes: [],
    attachments: [],
    script_runs: [],
  };
}

/** A command as an export lists it run, and so exactly what the runner's Copy button copies. */
export function commandText(command: string, inputs: Record<string, unknown>, client: Obj): string {
  return block(fill(command, inputs, client));
}

function customAnchor(custom: Obj, triedSteps: Obj[]): number {
  let anchor = num(custom.after_step);
  for (const step of triedSteps) {
    const position = num(step.position);
    if (position <= anchor && num(step.undone_at) >= num(custom.ts)) anchor = position - 1;
  }
  return anchor;
}

function customEntry(custom: Obj, opts: ExportOptions, startDay: string | null, tried: boolean): ExportEntry {
  const note = custom.note;
  const status = oneLine(custom.answer_label) || "Done";
  return {
    number: 0,
    kind: "custom",
    node_type: null,
    tried,
    status,
    marker: tried ? `Tried, then revisited (custom step, ${status.toLowerCase()})` : `Custom step (${status.toLowerCase()})`,
    time: opts.timestamps ? stepTime(custom.ts, startDay) : null,
    sentence: oneLine(custom.text) || "(no description)",
    warning: null,
    value: null,
    commands: [],
    notes: opts.notes && typeof note === "string" && !BLANK.test(note) ? [block(note)] : [],
    attachments: [],
    script_runs: [],
  };
}

const SHA256 = /^[0-9a-f]{64}$/;

function attachment(att: Obj, opts: ExportOptions, startDay: string | null): ExportAttachment {
  const contentType = typeof att.content_type === "string" ? att.content_type : null;
  const size = att.size;
  // Evidence: when the file was attached and its checksum (the time follows the timestamps option).
  const evidence: string[] = [];
  const added = opts.timestamps ? stepTime(att.ts, startDay) : null;
  if (added) evidence.push(`added ${added}`);
  if (typeof att.sha256 === "string" && SHA256.test(att.sha256)) evidence.push(`SHA-256 ${att.sha256}`);
  return {
    evidence: evidence.length ? evidence.join("; ") : null,
    id: text(att.attachment_id),
    name: oneLine(att.name) || "(unnamed file)",
    content_type: contentType,
    size: isInt(size) && size >= 0 ? sizeLabel(size) : null,
    caption: oneLine(att.caption) || null,
    is_image: contentType !== null && IMAGE_TYPES.includes(contentType),
  };
}

const RUN_STATUS_LABELS: Record<string, string> = {
  succeeded: "succeeded",
  failed: "failed",
  timed_out: "timed out",
  in_doubt: "outcome unknown, check the RMM",
};
const RMM_NAMES: Record<string, string> = { ninjaone: "NinjaOne", datto: "Datto RMM" };

function label(table: Record<string, string>, key: string): string | null {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : null;
}

/** One line saying what ran where and how it ended, and the output excerpt (render.py's _script_run). */
function scriptRun(run: Obj, opts: ExportOptions, startDay: string | null): ExportScriptRun {
  const target = obj(run.target);
  const device = oneLine(target.device_name) || oneLine(target.device_id) || "(unknown device)";
  const system = label(RMM_NAMES, text(target.system));
  const status = label(RUN_STATUS_LABELS, text(run.status)) ?? "status not recorded";
  let line = `${oneLine(run.script_name) || oneLine(run.script_id) || "(unnamed script)"} on ${device}`;
  if (system) line += ` via ${system}`;
  line += `: ${status}`;
  if (isInt(run.exit_code)) line += `, exit code ${run.exit_code}`;
  const output = typeof run.output === "string" ? run.output.replace(/\r\n?/g, "\n").replace(/[ \t\n]+$/, "") : "";
  const ran = opts.timestamps ? stepTime(run.ts, startDay) : null;
  return { line, time: ran, output: output || null };
}

function orderedMap(mapping: unknown): [string, Obj[]][] {
  if (!isObj(mapping)) return [];
  const rows: [string, Obj[], number][] = [];
  for (const key of Object.keys(mapping)) {
    const value = (mapping as Obj)[key];
    if (!Array.isArray(value)) continue;
    const items = value.filter(isObj) as Obj[];
    const first = items.length ? Math.min(...items.map((x) => num(x.ts))) : 0;
    rows.push([key, items, first]);
  }
  rows.sort((a, b) => (a[2] !== b[2] ? (a[2] < b[2] ? -1 : 1) : compareCodePoints(a[0], b[0])));
  return rows.map(([key, items]) => [key, items]);
}

function engineerList(header: Obj, state: Obj, names: Obj): string[] {
  const ids: string[] = [];
  const owner = own(header, "owner_id");
  if (typeof owner === "string") ids.push(owner);
  const work: Obj[] = [...list(state.path), ...list(state.custom_steps)];
  if (isObj(state.notes)) {
    for (const key of Object.keys(state.notes)) work.push(...list(state.notes[key]));
  }
  work.sort((a, b) => {
    const x = num(a.ts);
    const y = num(b.ts);
    return x !== y ? (x < y ? -1 : 1) : compareCodePoints(text(a.user_id), text(b.user_id));
  });
  for (const w of work) ids.push(text(w.user_id));
  const out: string[] = [];
  for (const uid of ids) {
    const name = own(names, uid);
    if (typeof name === "string" && oneLine(name) && !out.includes(oneLine(name))) out.push(oneLine(name));
  }
  return out;
}

function outcomeTitle(title: unknown, label: string): string | null {
  let t = oneLine(title);
  if (t.slice(0, label.length + 1).toLowerCase() === label.toLowerCase() + ":") {
    t = t.slice(label.length + 1).replace(EDGE_BLANKS, "");
  }
  return t || null;
}

function abandonReason(state: Obj): string | null {
  const history = list(state.history);
  for (let i = history.length - 1; i >= 0; i--) {
    if (history[i].type === "abandoned") return oneLine(history[i].reason) || null;
  }
  return null;
}

// --- small formatting helpers, one for one with render.py ---------------------------------------

function oneLine(value: unknown): string {
  if (typeof value !== "string") return "";
  return value.replace(NEWLINES, " ").replace(EDGE_BLANKS, "");
}

function block(value: unknown): string {
  if (typeof value !== "string") return "";
  const lines = value
    .replace(/\r\n/g, "\n")
    .replace(/\r/g, "\n")
    .split("\n")
    .map((line) => line.replace(/[ \t]+$/, ""));
  while (lines.length && !lines[0]) lines.shift();
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.filter((line, i) => line || (i > 0 && lines[i - 1])).join("\n");
}

function iso(ms: unknown): string | null {
  if (!isInt(ms)) return null;
  return new Date(ms).toISOString().slice(0, 19) + "Z";
}

function dateTime(ms: unknown): string | null {
  const value = iso(ms);
  return value ? `${value.slice(0, 10)} ${value.slice(11, 16)} UTC` : null;
}

function day(ms: unknown): string | null {
  const value = iso(ms);
  return value ? value.slice(0, 10) : null;
}

function stepTime(ms: unknown, startDay: string | null): string | null {
  const value = iso(ms);
  if (value === null) return null;
  return value.slice(0, 10) === startDay ? value.slice(11, 16) : `${value.slice(0, 10)} ${value.slice(11, 16)}`;
}

function hours(ms: unknown): number {
  if (!isInt(ms) || ms < 0) return 0;
  return Math.floor((ms * 100 + 1_800_000) / 3_600_000) / 100;
}

function sizeLabel(size: number): string {
  if (size < 1024) return `${size} B`;
  const tenths =
    size < 1024 * 1024 ? Math.floor((size * 20 + 1024) / 2048) : Math.floor((size * 20 + 1024 * 1024) / (2 * 1024 * 1024));
  return `${Math.floor(tenths / 10)}.${tenths % 10} ${size < 1024 * 1024 ? "KB" : "MB"}`;
}

function filename(ticket: string | null, treeSlug: string, started: unknown, sessionId: unknown): string {
  const first = ticket || (typeof sessionId === "string" && sessionId ? `session-${sessionId}` : "session");
  return [first, treeSlug, day(started) || "undated"]
    .map((p) => p.replace(FILENAME_UNSAFE, "-").replace(/^[-.]+|[-.]+$/g, "") || "x")
    .join("-");
}

function tenantName(tenant: unknown): string | null {
  const name = isObj(tenant) ? own(tenant, "name") : tenant;
  return oneLine(name) || null;
}

function own(value: unknown, key: string): any {
  return isObj(value) && Object.prototype.hasOwnProperty.call(value, key) ? (value as Obj)[key] : undefined;
}

function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function obj(value: unknown): Obj {
  return isObj(value) ? value : {};
}

function list(value: unknown): Obj[] {
  return Array.isArray(value) ? (value.filter(isObj) as Obj[]) : [];
}

function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

function num(value: unknown): number {
  return isInt(value) ? value : 0;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

// --- Markdown (markdown.py and templates/markdown.j2) -------------------------------------------

const MD_INLINE = /([\\`*_[\]<>|~])/g;
const MD_ENTITY = /&(?=#?[A-Za-z0-9]+;)/g;

export function mdInline(value: string | null): string {
  if (!value) return "";
  return value.replace(NEWLINES, " ").replace(MD_INLINE, "\\$1").replace(MD_ENTITY, "\\&");
}

function mdLines(value: string | null): string[] {
  return (value ?? "").split("\n").map((line) =>
    line
      .replace(/^[ \t]+/, "")
      .replace(MD_INLINE, "\\$1")
      .replace(MD_ENTITY, "\\&")
      .replace(/^([#+=-])/, "\\$1")
      .replace(/^([0-9]{1,9})([.)])/, "$1\\$2"),
  );
}

function mdBlock(value: string | null): string {
  const lines = mdLines(value);
  return lines.map((line, i) => (line && i + 1 < lines.length && lines[i + 1] ? line + "\\" : line)).join("\n");
}

function mdQuote(value: string | null): string {
  return mdBlock(value)
    .split("\n")
    .map((line) => (line ? "> " + line : ">"))
    .join("\n");
}

function mdFence(value: string, language: string): string {
  const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${value}\n${fence}`;
}

function tidy(out: string): string {
  return out.replace(/\n{3,}/g, "\n\n").replace(/^\n+|\n+$/g, "") + "\n";
}

function attachmentLine(a: ExportAttachment, esc: (s: string) => string): string {
  return `${esc(a.name)}${a.size ? ` (${a.size})` : ""}${a.caption ? `: ${esc(a.caption)}` : ""}${a.evidence ? ` [${a.evidence}]` : ""}`;
}

function mdAttached(x: ExportHolder): string[] {
  const blocks = x.notes.map(mdQuote);
  if (x.attachments.length) blocks.push(x.attachments.map((a) => `- Attachment: ${attachmentLine(a, mdInline)}`).join("\n"));
  for (const r of x.script_runs) {
    blocks.push(`- Script run: ${mdInline(r.line)}${r.time ? ` [recorded ${r.time}]` : ""}`);
    if (r.output) blocks.push(mdFence(r.output, ""));
  }
  return blocks;
}

/** The Markdown export, byte for byte what the server's built-in template gives. */
export function renderMarkdown(m: ExportModel): string {
  const blocks: string[] = [`# ${mdInline(m.title)}`, "## Summary"];
  const summary = [`- **Outcome:** ${mdInline(m.summary.outcome)}`];
  if (m.summary.root_cause) summary.push(`- **Root cause:** ${mdInline(m.summary.root_cause)}`);
  if (m.summary.verification) summary.push(`- **Verification:** ${mdInline(m.summary.verification)}`);
  if (m.summary.fix) summary.push(`- **${m.summary.fix_label}:** ${mdInline(m.summary.fix)}`);
  blocks.push(summary.join("\n"), "## Details", m.details.map((d) => `- **${d.label}:** ${mdInline(d.value)}`).join("\n"));
  blocks.push("## Steps");
  for (const s of m.steps) {
    const time = s.time ? `[${s.time}] ` : "";
    const marker = s.marker ? `*${s.marker}:* ` : "";
    blocks.push(`**${s.number}.** ${time}${marker}${mdInline(s.sentence)}`);
    if (s.warning) blocks.push(`**Warning shown:** ${mdInline(s.warning)}`);
    if (s.value) blocks.push(`Entered: ${mdInline(s.value)}`);
    if (s.commands.length) {
      blocks.push("Commands run:");
      for (const c of s.commands) blocks.push(mdFence(c.text, c.language));
    }
    blocks.push(...mdAttached(s));
  }
  if (!m.steps.length) blocks.push("No steps were recorded.");
  if (m.other_notes.length) {
    blocks.push("## Other notes");
    for (const o of m.other_notes) blocks.push(`**${mdInline(o.title)}**`, ...mdAttached(o));
  }
  blocks.push("## Outcome");
  const o = m.outcome;
  blocks.push(o.title ? `**${o.label}:** ${mdInline(o.title)}` : `**${o.label}**`);
  if (o.current_step) blocks.push(`Stopped at: ${mdInline(o.current_step)}`);
  if (o.reason) blocks.push(`Reason: ${mdInline(o.reason)}`);
  if (o.handover) blocks.push("**Hand-over:**", mdBlock(o.handover));
  blocks.push(...mdAttached(o));
  return tidy(blocks.join("\n\n"));
}

// --- plain text (text.py and templates/text.j2) -------------------------------------------------

function hang(value: string, width: number): string {
  const lines = value.split("\n");
  const pad = " ".repeat(width);
  return [lines[0], ...lines.slice(1).map((line) => (line ? pad + line : ""))].join("\n");
}

function indentLines(value: string, width: number): string {
  const pad = " ".repeat(width);
  return value
    .split("\n")
    .map((line) => (line ? pad + line : ""))
    .join("\n");
}

function textAttached(x: ExportHolder): string[] {
  return [
    ...x.notes.map((n) => `   Note: ${hang(n, 9)}`),
    ...x.attachments.map((a) => `   Attachment: ${attachmentLine(a, (s) => s)}`),
    ...x.script_runs.flatMap((r) => [`   Script run: ${r.line}${r.time ? ` [recorded ${r.time}]` : ""}`, ...(r.output ? [indentLines(r.output, 5)] : [])]),
  ];
}

/** The plain-text export, byte for byte what the server's built-in template gives. */
export function renderText(m: ExportModel): string {
  const sections: string[] = [m.title];
  const summary = ["SUMMARY", `Outcome: ${m.summary.outcome}`];
  if (m.summary.root_cause) summary.push(`Root cause: ${m.summary.root_cause}`);
  if (m.summary.verification) summary.push(`Verification: ${m.summary.verification}`);
  if (m.summary.fix) summary.push(`${m.summary.fix_label}: ${m.summary.fix}`);
  sections.push(summary.join("\n"), ["DETAILS", ...m.details.map((d) => `${d.label}: ${d.value}`)].join("\n"));
  const steps = m.steps.map((s) => {
    const lines = [`${s.number}. ${s.time ? `[${s.time}] ` : ""}${s.marker ? `${s.marker}: ` : ""}${s.sentence}`];
    if (s.warning) lines.push(`   Warning shown: ${s.warning}`);
    if (s.value) lines.push(`   Entered: ${s.value}`);
    if (s.commands.length) {
      lines.push("   Commands run:");
      for (const c of s.commands) lines.push(indentLines(c.text, 5));
    }
    lines.push(...textAttached(s));
    return lines.join("\n");
  });
  sections.push("STEPS\n" + (steps.length ? steps.join("\n\n") : "No steps were recorded."));
  if (m.other_notes.length) {
    sections.push("OTHER NOTES\n" + m.other_notes.map((o) => [o.title, ...textAttached(o)].join("\n")).join("\n\n"));
  }
  const o = m.outcome;
  const outcome = ["OUTCOME", `${o.label}${o.title ? `: ${o.title}` : ""}`];
  if (o.current_step) outcome.push(`Stopped at: ${o.current_step}`);
  if (o.reason) outcome.push(`Reason: ${o.reason}`);
  if (o.handover) outcome.push(`Hand-over: ${hang(o.handover, 11)}`);
  outcome.push(...textAttached(o));
  sections.push(outcome.join("\n"));
  return tidy(sections.join("\n\n"));
}
