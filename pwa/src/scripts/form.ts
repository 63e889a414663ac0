// Script parameters and the form that fills them in: pure functions, no network.

export type ParamType = "string" | "int" | "bool" | "hostname" | "ip" | "enum" | "secret";
export type Risk = "low" | "medium" | "high";

export interface ScriptParam {
  name: string;
  type: ParamType;
  label?: string;
  description?: string;
  required?: boolean;
  default?: unknown;
  choices?: string[];
  pattern?: string;
  min?: number;
  max?: number;
}

/** The values a form holds, as the render call takes them: empty text fields are left out,
 * so the script's defaults apply; switches are booleans. */
export function formValues(params: ScriptParam[], form: Record<string, string | boolean>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) {
    const v = form[p.name];
    if (p.type === "bool") out[p.name] = v === true;
    else if (typeof v === "string" && v.trim() !== "") out[p.name] = v;
  }
  return out;
}

/** A form's starting values: each parameter's default, as the field shows it. */
export function initialForm(params: ScriptParam[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const p of params) {
    if (p.type === "bool") out[p.name] = p.default === true || p.default === "true";
    else out[p.name] = p.default === undefined || p.default === null ? "" : String(p.default);
  }
  return out;
}
