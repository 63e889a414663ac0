// The script library's calls to the scripts API (through the app's signed-in `api` helper).
// Scripts need the network here: rendering binds values on the server (api/scripts/render.py).
import { api } from "../data";
import type { Risk, ScriptParam } from "./form";

export type { ParamType, Risk, ScriptParam } from "./form";

export interface ScriptRow {
  id: string;
  name: string;
  description: string;
  risk: Risk;
  tags: string[];
  archived: boolean;
  latest_version: number | null;
  version: number | null;
}

export interface ScriptDoc {
  _id: string;
  _rev?: string;
  name: string;
  description: string;
  body: string;
  parameters: ScriptParam[];
  risk: Risk;
  links: { title: string; url: string }[];
  tags: string[];
  latest_version: number | null;
  version?: number;
}

export interface Rendered {
  script: string;
  script_id: string;
  version: number | null;
  risk: Risk;
}

const path = (id: string) => `/api/v1/scripts/${encodeURIComponent(id)}`;

export const scriptsApi = {
  list: () => api<{ items: ScriptRow[] }>("/api/v1/scripts?limit=200"),
  get: (id: string) => api<ScriptDoc>(path(id)),
  render: (id: string, parameters: Record<string, unknown>, draft: boolean) =>
    api<Rendered>(`${path(id)}/render`, { method: "POST", body: { parameters, draft } }),
  publish: (id: string, rev: string | undefined) =>
    api<{ version: number }>(`${path(id)}/publish`, { method: "POST", body: { _rev: rev } }),
};
