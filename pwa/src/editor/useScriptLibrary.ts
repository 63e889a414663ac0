// The team's published scripts, as an action step may name them: each script's latest
// published version (name, risk, parameters). Drafts are left out: a session runs only what
// was published. Null while loading or when the library cannot be reached (the editor then
// checks the form of a reference only, and the server checks the rest on publish).
import { useEffect, useState } from "react";
import { api } from "../data";
import type { Risk, ScriptParam } from "../scripts/form";
import type { LibraryScript } from "./scriptRefs";

export interface PublishedScript extends LibraryScript {
  id: string;
  risk: Risk;
  version: number;
}

interface Row {
  id: string;
  archived: boolean;
  latest_version: number | null;
}

async function loadLibrary(): Promise<Record<string, PublishedScript>> {
  const rows = (await api<{ items: Row[] }>("/api/v1/scripts?limit=200")).items.filter((r) => r.latest_version && !r.archived);
  const out: Record<string, PublishedScript> = {};
  const versions = await Promise.all(
    rows.map((r) => api<{ version: number; script: { name: string; risk: Risk; parameters?: ScriptParam[] } }>(`/api/v1/scripts/${encodeURIComponent(r.id)}/versions/${r.latest_version}`)),
  );
  rows.forEach((r, i) => {
    const v = versions[i];
    out[r.id] = { id: r.id, name: v.script.name, risk: v.script.risk, parameters: v.script.parameters || [], version: v.version };
  });
  return out;
}

export function useScriptLibrary(): Record<string, PublishedScript> | null {
  const [library, setLibrary] = useState<Record<string, PublishedScript> | null>(null);
  useEffect(() => {
    let live = true;
    loadLibrary().then(
      (l) => live && setLibrary(l),
      () => live && setLibrary(null),
    );
    return () => {
      live = false;
    };
  }, []);
  return library;
}
