// Do a tree's action steps name scripts the team's library has, with its parameters? The
// twin of api/trees/script_refs.py: the same codes and messages, so the editor shows what
// publishing would refuse. `validateTree` checks only the form of a reference.
import type { ScriptParam } from "../scripts/form";
import { quoted, type Problem } from "./validate";

/** A published script as a step may name it: its name and parameters. */
export interface LibraryScript {
  name: string;
  parameters: ScriptParam[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function scriptProblems(tree: unknown, library: Record<string, LibraryScript>): Problem[] {
  const nodes = isObj(tree) ? tree.nodes : null;
  if (!isObj(nodes)) return [];
  const out: Problem[] = [];
  for (const [nodeId, node] of Object.entries(nodes)) {
    if (!isObj(node) || node.type !== "action") continue;
    const ref = node.script;
    if (!isObj(ref) || typeof ref.id !== "string") continue;
    out.push(...refProblems(nodeId, ref.id, isObj(ref.parameters) ? ref.parameters : {}, library));
  }
  return out;
}

function refProblems(nodeId: string, scriptId: string, values: Obj, library: Record<string, LibraryScript>): Problem[] {
  const script = Object.prototype.hasOwnProperty.call(library, scriptId) ? library[scriptId] : undefined;
  if (!script) {
    return [
      {
        node_id: nodeId,
        code: "unknown_script",
        message: `The script ${quoted(scriptId)} is not published in this team's script library (never published, archived or renamed). Pick a published script, or have an author publish it.`,
      },
    ];
  }
  const name = script.name || scriptId;
  const params = new Map(script.parameters.map((p) => [p.name, p]));
  const out: Problem[] = [];
  for (const key of Object.keys(values)) {
    const param = params.get(key);
    if (!param) out.push({ node_id: nodeId, code: "unknown_script_parameter", message: `The script ${quoted(name)} has no parameter ${quoted(key)}. Remove that value, or map one of the script's parameters.` });
    else if (param.type === "secret") out.push({ node_id: nodeId, code: "secret_script_parameter", message: `${key} is a secret: a tree never stores one. Remove its value; the engineer types it when the script runs.` });
  }
  for (const [key, param] of params) {
    if (!param.required || (param.default !== undefined && param.default !== null) || param.type === "secret") continue;
    const v = values[key];
    if (!String(v ?? "").trim()) out.push({ node_id: nodeId, code: "missing_script_parameter", message: `The script's required parameter ${key} has no value. Enter one, or map it to an input or a client field.` });
  }
  return out;
}
