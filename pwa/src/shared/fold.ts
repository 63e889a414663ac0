// The session fold: a session's state as a pure function of its events.
//
// This is `api/sessions/fold.py` in TypeScript, rule for rule; the rules and the reasons
// for them are written once, in that module's docstring. Both are checked against the
// hand-checked fixtures in tests/golden/fold/ and against each other by a property test
// (tests/sessions/test_fold_parity.py). Change one, change the other in the same commit.
//
// Differences JavaScript forces on the translation, each handled here so the two agree:
// strings are compared by code point (not UTF-16 unit), every lookup by a key that came from
// a document goes through `own()` (so "constructor" or "__proto__" are just names), and maps
// in the output are null-prototype objects.

export const SCHEMA_VERSION = 1;
export const NOT_RECORDED = "(not recorded)";

type Obj = { [key: string]: unknown };

export type Status = "in_progress" | "completed" | "abandoned";

export interface Step {
  kind: "step";
  event_id: string;
  node_id: string;
  node_type: "question" | "choice" | "action" | "input";
  title: string | null;
  answer: string;
  answer_label: string;
  value: string | null;
  log: string | null;
  next_node: string;
  ts: number;
  device_id: string;
  user_id: string;
  arrived_at: number | null;
  duration_ms: number;
}

export interface CustomStep {
  kind: "custom";
  event_id: string;
  node_id: string;
  text: string;
  answer: "done" | "failed" | "skipped";
  answer_label: string;
  note: string | null;
  after_step: number;
  ts: number;
  device_id: string;
  user_id: string;
}

export interface Undone {
  undone_at: number;
  undone_by_device: string;
  undone_by_user: string;
}

export type TriedEntry = (Step & { position: number } & Undone) | (CustomStep & Undone);

export interface Note {
  note_id: string;
  text: string;
  ts: number;
  updated_at: number;
  device_id: string;
  user_id: string;
}

/** A `script_run` event's record (the server writes them when an RMM run ends). */
export interface ScriptRun {
  run_id: unknown;
  script_id: unknown;
  script_name: unknown;
  parameters: unknown;
  target: unknown;
  status: unknown;
  exit_code: unknown;
  output: unknown;
  attachment_id: unknown;
  ts: number;
  device_id: string;
  user_id: string;
}

export interface Attachment {
  attachment_id: unknown;
  name: unknown;
  content_type: unknown;
  size: unknown;
  sha256: unknown;
  caption: unknown;
  ts: number;
  device_id: string;
  user_id: string;
}

export interface Resolution {
  node_id: string;
  title: string | null;
  outcome: string | null;
  summary: string | null;
  root_cause: string | null;
  verification: string | null;
  handover: unknown;
}

export type HistoryEntry =
  | { type: "completed"; ts: number; device_id: string; user_id: string; outcome: string; summary: string | null }
  | { type: "abandoned"; ts: number; device_id: string; user_id: string; reason: string | null }
  | { type: "reopened"; ts: number; device_id: string; user_id: string };

export interface Ignored {
  event_id: string;
  type: string;
  reason: string;
}

export interface SessionState {
  schema_version: number;
  session_id: string | null;
  status: Status;
  current_node: string;
  current_since: number | null;
  progress: number | null;
  path: Step[];
  custom_steps: CustomStep[];
  tried: TriedEntry[];
  notes: Record<string, Note[]>;
  inputs: Record<string, string | null>;
  drafts: Record<string, string>;
  attachments: Record<string, Attachment[]>;
  script_runs: Record<string, ScriptRun[]>;
  resolution: Resolution | null;
  outcome: string | null;
  summary: string | null;
  started_at: number | null;
  ended_at: number | null;
  elapsed_ms: number | null;
  history: HistoryEntry[];
  ignored: Ignored[];
}

