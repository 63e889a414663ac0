// "Send to ConnectWise" on a session: a new ticket or an existing ticket number, with or
// without a time entry. The server queues it and pushes with retries, so the answer is "queued";
// the ticket link then appears in the session header once ConnectWise has it.
import { useState } from "react";
import type { SessionHeader } from "../data/sessions";
import { Button, Card, inputClass } from "../ui/kit";
import { psaErrorText, pushSession } from "./api";
import { PsaTicket } from "./PsaTicket";
import { pushBody, ticketNumber, type Target } from "./psa";

export function SendToConnectWise({ sid, header, online }: { sid: string; header: SessionHeader; online: boolean }) {
  const fromField = ticketNumber(header.ticket);
  const [target, setTarget] = useState<Target>(fromField ? { kind: "attach", ticket: String(fromField) } : { kind: "create" });
  const [timeEntry, setTimeEntry] = useState(true);
  const [busy, setBusy] = useState(false);
  const [queued, setQueued] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (header.psa)
    return (
      <Card className="flex flex-wrap items-center gap-x-3 px-4 py-2 text-sm text-slate-700 dark:text-slate-300" >
        <span>Sent to</span>
        <PsaTicket psa={header.psa} />
      </Card>
    );

  const send = async () => {
    const made = pushBody(target, timeEntry);
    if ("error" in made) {
      setError(made.error);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await pushSession(sid, made.body);
      setQueued(true);
    } catch (e) {
      setError(psaErrorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card className="space-y-3 p-4">
      <h2 className="text-base font-semibold text-slate-900 dark:text-white">Send to ConnectWise</h2>
      {queued ? (
        <p role="status" className="text-sm text-emerald-800 dark:text-emerald-200" data-testid="psa-queued">
          Queued. The notes and time go to ConnectWise in the background (retried if it is unavailable); the ticket link shows in the session header when it is there.
        </p>
      ) : (
        <>
          <fieldset className="space-y-1">
            <legend className="sr-only">Ticket</legend>
            <label className="flex min-h-11 items-center gap-2 text-sm font-medium">
              <input type="radio" name="psa-target" className="h-5 w-5 accent-indigo-600" checked={target.kind === "create"} onChange={() => setTarget({ kind: "create" })} />
              Create a new ticket
            </label>
            <div className="flex flex-wrap items-center gap-2">
              <label className="flex min-h-11 items-center gap-2 text-sm font-medium">
                <input type="radio" name="psa-target" className="h-5 w-5 accent-indigo-600" checked={target.kind === "attach"} onChange={() => setTarget({ kind: "attach", ticket: fromField ? String(fromField) : "" })} />
                Add to ticket number
              </label>
              {target.kind === "attach" && (
                <input aria-label="ConnectWise ticket number" inputMode="numeric" className={`${inputClass} w-36`} value={target.ticket} onChange={(e) => setTarget({ kind: "attach", ticket: e.target.value })} />
              )}
            </div>
          </fieldset>
          <label className="flex min-h-11 items-center gap-2 text-sm font-medium">
            <input type="checkbox" className="h-5 w-5 rounded accent-indigo-600" checked={timeEntry} onChange={(e) => setTimeEntry(e.target.checked)} />
            Add a time entry for the session's duration
          </label>
          <Button tone="primary" busy={busy} disabled={!online} title={online ? undefined : "Needs a connection"} onClick={send} data-testid="psa-send">
            Send to ConnectWise
          </Button>
          {!online && <p className="text-sm text-slate-500">Sending to ConnectWise needs a connection. A session set to go automatically is sent when it syncs.</p>}
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
