// The audit log (owners and admins): who did what, when and from where, newest first, in
// plain sentences (auditText.ts); filters kept in the URL so a filtered view can be shared
// and Back works; the CSV of the same filter; the hash chain's check; how long entries are
// kept. Online only, like the other admin tabs: the log lives on the server alone.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, useSignIn } from "../data";
import { downloadCsv } from "../insights/cache";
import { navigate, useLocation } from "../router";
import { Button, Card, ErrorBox, Field, inputClass, Loading, useNow } from "../ui/kit";
import { AdminTabs } from "./AdminTabs";
import { ACTION_GROUPS, actionFilterLabel, actorLabel, apiQuery, describeAction, filtersFromQuery, filtersToQuery, KNOWN_ACTIONS, recently, targetLabel, type AuditEntry, type AuditFilters, type AuditNames } from "./auditText";

const PATH = "/admin/audit";

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The tenant's people, keys, trees and teams by id, so entries can name them. Each list is
 * best effort: one that fails to load leaves ids in the sentences, nothing worse. */
function useNames(): AuditNames {
  const [names, setNames] = useState<AuditNames>({});
  useEffect(() => {
    const items = <T,>(path: string) => api<{ items: T[] }>(path).then((r) => r.items, () => [] as T[]);
    let live = true;
    void Promise.all([
      items<{ id: string; email: string; display_name: string }>("/api/v1/users?limit=200"),
      items<{ id: string; name: string }>("/api/v1/api-keys?limit=200"),
      items<{ id: string; title: string }>("/api/v1/trees?limit=200&include_archived=true"),
      items<{ id: string; name: string }>("/api/v1/teams?limit=200"),
    ]).then(([users, keys, trees, teams]) => {
      if (!live) return;
      setNames({
        users: Object.fromEntries(users.map((u) => [u.id, { name: u.display_name, email: u.email }])),
        keys: Object.fromEntries(keys.map((k) => [k.id, k.name])),
        trees: Object.fromEntries(trees.map((t) => [t.id, t.title])),
        teams: Object.fromEntries(teams.map((t) => [t.id, t.name])),
      });
    });
    return () => {
      live = false;
    };
  }, []);
  return names;
}

function FilterForm({ current, onApply }: { current: AuditFilters; onApply: (f: AuditFilters) => void }) {
  const [draft, setDraft] = useState(current);
  const [open, setOpen] = useState(false);
  const [prev, setPrev] = useState(current);
  // Back or a shared link changes the URL: the form follows it.
  if (prev !== current) {
    setPrev(current);
    setDraft(current);
  }
  const on = [current.action, current.actor, current.from, current.to].filter(Boolean).length;
  const custom = draft.action && !draft.action.endsWith(".") && !KNOWN_ACTIONS.includes(draft.action) ? draft.action : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setOpen(false);
    onApply({ ...draft, actor: draft.actor.trim() });
  };
  return (
    <Card className="p-4 sm:p-5">
      {/* On a phone the filters fold away under one button; from sm up they are always shown. */}
      <button type="button" className="flex min-h-11 w-full items-center justify-between text-left font-semibold sm:hidden" aria-expanded={open} aria-controls="audit-filters" onClick={() => setOpen(!open)}>
        <span>Filters{on ? ` (${on} on)` : ""}</span>
        <span aria-hidden="true">{open ? "▴" : "▾"}</span>
      </button>
      <form id="audit-filters" onSubmit={submit} className={`${open ? "mt-3 grid" : "hidden"} gap-4 sm:mt-0 sm:grid sm:grid-cols-2 lg:grid-cols-4`} aria-label="Filter the audit log">
        <Field label="What" htmlFor="audit-action">
          <select id="audit-action" className={inputClass} value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })}>
            <option value="">Everything</option>
            <optgroup label="Groups">
              {ACTION_GROUPS.map((g) => (
                <option key={g.prefix} value={g.prefix}>
                  {g.label}
                </option>
              ))}
            </optgroup>
            <optgroup label="One action">
              {custom && <option value={custom}>{custom}</option>}
              {KNOWN_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </optgroup>
          </select>
        </Field>
        <Field label="Who (e-mail)" htmlFor="audit-actor" hint="The whole address.">
          <input id="audit-actor" type="text" inputMode="email" className={inputClass} value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} placeholder="ana@your-msp.com" autoCapitalize="off" autoCorrect="off" spellCheck={false} />
        </Field>
        <Field label="From" htmlFor="audit-from">
          <input id="audit-from" type="date" className={inputClass} value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </Field>
        <Field label="To (including that day)" htmlFor="audit-to">
          <input id="audit-to" type="date" className={inputClass} value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </Field>
        <div className="flex flex-wrap gap-2 sm:col-span-2 lg:col-span-4">
          <Button type="submit" tone="primary">
            Apply filters
          </Button>
          {on > 0 && (
            <Button
              onClick={() => {
                setOpen(false);
                onApply({ action: "", actor: "", from: "", to: "", limit: current.limit });
              }}
            >
              Clear filters
            </Button>
          )}
        </div>
      </form>
    </Card>
  );
}