const OUTCOMES = ["resolved", "escalated", "unresolved"];
const QUESTION_LABELS: Record<string, string> = { yes: "Yes", no: "No" };
const ACTION_LABELS: Record<string, string> = { done: "Done", failed: "Failed", skipped: "Skipped" };
const ATTACHMENT_FIELDS = ["attachment_id", "name", "content_type", "size", "sha256", "caption"] as const;
const SCRIPT_RUN_FIELDS = [
  "run_id",
  "script_id",
  "script_name",
  "parameters",
  "target",
  "status",
  "exit_code",
  "output",
  "attachment_id",
] as const;
const PLACEHOLDER = /\{\{([\s\S]*?)\}\}/g;
const NAME_PART = /^[A-Za-z0-9_-]+$/;
const APPLIES = ["answered", "input_value", "custom_step", "back", "completed", "abandoned"];

function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function own(obj: unknown, key: string): unknown {
  return isObj(obj) && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function has(obj: unknown, key: string): boolean {
  return isObj(obj) && Object.prototype.hasOwnProperty.call(obj, key);
}

function nullMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function asInt(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) ? (value === 0 ? 0 : value) : null;
}

function tsOf(ev: Obj): number {
  return asInt(ev.ts) ?? 0;
}

/** Compare by Unicode code point, as Python compares str. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF, which sort after every
    // other UTF-16 unit; an unequal pair of units decides the order here.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareEvents(a: Obj, b: Obj): number {
  const ta = tsOf(a);
  const tb = tsOf(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const d = compareCodePoints(str(a.device_id), str(b.device_id));
  if (d !== 0) return d;
  return compareCodePoints(str(a._id), str(b._id));
}

export function foldSession(
  tree: unknown,
  events: unknown[],
  header?: unknown,
  client?: unknown,
  nowMs?: number | null,
): SessionState {
  const nodes: Obj = isObj(own(tree, "nodes")) ? (own(tree, "nodes") as Obj) : {};
  const start = typeof own(tree, "start") === "string" ? (own(tree, "start") as string) : "";
  const head: Obj = isObj(header) ? header : {};
  const cli: Obj = isObj(client) ? client : {};

  const ordered = events.filter((e): e is Obj => isObj(e) && e.type !== "exported").sort(compareEvents);

  const created = asInt(own(head, "created_at"));
  const startedAt: number | null = created !== null ? created : ordered.length > 0 ? tsOf(ordered[0]) : null;

  let status: Status = "in_progress";
  let current = start;
  let currentSince: number | null = startedAt;
  const path: Step[] = [];
  const customSteps: CustomStep[] = [];
  const undoStack: (Step | CustomStep)[] = []; // the effective entries, path steps and custom steps alike
  const tried: TriedEntry[] = [];
  const notes = nullMap<Note[]>();
  const noteIndex = new Map<string, Note>();
  const drafts = nullMap<string>();
  const attachments = nullMap<Attachment[]>();
  const attachmentIndex = new Map<string, Attachment>();
  const scriptRuns = nullMap<ScriptRun[]>();
  const scriptRunIndex = new Map<string, ScriptRun>();
  const history: HistoryEntry[] = [];
  const ignored: Ignored[] = [];
  let outcome: string | null = null;
  let summary: string | null = null;
  let endedAt: number | null = null;
  let lastTs: number | null = null;
  const seenIds = new Set<string>();

  const ignore = (ev: Obj, reason: string) => {
    ignored.push({ event_id: str(own(ev, "_id")), type: str(own(ev, "type")), reason });
  };

  for (const ev of ordered) {
    const evId = str(own(ev, "_id"));
    const ts = tsOf(ev);
    lastTs = ts;
    if (evId) {
      if (seenIds.has(evId)) {
        ignore(ev, "duplicate");
        continue;
      }
      seenIds.add(evId);
    }
    const kind = own(ev, "type");
    const deviceId = str(own(ev, "device_id"));
    const userId = str(own(ev, "user_id"));
    const nodeId = own(ev, "node_id");

    if (kind === "note") {
      const noteId = own(ev, "note_id");
      const text = own(ev, "text");
      if (typeof nodeId !== "string" || typeof noteId !== "string" || typeof text !== "string") {
        ignore(ev, "bad_fields");
        continue;
      }
      const existing = noteIndex.get(noteId);
      if (existing !== undefined) {
        existing.text = text;
        existing.updated_at = ts;
        existing.device_id = deviceId;
        existing.user_id = userId;
      } else {
        const note: Note = { note_id: noteId, text, ts, updated_at: ts, device_id: deviceId, user_id: userId };
        noteIndex.set(noteId, note);
        (notes[nodeId] ??= []).push(note);
      }
      continue;
    }

    if (kind === "attachment_added") {
      const attachmentId = own(ev, "attachment_id");
      if (typeof nodeId !== "string" || typeof attachmentId !== "string") {
        ignore(ev, "bad_fields");
        continue;
      }
      const meta = {} as Attachment;
      for (const field of ATTACHMENT_FIELDS) meta[field] = own(ev, field) ?? null;
      meta.ts = ts;
      meta.device_id = deviceId;
      meta.user_id = userId;
      const existing = attachmentIndex.get(attachmentId);
      if (existing !== undefined) {
        Object.assign(existing, meta);
      } else {
        attachmentIndex.set(attachmentId, meta);
        (attachments[nodeId] ??= []).push(meta);
      }
      continue;
    }

    if (kind === "script_run") {
      // Evidence the server recorded when an RMM run ended: kept whatever the status, like an
      // attachment; one entry per run, a repeat replacing it in place.
      const runId = own(ev, "run_id");
      if (typeof nodeId !== "string" || typeof runId !== "string") {
        ignore(ev, "bad_fields");
        continue;
      }
      const run = {} as ScriptRun;
      for (const field of SCRIPT_RUN_FIELDS) run[field] = own(ev, field) ?? null;
      run.ts = ts;
      run.device_id = deviceId;
      run.user_id = userId;
      const existingRun = scriptRunIndex.get(runId);
      if (existingRun !== undefined) {
        Object.assign(existingRun, run);
      } else {
        scriptRunIndex.set(runId, run);
        (scriptRuns[nodeId] ??= []).push(run);
      }
      continue;
    }

    if (kind === "reopened") {
      if (status === "in_progress") {
        ignore(ev, "not_ended");
        continue;
      }
      status = "in_progress";
      outcome = null;
      summary = null;
      endedAt = null;
      history.push({ type: "reopened", ts, device_id: deviceId, user_id: userId });
      continue;
    }

    if (typeof kind !== "string" || !APPLIES.includes(kind)) {
      ignore(ev, "unknown_type");
      continue;
    }
    if (status !== "in_progress") {
      ignore(ev, "not_in_progress");
      continue;
    }

    if (kind === "answered") {
      if (typeof nodeId !== "string" || typeof own(ev, "answer") !== "string") {
        ignore(ev, "bad_fields");
        continue;
      }
      if (nodeId !== current) {
        ignore(ev, "not_current");
        continue;
      }
      const node = own(nodes, current);
      const draft = drafts[current];
      const step = answerStep(node, ev, draft);
      if (step === null) {
        ignore(ev, "bad_answer");
        continue;
      }
      if (!has(nodes, step.next_node)) {
        ignore(ev, "unknown_next");
        continue;
      }
      const inputsBefore = inputsOf(path, nodes);
      const variable = own(node, "variable");
      if (step.node_type === "input" && typeof variable === "string") {
        inputsBefore[variable] = step.value;
      }
      const full: Step = {
        kind: "step",
        event_id: evId,
        node_id: step.node_id,
        node_type: step.node_type,
        title: fill(own(node, "title"), inputsBefore, cli),
        answer: step.answer,
        answer_label: step.answer_label,
        value: step.value,
        log: fill(step.log, inputsBefore, cli),
        next_node: step.next_node,
        ts,
        device_id: deviceId,
        user_id: userId,
        arrived_at: currentSince,
        duration_ms: currentSince !== null ? Math.max(0, ts - currentSince) : 0,
      };
      path.push(full);
      undoStack.push(full);
      current = step.next_node;
      currentSince = ts;
      continue;
    }

    if (kind === "input_value") {
      const value = own(ev, "value");
      if (typeof nodeId !== "string" || typeof value !== "string") {
        ignore(ev, "bad_fields");
        continue;
      }
      const node = own(nodes, nodeId);
      if (!isObj(node) || own(node, "type") !== "input") {
        ignore(ev, "not_an_input");
        continue;
      }
      drafts[nodeId] = value;
      continue;
    }

    if (kind === "custom_step") {
      const text = own(ev, "text");
      const answer = own(ev, "answer");
      const note = own(ev, "note");
      if (typeof nodeId !== "string" || typeof text !== "string" || typeof answer !== "string" || !has(ACTION_LABELS, answer)) {
        ignore(ev, "bad_fields");
        continue;
      }
      if (!has(nodes, nodeId)) {
        ignore(ev, "unknown_node");
        continue;
      }
      const custom: CustomStep = {
        kind: "custom",
        event_id: evId,
        node_id: nodeId,
        text,
        answer: answer as CustomStep["answer"],
        answer_label: ACTION_LABELS[answer],
        note: typeof note === "string" ? note : null,
        after_step: path.length - 1,
        ts,
        device_id: deviceId,
        user_id: userId,
      };
      customSteps.push(custom);
      undoStack.push(custom);
      continue;
    }

    if (kind === "back") {
      const entry = undoStack.pop();
      if (entry === undefined) {
        ignore(ev, "nothing_to_undo");
        continue;
      }
      let undone: TriedEntry;
      if (entry.kind === "step") {
        path.pop();
        undone = { ...entry, position: path.length, undone_at: ts, undone_by_device: deviceId, undone_by_user: userId };
        current = entry.node_id;
        currentSince = ts;
      } else {
        customSteps.pop();
        undone = { ...entry, undone_at: ts, undone_by_device: deviceId, undone_by_user: userId };
      }
      tried.push(undone);
      continue;
    }

    const resolution = resolutionAt(nodes, current, inputsOf(path, nodes), cli);
    if (kind === "completed") {
      const evOutcome = own(ev, "outcome");
      const evSummary = own(ev, "summary");
      if (typeof evOutcome === "string" && OUTCOMES.includes(evOutcome)) {
        outcome = evOutcome;
      } else if (resolution !== null && resolution.outcome !== null && OUTCOMES.includes(resolution.outcome)) {
        outcome = resolution.outcome;
      } else {
        outcome = "unresolved";
      }
      if (typeof evSummary === "string") {
        summary = evSummary;
      } else if (resolution !== null) {
        summary = resolution.summary;
      } else {
        summary = null;
      }
      status = "completed";
      endedAt = ts;
      history.push({ type: "completed", ts, device_id: deviceId, user_id: userId, outcome, summary });
      continue;
    }

    // abandoned
    const reason = own(ev, "reason");
    status = "abandoned";
    endedAt = ts;
    history.push({ type: "abandoned", ts, device_id: deviceId, user_id: userId, reason: typeof reason === "string" ? reason : null });
  }

  const inputs = inputsOf(path, nodes);
  const resolution = resolutionAt(nodes, current, inputs, cli);
  const distance = distancesToResolution(nodes).get(current);
  let progress: number | null;
  if (status === "completed" || distance === 0) {
    progress = 1.0;
  } else if (distance === undefined) {
    progress = null;
  } else {
    progress = path.length / (path.length + distance);
  }

  let elapsedMs: number | null;
  if (startedAt === null) {
    elapsedMs = null;
  } else {
    const now = asInt(nowMs);
    const until = endedAt !== null ? endedAt : now !== null ? now : lastTs;
    elapsedMs = until !== null ? Math.max(0, until - startedAt) : 0;
  }

  let sessionId: string | null = null;
  const headerId = own(head, "_id");
  if (typeof headerId === "string") {
    sessionId = headerId.startsWith("session:") ? headerId.slice("session:".length) : headerId;
  }

  return {
    schema_version: SCHEMA_VERSION,
    session_id: sessionId,
    status,
    current_node: current,
    current_since: currentSince,
    progress,
    path,
    custom_steps: customSteps,
    tried,
    notes,
    inputs,
    drafts,
    attachments,
    script_runs: scriptRuns,
    resolution,
    outcome,
    summary,
    started_at: startedAt,
    ended_at: endedAt,
    elapsed_ms: elapsedMs,
    history,
    ignored,
  };
}

interface BareStep {
  node_id: string;
  node_type: Step["node_type"];
  answer: string;
  answer_label: string;
  value: string | null;
  log: string | null;
  next_node: string;
}

/** The step an answer makes at `node`, before sentences are filled; null if invalid. */
function answerStep(node: unknown, ev: Obj, draft: unknown): BareStep | null {
  if (!isObj(node)) return null;
  const nodeType = own(node, "type");
  const answer = own(ev, "answer") as string;
  let value: string | null = null;
  let label: string;
  let next: unknown;
  let log: unknown;
  if (nodeType === "question") {
    if (!has(QUESTION_LABELS, answer)) return null;
    label = QUESTION_LABELS[answer];
    next = pick(own(node, "next"), answer);
    log = pick(own(node, "log"), answer);
  } else if (nodeType === "action") {
    if (!has(ACTION_LABELS, answer)) return null;
    label = ACTION_LABELS[answer];
    next = pick(own(node, "next"), answer);
    log = pick(own(node, "log"), answer);
  } else if (nodeType === "choice") {
    const options = own(node, "options");
    const option = Array.isArray(options) ? options.find((o) => isObj(o) && own(o, "id") === answer) : undefined;
    if (option === undefined) return null;
    const optionLabel = own(option, "label");
    label = typeof optionLabel === "string" ? optionLabel : answer;
    next = own(option, "next");
    log = own(option, "log");
  } else if (nodeType === "input") {
    if (answer !== "submitted") return null;
    const given = own(ev, "value");
    value = typeof given === "string" ? given : typeof draft === "string" ? draft : null;
    label = value ? value : NOT_RECORDED;
    next = own(node, "next");
    log = own(node, "log");
  } else {
    return null;
  }
  if (typeof next !== "string") return null;
  return {
    node_id: own(ev, "node_id") as string,
    node_type: nodeType,
    answer,
    answer_label: label,
    value,
    log: typeof log === "string" ? log : null,
    next_node: next,
  };
}

