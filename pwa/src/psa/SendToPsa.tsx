// "Send to ConnectWise" / "Send to Autotask" on a session: a new ticket or an existing one
// (a ConnectWise number; an Autotask ticket number or id), with or without a time entry. The
// server queues it and pushes with retries, so the answer is "queued"; the ticket link then
// appears in the session header once the PSA has it. Only the PSAs the team configured are
// offered; while that is unknown (offline), ConnectWise's card stands in, as before Autotask.
//
// The server pushes only a finished session, and learns it is finished from the `completed`
// event live replication sends a moment after the engineer finishes here: a send right after
// finishing waits up to half a minute for this session's changes to reach the server ("Syncing…",
// with Cancel), then goes anyway. Refused while they are still on their way, it says so instead of "still in
// progress".
import { useEffect, useState } from "react";
import { ApiError, useSessionWait } from "../data";
import type { SessionHeader } from "../data/sessions";
import { Button, Card, inputClass } from "../ui/kit";
import { configuredSystems, psaErrorText, pushSession } from "./api";
import { PsaTicket } from "./PsaTicket";
import { pushBody, ticketRef, vendorName, type Target } from "./psa";

export function SendToPsa({ sid, header, online }: { sid: string; header: SessionHeader; online: boolean }) {
  const [systems, setSystems] = useState<string[] | null>(null);
  useEffect(() => {
    if (!online) return;
    let live = true;
    configuredSystems().then(
      (r) => live && setSystems(r.items.map((i) => i.system)),
      () => live && setSystems(null),
    );
    return () => {
      live = false;
    };
  }, [online]);

  if (header.psa)
    return (
      <Card className="flex flex-wrap items-center gap-x-3 px-4 py-2 text-sm text-slate-700 dark:text-slate-300">
        <span>Sent to</span>
        <PsaTicket psa={header.psa} />
      </Card>
    );
  return (
    <>
      {(systems ?? ["connectwise"]).map((system) => (
        <SendCard key={system} system={system} sid={sid} header={header} online={online} />
      ))}
    </>
  );
}

function SendCard({ system, sid, header, online }: { system: string; sid: string; header: SessionHeader; online: boolean }) {
  const vendor = vendorName(system);
  const fromField = ticketRef(system, header.ticket);
  const [target, setTarget] = useState<Target>(fromField ? { kind: "attach", ticket: fromField } : { kind: "create" });
  const [timeEntry, setTimeEntry] = useState(true);
  const [busy, setBusy] = useState(false);
  const [syncing, setSyncing] = useState(false);
  const [queued, setQueued] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const syncWait = useSessionWait();

  const send = async () => {
    const made = pushBody(target, timeEntry, system);
    if ("error" in made) {
      setError(made.error);
      return;
    }
    setBusy(true);
    setError(null);
    let synced: boolean | null = true;
    try {
      synced = await syncWait.wait(sid, () => setSyncing(true));
      setSyncing(false);
      if (synced === null) return; // called off: nothing is sent
      await pushSession(sid, made.body);
      setQueued(true);
    } catch (e) {
      const early = !synced && e instanceof ApiError && (e.status === 409 || e.status === 404);
      setError(early ? `The end of this session has not reached the server yet. Wait until the sync badge shows nothing waiting, then send it to ${vendor} again.` : psaErrorText(e));
    } finally {
      setSyncing(false);
      setBusy(false);
    }
  };

  const radio = `psa-target-${system}`;
  return (
    <Card className="space-y-3 p-4">
      <h2 className="text-base font-semibold text-slate-900 dark:text-white">Send to {vendor}</h2>
      {queued ? (
        <p role="status" className="text-sm text-emerald-800 dark:text-emerald-200" data-testid="psa-queued">
          Queued. The notes and time go to {vendor} in the background (retried if it is unavailable); the ticket link shows in the session header when it is there.
        </p>
      ) : (
        <>
          <fieldset className="space-y-1">
            <legend className="sr-only">{vendor} ticket</legend>
            <label className="flex min-h-11 items-center gap-2 text-sm font-medium">
              <input type="radio" name={radio} className="h-5 w-5 accent-indigo-600" checked={target.kind === "create"} onChange={() => setTarget({ kind: "create" })} />
              Create a new ticket
            </label>
            <div className="flex flex-wrap items-center gap-2">
              <label className="flex min-h-11 items-center gap-2 text-sm font-medium">
                <input type="radio" name={radio} className="h-5 w-5 accent-indigo-600" checked={target.kind === "attach"} onChange={() => setTarget({ kind: "attach", ticket: fromField ?? "" })} />
                Add to ticket number
              </label>
              {target.kind === "attach" && (
                <input
                  aria-label={`${vendor} ticket number`}
                  inputMode={system === "autotask" ? "text" : "numeric"}
                  placeholder={system === "autotask" ? "T20261203.0042" : ""}
                  className={`${inputClass} ${system === "autotask" ? "w-48" : "w-36"}`}
                  value={target.ticket}
                  onChange={(e) => setTarget({ kind: "attach", ticket: e.target.value })}
                />
              )}
            </div>
          </fieldset>
          <label className="flex min-h-11 items-center gap-2 text-sm font-medium">
            <input type="checkbox" className="h-5 w-5 rounded accent-indigo-600" checked={timeEntry} onChange={(e) => setTimeEntry(e.target.checked)} />
            Add a time entry for the session's duration
          </label>
          <Button tone="primary" busy={busy} disabled={!online} title={online ? undefined : "Needs a connection"} onClick={send} data-testid={system === "connectwise" ? "psa-send" : `psa-send-${system}`}>
            Send to {vendor}
          </Button>
          {syncing && (
            <div className="flex flex-wrap items-center gap-3">
              <p role="status" className="text-sm text-slate-600 dark:text-slate-300" data-testid="psa-syncing">
                Syncing… the session goes to {vendor} once its end is on the server.
              </p>
              <Button onClick={syncWait.cancel} data-testid={system === "connectwise" ? "psa-cancel" : `psa-cancel-${system}`}>
                Cancel
              </Button>
            </div>
          )}
          {!online && <p className="text-sm text-slate-500">Sending to {vendor} needs a connection. A session set to go automatically is sent when it syncs.</p>}
        </>
      )}
      {error && (
        <p role="alert" className="text-sm font-semibold text-rose-700 dark:text-rose-300" data-testid="psa-error">
          {error}
        </p>
      )}
    </Card>
  );
}