function When({ ts, now }: { ts: string; now: number }) {
  const at = new Date(ts);
  const full = Number.isNaN(at.getTime()) ? ts : at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  const near = recently(ts, now);
  return (
    <time dateTime={ts} title={full} className="whitespace-nowrap">
      {near ?? full}
    </time>
  );
}

function EntryRow({ entry, names, now }: { entry: AuditEntry; names: AuditNames; now: number }) {
  const hasDetails = Object.keys(entry.details ?? {}).length > 0;
  return (
    <li data-testid="audit-entry" data-action={entry.action} data-seq={entry.seq} className="rounded-2xl border border-slate-200 bg-white p-4 shadow-sm sm:rounded-none sm:border-0 sm:border-b sm:shadow-none dark:border-slate-800 dark:bg-slate-900">
      <div className="grid gap-1 sm:grid-cols-[10rem_minmax(0,1fr)] sm:gap-x-4">
        <div className="text-sm text-slate-500 dark:text-slate-400">
          <When ts={entry.ts} now={now} />
        </div>
        <div className="min-w-0">
          <p className="[overflow-wrap:anywhere]">
            <span className="font-semibold" data-testid="audit-actor">
              {actorLabel(entry.actor, names)}
            </span>{" "}
            <span data-testid="audit-sentence">{describeAction(entry, names)}</span>
          </p>
          <p className="mt-0.5 text-sm text-slate-500 [overflow-wrap:anywhere] dark:text-slate-400">
            <span className="sr-only">Target: </span>
            {targetLabel(entry, names)}
            {entry.ip && (
              <>
                {" · "}
                <span className="sr-only">Address: </span>
                <span data-testid="audit-ip">{entry.ip}</span>
              </>
            )}
            {" · "}
            <span className="font-mono text-xs">{entry.action}</span>
          </p>
          {hasDetails && (
            <details className="mt-2 text-sm">
              <summary className="inline-flex min-h-11 cursor-pointer items-center font-semibold text-indigo-700 dark:text-indigo-300">Details</summary>
              {/* Text, never markup: React escapes whatever a user typed into a name or note. */}
              <pre data-testid="audit-details" className="mt-1 whitespace-pre-wrap rounded-xl bg-slate-50 p-3 font-mono text-xs [overflow-wrap:anywhere] dark:bg-slate-950">
                {JSON.stringify(entry.details, null, 2)}
              </pre>
            </details>
          )}
        </div>
      </div>
    </li>
  );
}