/** Whether answering `answer` at `node` would move the session on: the fold ignores an
 * answer that names no next step or one missing from the tree (an action whose author left
 * "skipped" unconnected does not offer a skip), so the runner offers only these. */
export function answerLeadsSomewhere(node: unknown, answer: string, nodes: unknown): boolean {
  const step = answerStep(node, { node_id: "", answer }, null);
  return step !== null && isObj(nodes) && has(nodes, step.next_node);
}

/** An answer's entry in a per-answer object; a plain value applies to every answer. */
function pick(mapping: unknown, answer: string): unknown {
  if (isObj(mapping)) return own(mapping, answer);
  return mapping;
}

/** The input values committed by the effective path, later steps overriding earlier. */
function inputsOf(path: Step[], nodes: Obj): Record<string, string | null> {
  const inputs = nullMap<string | null>();
  for (const step of path) {
    if (step.node_type !== "input") continue;
    const variable = own(own(nodes, step.node_id), "variable");
    if (typeof variable === "string") inputs[variable] = step.value;
  }
  return inputs;
}

function resolutionAt(nodes: Obj, current: string, inputs: Record<string, unknown>, client: Obj): Resolution | null {
  const node = own(nodes, current);
  if (!isObj(node) || own(node, "type") !== "resolution") return null;
  const handover = own(node, "handover");
  const nodeOutcome = own(node, "outcome");
  return {
    node_id: current,
    title: fill(own(node, "title"), inputs, client),
    outcome: typeof nodeOutcome === "string" ? nodeOutcome : null,
    summary: fill(own(node, "summary"), inputs, client),
    root_cause: fill(own(node, "root_cause"), inputs, client),
    verification: fill(own(node, "verification"), inputs, client),
    handover: typeof handover === "string" ? fill(handover, inputs, client) : handover === undefined ? null : handover,
  };
}

