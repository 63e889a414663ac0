// A tree's team scope (`{team_id: permissions}`), as the server keeps it in the tree's sidecar.
export type Permission = "run" | "edit" | "publish";
export type Scope = Record<string, Permission[]>;
export const PERMISSIONS: Permission[] = ["run", "edit", "publish"];

/** The scope with `team` given or denied `perm`; a team left with no permission is dropped. */
export function toggled(scope: Scope, team: string, perm: Permission, on: boolean): Scope {
  const have = new Set(scope[team] || []);
  if (on) have.add(perm);
  else have.delete(perm);
  const out: Scope = { ...scope };
  if (have.size) out[team] = PERMISSIONS.filter((p) => have.has(p));
  else delete out[team];
  return out;
}