function Integrity() {
  const [busy, setBusy] = useState(false);
  const [verdict, setVerdict] = useState<{ ok: boolean; entries: number; problem: string | null; seq: number | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const check = async () => {
    setBusy(true);
    setError(null);
    setVerdict(null);
    try {
      setVerdict(await api("/api/v1/audit/verify"));
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="space-y-2">
      <Button busy={busy} onClick={() => void check()}>
        Check integrity
      </Button>
      {verdict?.ok && (
        <p role="status" data-testid="audit-integrity" data-ok="yes" className="font-semibold text-emerald-800 dark:text-emerald-300">
          The log is intact: {verdict.entries} {verdict.entries === 1 ? "entry" : "entries"} checked, none missing, edited or added by anyone but the server.
        </p>
      )}
      {verdict && !verdict.ok && (
        <div data-testid="audit-integrity" data-ok="no">
          <ErrorBox title="The log has been tampered with">
            <p>{verdict.problem}</p>
            <p className="mt-1">
              {verdict.entries} {verdict.entries === 1 ? "entry was" : "entries were"} intact before that{verdict.seq != null ? ` (the problem is at entry ${verdict.seq})` : ""}. Keep a copy (Download CSV) and tell your Branchline operator.
            </p>
          </ErrorBox>
        </div>
      )}
      {error && <ErrorBox title="The check could not run">{error}</ErrorBox>}
    </div>
  );
}

function Retention({ onSaved }: { onSaved: () => void }) {
  const [days, setDays] = useState<number | null | undefined>(undefined);
  const [forever, setForever] = useState(true);
  const [text, setText] = useState("365");
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ retention_days: number | null }>("/api/v1/audit/settings").then(
      (s) => {
        setDays(s.retention_days);
        setForever(s.retention_days === null);
        if (s.retention_days !== null) setText(String(s.retention_days));
      },
      (e: unknown) => setError(errText(e)),
    );
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    setError(null);
    try {
      // Sent as typed (a number when it reads as one): the server says what is allowed.
      const value = forever ? null : text.trim() === "" || Number.isNaN(Number(text)) ? text : Number(text);
      const r = await api<{ retention_days: number | null }>("/api/v1/audit/settings", { method: "PUT", body: { retention_days: value } });
      setDays(r.retention_days);
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card className="p-5">
      <h2 className="text-lg font-semibold">How long entries are kept</h2>
      {days === undefined && !error && <Loading />}
      {days !== undefined && (
        <form onSubmit={(e) => void submit(e)} noValidate className="mt-3 space-y-3">
          <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="audit-retention-now">
            Now: {days === null ? "kept forever" : `entries older than ${days} day${days === 1 ? "" : "s"} are removed each night`}.
          </p>
          <fieldset className="space-y-2">
            <legend className="sr-only">Retention</legend>
            <label className="flex min-h-11 items-center gap-2">
              <input type="radio" name="audit-retention" checked={forever} onChange={() => setForever(true)} />
              Keep forever
            </label>
            <label className="flex min-h-11 flex-wrap items-center gap-2">
              <input type="radio" name="audit-retention" checked={!forever} onChange={() => setForever(false)} />
              Remove entries older than
            </label>
          </fieldset>
          {!forever && (
            <Field label="Days" htmlFor="audit-retention-days" hint="From 1 to 36500. The chain stays verifiable: a signed checkpoint stands for the removed entries.">
              <input id="audit-retention-days" type="number" inputMode="numeric" className={`${inputClass} max-w-40`} value={text} onChange={(e) => setText(e.target.value)} />
            </Field>
          )}
          <Button type="submit" tone="primary" busy={busy}>
            Save retention
          </Button>
          {saved && (
            <p role="status" className="font-semibold text-emerald-800 dark:text-emerald-300">
              Saved.
            </p>
          )}
        </form>
      )}
      {error && (
        <div className="mt-3">
          <ErrorBox title="The retention was not saved">{error}</ErrorBox>
        </div>
      )}
    </Card>
  );
}

export default function AuditAdmin() {
  const signin = useSignIn();
  const here = useLocation();
  const search = here.includes("?") ? here.slice(here.indexOf("?")) : "";
  const [filters, setFilters] = useState(() => filtersFromQuery(search));
  const [shownFor, setShownFor] = useState(search);
  if (shownFor !== search) {
    setShownFor(search);
    setFilters(filtersFromQuery(search));
  }
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [reload, setReload] = useState(0);
  const [csvBusy, setCsvBusy] = useState(false);
  const [csvError, setCsvError] = useState<string | null>(null);
  const names = useNames();
  const now = useNow(30000);
  const admin = !signin || ["owner", "admin"].includes(signin.account.role);
  const query = apiQuery({ ...filters, limit: filters.limit ?? 50 });

  useEffect(() => {
    if (!admin) return;
    let live = true;
    api<{ items: AuditEntry[]; next_cursor: string | null }>(`/api/v1/audit${query}`).then(
      (r) => {
        if (!live) return;
        setItems(r.items);
        setCursor(r.next_cursor);
        setError(null);
      },
      (e: unknown) => {
        if (!live) return;
        setItems([]);
        setCursor(null);
        setError(errText(e));
      },
    );
    return () => {
      live = false;
    };
  }, [admin, query, reload]);

  const loadMore = useCallback(async () => {
    if (!cursor) return;
    setMore(true);
    try {
      const r = await api<{ items: AuditEntry[]; next_cursor: string | null }>(`/api/v1/audit${query}&cursor=${encodeURIComponent(cursor)}`);
      setItems((prev) => [...(prev ?? []), ...r.items]);
      setCursor(r.next_cursor);
    } catch (e) {
      setError(errText(e));
    } finally {
      setMore(false);
    }
  }, [cursor, query]);

  if (!admin) return <ErrorBox title="Admins only">The audit log is for the team’s admins and owners.</ErrorBox>;

  const apply = (f: AuditFilters) => {
    setItems(null);
    navigate(PATH + filtersToQuery(f));
  };
  const filtered = Boolean(filters.action || filters.actor || filters.from || filters.to);
  const csv = () => {
    setCsvBusy(true);
    setCsvError(null);
    const day = new Date().toISOString().slice(0, 10);
    downloadCsv(`/api/v1/audit${apiQuery({ ...filters, limit: undefined })}`, `audit-log-${day}.csv`).then(
      () => setCsvBusy(false),
      (e: unknown) => {
        setCsvBusy(false);
        setCsvError(`The CSV could not be downloaded: ${errText(e)}`);
      },
    );
  };

  return (
    <div className="space-y-5">
      <AdminTabs tab="audit" />
      <h1 className="text-2xl font-semibold tracking-tight">Audit log</h1>
      <p className="text-sm text-slate-600 dark:text-slate-400">Sign-ins, changes to people, keys, trees and settings, and exports: written by the server only, each entry chained to the one before so none can be edited or removed unnoticed.</p>
      <FilterForm current={filters} onApply={apply} />
      <div className="flex flex-wrap items-start gap-3">
        <Button busy={csvBusy} onClick={csv}>
          Download CSV
        </Button>
        <Integrity />
      </div>
      {csvError && <ErrorBox title="No CSV">{csvError}</ErrorBox>}
      {error && <ErrorBox title="The log could not be loaded">{error}</ErrorBox>}
      {items === null && !error && <Loading />}
      {items && items.length === 0 && !error && (
        <Card className="p-5">
          <p className="font-semibold" data-testid="audit-empty">
            {filtered ? "No entries match these filters." : "The log has no entries yet."}
          </p>
          {filtered && (
            <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
              Widen the search: {filters.action ? `choose Everything instead of ${actionFilterLabel(filters.action)}, ` : ""}
              {filters.actor ? "clear the e-mail (it must match the whole address), " : ""}
              {filters.from || filters.to ? "widen or clear the dates, " : ""}or use Clear filters.
            </p>
          )}
        </Card>
      )}
      {items && items.length > 0 && (
        <div className="sm:rounded-2xl sm:border sm:border-slate-200 sm:bg-white sm:shadow-sm sm:dark:border-slate-800 sm:dark:bg-slate-900">
          <ul className="space-y-3 sm:space-y-0" aria-label="Audit log entries, newest first" data-testid="audit-list">
            {items.map((e) => (
              <EntryRow key={e.id} entry={e} names={names} now={now} />
            ))}
          </ul>
        </div>
      )}
      {cursor && items && (
        <Button busy={more} onClick={() => void loadMore()}>
          Load more
        </Button>
      )}
      <Retention onSaved={() => setReload((n) => n + 1)} />
    </div>
  );
}