function edges(node: unknown): string[] {
  if (!isObj(node)) return [];
  const nodeType = own(node, "type");
  let targets: unknown[] = [];
  if (nodeType === "choice") {
    const options = own(node, "options");
    targets = Array.isArray(options) ? options.filter(isObj).map((o) => own(o, "next")) : [];
  } else if (nodeType === "question" || nodeType === "action" || nodeType === "input") {
    const next = own(node, "next");
    targets = isObj(next) ? Object.values(next) : [next];
  }
  return targets.filter((t): t is string => typeof t === "string");
}

/** Fewest answers from each node to any resolution: a breadth-first search backwards. */
function distancesToResolution(nodes: Obj): Map<string, number> {
  const incoming = new Map<string, string[]>();
  for (const nodeId of Object.keys(nodes)) {
    for (const target of edges(nodes[nodeId])) {
      const sources = incoming.get(target);
      if (sources) sources.push(nodeId);
      else incoming.set(target, [nodeId]);
    }
  }
  const dist = new Map<string, number>();
  for (const nodeId of Object.keys(nodes)) {
    if (own(nodes[nodeId], "type") === "resolution") dist.set(nodeId, 0);
  }
  let frontier = [...dist.keys()];
  while (frontier.length > 0) {
    const following: string[] = [];
    for (const target of frontier) {
      for (const source of incoming.get(target) ?? []) {
        if (!dist.has(source)) {
          dist.set(source, (dist.get(target) as number) + 1);
          following.push(source);
        }
      }
    }
    frontier = following;
  }
  return dist;
}

