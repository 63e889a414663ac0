// Teams (owners and admins): groups of members that trees can be scoped to. A tree scoped to
// teams reaches only their members' devices (besides owners and admins), so adding someone
// here is what makes such a tree arrive on their device at its next sync.
import { useCallback, useEffect, useState } from "react";
import { api } from "../data";
import { Button, Card, ErrorBox, inputClass } from "../ui/kit";

interface Team {
  id: string;
  name: string;
  members: string[];
}
export interface TeamMember {
  id: string;
  email: string;
  display_name: string;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The members not yet in `team`, for its "add" picker. */
export function outsiders(team: Team, users: TeamMember[]): TeamMember[] {
  return users.filter((u) => !team.members.includes(u.id));
}

function TeamRow({ team, users, onSaved, onError }: { team: Team; users: TeamMember[]; onSaved: (t: Team) => void; onError: (msg: string) => void }) {
  const [pick, setPick] = useState("");
  const nameOf = (id: string) => {
    const u = users.find((x) => x.id === id);
    return u ? u.display_name || u.email : id;
  };
  const setMembers = async (members: string[]) => {
    try {
      onSaved(await api<Team>(`/api/v1/teams/${encodeURIComponent(team.id)}`, { method: "PATCH", body: { members } }));
    } catch (e) {
      onError(`${team.name}: ${errText(e)}`);
    }
  };
  const candidates = outsiders(team, users);
  return (
    <div className="space-y-2 px-4 py-3" data-testid="team-row" data-name={team.name}>
      <div className="font-semibold text-slate-900 dark:text-white">{team.name}</div>
      <ul className="flex flex-wrap gap-2" aria-label={`Members of ${team.name}`}>
        {team.members.length === 0 && <li className="text-sm text-slate-500">No members yet</li>}
        {team.members.map((id) => (
          <li key={id} className="inline-flex items-center gap-1 rounded-full bg-slate-100 py-1 pl-3 pr-1 text-sm dark:bg-slate-800" data-testid="team-member">
            {nameOf(id)}
            <button type="button" className="min-h-8 min-w-8 rounded-full hover:bg-slate-200 dark:hover:bg-slate-700" aria-label={`Remove ${nameOf(id)} from ${team.name}`} onClick={() => void setMembers(team.members.filter((m) => m !== id))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      {candidates.length > 0 && (
        <div className="flex flex-wrap gap-2">
          <select aria-label={`Add a member to ${team.name}`} className="rounded-lg px-2.5 py-2 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700" value={pick} onChange={(e) => setPick(e.target.value)}>
            <option value="">Choose a member…</option>
            {candidates.map((u) => (
              <option key={u.id} value={u.id}>
                {u.display_name || u.email}
              </option>
            ))}
          </select>
          <Button className="!min-h-9 !text-sm" disabled={!pick} onClick={() => void setMembers([...team.members, pick]).then(() => setPick(""))}>
            Add to team
          </Button>
        </div>
      )}
    </div>
  );
}

export function TeamsSection({ users }: { users: TeamMember[] }) {
  const [teams, setTeams] = useState<Team[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const load = useCallback(() => {
    api<{ items: Team[] }>("/api/v1/teams").then(
      (r) => setTeams(r.items),
      (e) => setError(errText(e)),
    );
  }, []);
  useEffect(load, [load]);
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const team = await api<Team>("/api/v1/teams", { method: "POST", body: { name: name.trim(), members: [] } });
      setTeams((ts) => [...(ts || []), team]);
      setName("");
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  };
  const saved = (team: Team) => setTeams((ts) => ts && ts.map((t) => (t.id === team.id ? team : t)));
  return (
    <section className="space-y-3" aria-labelledby="teams-heading">
      <div>
        <h2 id="teams-heading" className="text-lg font-semibold text-slate-900 dark:text-white">
          Teams
        </h2>
        <p className="text-sm text-slate-500">Trees scoped to a team reach only its members' devices (owners and admins see every tree).</p>
      </div>
      {error && <ErrorBox title="Not changed">{error}</ErrorBox>}
      <form
        className="flex flex-wrap gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <input className={`${inputClass} max-w-xs`} aria-label="New team name" placeholder="New team name" value={name} maxLength={120} onChange={(e) => setName(e.target.value)} />
        <Button type="submit" tone="primary" busy={busy} disabled={!name.trim()}>
          Create team
        </Button>
      </form>
      {teams && teams.length > 0 && (
        <Card className="divide-y divide-slate-100 dark:divide-slate-800">
          {teams.map((t) => (
            <TeamRow key={t.id} team={t} users={users} onSaved={saved} onError={setError} />
          ))}
        </Card>
      )}
    </section>
  );
}
