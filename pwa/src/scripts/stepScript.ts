// A script on an action step, in a session: its parameter values filled from the session, and
// whether a run asked for at a step still fits the session. Pure functions, no network; the
// server applies the same staleness rule (`stale_problem` in api/rmm/rules.py).
import { fillParts, type SessionState } from "../shared/fold";

/** An action node's `script` (design_docs/DOCUMENTS.md). */
export interface ScriptRef {
  id: string;
  parameters?: Record<string, string>;
}

export interface FilledParameters {
  values: Record<string, string>;
  /** Parameters whose value needs an input or client field the session does not have yet. */
  missing: string[];
}

/** The step's parameter values with `{{input.x}}` / `{{client.x}}` filled. An empty value is
 * left out, so the script's default applies. */
export function fillParameters(ref: ScriptRef, inputs: Record<string, unknown>, client: Record<string, unknown>): FilledParameters {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, template] of Object.entries(ref.parameters || {})) {
    const parts = fillParts(template, inputs, client);
    if (parts.some((p) => p.gap)) {
      missing.push(name);
      continue;
    }
    const text = parts.map((p) => p.text).join("");
    if (text !== "") values[name] = text;
  }
  return { values, missing };
}

/** `at_step`: the event id of the session's latest step, or "start" before any answer. */
export function stepMarker(state: Pick<SessionState, "path">): string {
  const last = state.path[state.path.length - 1];
  return last ? String(last.event_id) : "start";
}

/** Why a run asked for at (node, marker) no longer fits this state, in words; null if it does. */
export function staleReason(state: Pick<SessionState, "status" | "current_node" | "path">, nodeId: string, atStep: string): string | null {
  if (state.status !== "in_progress") return `the session was ${state.status === "completed" ? "completed" : "abandoned"}`;
  if (state.current_node !== nodeId || stepMarker(state) !== atStep) return "the session moved on from that step (or went back)";
  return null;
}

/** A stable key of a script version and its values: which stored rendering fits. */
export function renderKey(scriptId: string, values: Record<string, string>): string {
  return JSON.stringify([scriptId, Object.keys(values).sort().map((k) => [k, values[k]])]);
}