/** A piece of filled tree text: literal text, or a gap where a placeholder had no usable value. */
export type FilledPart = { text: string; gap: boolean };

/** Tree text with `{{input.x}}` / `{{client.x}}` filled, as pieces, so a screen can style the
 * gaps; joined, the pieces are exactly `fill`'s text. Non-strings give no pieces. */
export function fillParts(text: unknown, inputs: Record<string, unknown>, client: Obj): FilledPart[] {
  if (typeof text !== "string") return [];
  const parts: FilledPart[] = [];
  const literal = (t: string) => {
    if (!t) return;
    const last = parts[parts.length - 1];
    if (last && !last.gap) last.text += t;
    else parts.push({ text: t, gap: false });
  };
  let pos = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const at = match.index as number;
    literal(defuse(text.slice(pos, at)));
    // Only ASCII blanks are trimmed: Python's and JavaScript's ideas of whitespace differ.
    const name = match[1].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
    const value = lookup(name, inputs, client);
    if (value === null) parts.push({ text: gapText(name), gap: true });
    else literal(value);
    pos = at + match[0].length;
  }
  literal(defuse(text.slice(pos)));
  return parts;
}

/** Fill `{{input.x}}` / `{{client.x}}` in tree text, a missing value as a labelled gap;
 * non-strings give null. The twin of `fill` in fold.py, the one filler of tree text. */
