// The script library: every published script for engineers; drafts too for authors.
import { useCallback, useEffect, useState } from "react";
import { Card, ErrorBox, Link, Loading } from "../ui/kit";
import { scriptsApi, type ScriptRow } from "./api";
import { RiskBadge } from "./RiskBadge";

export default function ScriptLibrary() {
  const [rows, setRows] = useState<ScriptRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(
    () =>
      scriptsApi.list().then(
        (r) => {
          setError(null);
          setRows(r.items);
        },
        (e: Error) => setError(e.message),
      ),
    [],
  );
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Scripts</h1>
        <p className="mt-1 text-slate-600 dark:text-slate-400">
          PowerShell to run on a client's machine. Fill in the values, then copy the script: the values are checked and
          cannot change what the script does.
        </p>
      </div>
      {error && <ErrorBox title="The scripts could not be loaded" onRetry={() => void load()}>{error}</ErrorBox>}
      {!rows && !error && <Loading />}
      {rows && rows.length === 0 && <p className="text-slate-600 dark:text-slate-400">No scripts are published yet.</p>}
      {rows && rows.length > 0 && (
        <Card>
          <ul data-testid="script-list" className="divide-y divide-slate-200 dark:divide-slate-800">
            {rows.map((r) => (
              <li key={r.id}>
                <Link to={`/scripts/${encodeURIComponent(r.id)}`} className="block px-4 py-3 hover:bg-slate-50 dark:hover:bg-slate-800/60">
                  <span className="flex flex-wrap items-center justify-between gap-2">
                    <span className="font-semibold text-slate-900 dark:text-white">{r.name}</span>
                    <span className="flex items-center gap-2">
                      {r.latest_version === null && (
                        <span className="rounded-full bg-slate-200 px-2.5 py-0.5 text-xs font-semibold text-slate-800 dark:bg-slate-700 dark:text-slate-100">
                          Draft
                        </span>
                      )}
                      <RiskBadge risk={r.risk} />
                    </span>
                  </span>
                  <span className="mt-1 line-clamp-2 block text-sm text-slate-600 dark:text-slate-400">{r.description}</span>
                </Link>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </div>
  );
}
