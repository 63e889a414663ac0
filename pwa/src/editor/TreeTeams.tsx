// Which teams a tree is scoped to, in the editor's tree settings (owners and admins change it;
// authors see it). A scoped tree reaches only its teams' members; none: open to everyone.
import { useCallback, useEffect, useState } from "react";
import { api, useSignIn } from "../data";
import { useSerialSave } from "../data/serialSave";
import { ErrorBox, SaveStatus } from "../ui/kit";
import { Section } from "./NodeInspector";
import { PERMISSIONS, toggled, type Permission, type Scope } from "./teamScope";

export function TreeTeams({ treeId }: { treeId: string }) {
  const signin = useSignIn();
  const admin = !!signin && ["owner", "admin"].includes(signin.account.role);
  const [teams, setTeams] = useState<{ id: string; name: string }[]>([]);
  const base = `/api/v1/trees/${encodeURIComponent(treeId)}/teams`;
  const put = useCallback(async (next: Scope) => (await api<{ teams: Scope }>(base, { method: "PUT", body: { teams: next } })).teams, [base]);
  const { value: scope, state, error, loaded, change: save } = useSerialSave<Scope>(put);
  useEffect(() => {
    api<{ teams: Scope }>(base).then(
      (r) => loaded(r.teams),
      () => undefined, // offline, or a tree not yet on the server: nothing to show
    );
    if (admin)
      api<{ items: { id: string; name: string }[] }>("/api/v1/teams").then(
        (r) => setTeams(r.items),
        () => setTeams([]),
      );
  }, [base, admin, loaded]);
  if (scope === null || (!admin && !Object.keys(scope).length)) return null;
  // Shown at once, saved in the order ticked; put back to the server's value if refused.
  const change = (team: string, perm: Permission, on: boolean) => save(toggled(scope, team, perm, on));
  const named = admin ? teams : Object.keys(scope).map((id) => ({ id, name: id }));
  return (
    <Section title="Teams">
      <p className="text-[13px] text-slate-600 dark:text-slate-400" data-testid="tree-teams-summary">
        {Object.keys(scope).length ? "Only these teams' members receive and run this tree (owners and admins always do)." : "Open to everyone. Tick a team to scope the tree to it."}
      </p>
      <SaveStatus state={state} />
      {error && <ErrorBox title="Not changed">{error}</ErrorBox>}
      {admin && !teams.length && <p className="text-[13px] text-slate-500">No teams yet: create them on the Team page.</p>}
      <ul className="space-y-2">
        {named.map((t) => (
          <li key={t.id} className="text-sm" data-testid="tree-team" data-name={t.name}>
            <span className="block font-semibold text-slate-800 dark:text-slate-200">{t.name}</span>
            <span className="flex gap-3">
              {PERMISSIONS.map((p) => (
                <label key={p} className="flex min-h-9 items-center gap-1.5">
                  <input type="checkbox" className="h-4 w-4" disabled={!admin} checked={(scope[t.id] || []).includes(p)} onChange={(e) => change(t.id, p, e.target.checked)} aria-label={`${t.name} may ${p}`} />
                  {p}
                </label>
              ))}
            </span>
          </li>
        ))}
      </ul>
    </Section>
  );
}