export function fill(text: unknown, inputs: Record<string, unknown>, client: Obj): string | null {
  if (typeof text !== "string") return null;
  return fillParts(text, inputs, client)
    .map((p) => p.text)
    .join("");
}

/** What a placeholder without a usable value reads as: its name and why it is empty. */
export function gapText(name: string): string {
  const parts = name.split(".");
  if (parts.length >= 2 && parts.every((p) => NAME_PART.test(p))) {
    if (parts[0] === "input" && parts.length === 2) return `<${parts[1]}: not entered>`;
    if (parts[0] === "client") return `<${name}: not recorded>`;
  }
  return "<unknown placeholder>";
}

function defuse(literal: string): string {
  while (literal.includes("{{")) literal = literal.split("{{").join("{");
  return literal;
}

function lookup(name: string, inputs: Record<string, unknown>, client: Obj): string | null {
  const parts = name.split(".");
  if (parts.length < 2 || !parts.every((p) => NAME_PART.test(p))) return null;
  let value: unknown;
  if (parts[0] === "input" && parts.length === 2) {
    value = Object.prototype.hasOwnProperty.call(inputs, parts[1]) ? inputs[parts[1]] : undefined;
  } else if (parts[0] === "client") {
    value = client;
    for (const part of parts.slice(1)) value = own(value, part);
  } else {
    return null;
  }
  if (typeof value === "string") return value ? value : null;
  const number = asInt(value);
  return number !== null ? String(number) : null;
}
