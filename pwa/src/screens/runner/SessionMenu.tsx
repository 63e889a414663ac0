// The runner's "Session" sheet: edit the ticket and title, share with teammates or by a
// read-only link, print, abandon.
// Everything but choosing teammates is written to the device, so it works offline.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { exportNames, loadDirectory, OfflineError, useOnline, type DirectoryEntry } from "../../data";
import { abandonFields, checkDetails, sameMembers, withMember, type SessionRights } from "../../shared/access";
import { Button, Dialog, Field, identifierField, inputClass, Spinner } from "../../ui/kit";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String((e as { message?: string })?.message || e);
}

function MenuItem({ title, hint, onClick, danger = false, autoFocus = false }: { title: string; hint: string; onClick: () => void; danger?: boolean; autoFocus?: boolean }) {
  return (
    <button
      type="button"
      onClick={onClick}
      data-autofocus={autoFocus ? "" : undefined}
      className="flex min-h-14 w-full flex-col items-start justify-center rounded-xl px-4 py-2.5 text-left ring-1 ring-slate-200 ring-inset hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:ring-slate-700 dark:hover:bg-slate-800"
    >
      <span className={`font-semibold ${danger ? "text-rose-700 dark:text-rose-300" : "text-slate-900 dark:text-white"}`}>{title}</span>
      <span className="text-sm text-slate-500 dark:text-slate-400">{hint}</span>
    </button>
  );
}

export function SessionMenuDialog({
  rights,
  running,
  sharedCount,
  about,
  onClose,
  onPick,
}: {
  rights: SessionRights;
  running: boolean;
  sharedCount: number;
  /** What the tree applies to, its review and sources (TreeAbout), or null. */
  about?: ReactNode;
  onClose: () => void;
  onPick: (what: "details" | "share" | "sharelink" | "print" | "abandon") => void;
}) {
  const shared = sharedCount === 0 ? "Not shared yet" : `Shared with ${sharedCount} ${sharedCount === 1 ? "person" : "people"}`;
  return (
    <Dialog title="Session" onClose={onClose}>
      <div className="space-y-2.5">
        {rights.readOnlyReason && <p className="text-sm text-slate-600 dark:text-slate-400">{rights.readOnlyReason}</p>}
        {rights.write && <MenuItem title="Edit ticket and title" hint="Saved on this device, synced when online." onClick={() => onPick("details")} autoFocus />}
        <MenuItem title={rights.share ? "Share with teammates" : "Who it is shared with"} hint={shared} onClick={() => onPick("share")} autoFocus={!rights.write} />
        {rights.share && <MenuItem title="Share read-only link" hint="A link for someone without an account, e.g. the client's IT contact." onClick={() => onPick("sharelink")} />}
        <MenuItem title="Print report" hint="The whole record, laid out for paper or PDF." onClick={() => onPick("print")} />
        {rights.write && running && <MenuItem title="Abandon session" hint="Stop here without finishing; you can reopen it later." onClick={() => onPick("abandon")} danger />}
        {about}
      </div>
    </Dialog>
  );
}

export function EditDetailsDialog({
  ticket,
  title,
  onClose,
  onSave,
}: {
  ticket: string;
  title: string;
  onClose: () => void;
  onSave: (changes: { ticket?: string | null; title?: string }) => Promise<void>;
}) {
  const [form, setForm] = useState({ ticket, title });
  const [error, setError] = useState<{ field: string | null; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async () => {
    const checked = checkDetails(form.ticket, form.title);
    if (!checked.ok) {
      setError({ field: checked.field, text: checked.error });
      document.getElementById(checked.field === "title" ? "edit-title" : "edit-ticket")?.focus();
      return;
    }
    // Only what the person changed here: a field saved unchanged would count as edited now and
    // could override another device's edit of it when the two sync.
    const changes: { ticket?: string | null; title?: string } = {};
    if (checked.changes.ticket !== (ticket.trim() || null)) changes.ticket = checked.changes.ticket;
    if (checked.changes.title !== title.trim()) changes.title = checked.changes.title;
    setBusy(true);
    try {
      if (Object.keys(changes).length) await onSave(changes);
      onClose();
    } catch (e) {
      setError({ field: null, text: `Could not save on this device: ${message(e)}` });
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Ticket and title"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button tone="primary" busy={busy} type="submit" form="edit-details">
            Save
          </Button>
        </>
      }
    >
      <form
        id="edit-details"
        className="space-y-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <Field label="Ticket number" htmlFor="edit-ticket" hint="Optional. Shown on the export so it lands on the right ticket.">
          <input id="edit-ticket" className={inputClass} value={form.ticket} autoComplete="off" {...identifierField} aria-invalid={error?.field === "ticket" || undefined} aria-describedby={error ? "edit-error" : undefined} onChange={(e) => setForm({ ...form, ticket: e.target.value })} />
        </Field>
        <Field label="Title" htmlFor="edit-title">
          <input id="edit-title" className={inputClass} value={form.title} autoComplete="off" aria-invalid={error?.field === "title" || undefined} aria-describedby={error ? "edit-error" : undefined} onChange={(e) => setForm({ ...form, title: e.target.value })} />
        </Field>
        {error && (
          <p id="edit-error" className="text-sm font-medium text-rose-700 dark:text-rose-300" role="alert">
            {error.text}
          </p>
        )}
      </form>
    </Dialog>
  );
}

type DirectoryState = { status: "idle" | "loading" | "ready" | "failed"; items: DirectoryEntry[]; error: string | null };

/** The tenant directory, fetched when `enabled` and online (and again on coming back online). */
function useDirectory(tenantId: string, enabled: boolean, online: boolean): DirectoryState & { retry: () => void } {
  const [state, setState] = useState<DirectoryState>({ status: "idle", items: [], error: null });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!enabled || !online) return;
    let live = true;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- each fetch of the directory shows as loading
    setState((s) => ({ ...s, status: "loading", error: null }));
    loadDirectory(tenantId).then(
      (items) => live && setState({ status: "ready", items, error: null }),
      (e: unknown) =>
        live &&
        setState((s) => ({
          ...s,
          status: "failed",
          error: e instanceof OfflineError ? "The server cannot be reached right now." : message(e),
        })),
    );
    return () => {
      live = false;
    };
  }, [tenantId, enabled, online, attempt]);
  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return { ...state, retry };
}

export function ShareDialog({
  tenantId,
  meId,
  ownerId,
  sharedWith,
  canShare,
  onClose,
  onSave,
}: {
  tenantId: string;
  meId: string;
  ownerId: string;
  sharedWith: string[];
  canShare: boolean;
  onClose: () => void;
  onSave: (sharedWith: string[]) => Promise<void>;
}) {
  const online = useOnline();
  const directory = useDirectory(tenantId, canShare, online);
  const [picked, setPicked] = useState<string[]>(sharedWith);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const known = exportNames(tenantId);
  for (const u of directory.items) known[u.id] = u.display_name;
  const nameOf = (id: string) => (id === meId ? `${known[id] || "You"} (you)` : known[id] || `Unknown teammate (${id})`);
  const editable = canShare && directory.status === "ready";
  // Everyone who could be picked: the directory, plus anyone already on the list it no longer shows.
  const candidates = editable
    ? [...directory.items.map((u) => u.id), ...sharedWith.filter((id) => !directory.items.some((u) => u.id === id))].filter((id) => id !== ownerId && id !== meId)
    : [];
  const changed = !sameMembers(picked, sharedWith);

  const save = async () => {
    setBusy(true);
    try {
      await onSave(picked);
      onClose();
    } catch (e) {
      setError(`Could not save on this device: ${message(e)}`);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Share this session"
      onClose={onClose}
      footer={
        editable ? (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button tone="primary" busy={busy} disabled={!changed} onClick={save}>
              Save sharing
            </Button>
          </>
        ) : (
          <Button onClick={onClose} data-autofocus>
            Close
          </Button>
        )
      }
    >
      <div className="space-y-4">
        <p className="text-sm text-slate-600 dark:text-slate-400">Teammates you share with get this session on their devices and can answer steps and add notes. Admins see every session anyway.</p>
        {!canShare && <p className="rounded-xl bg-slate-100 p-3 text-sm text-slate-700 dark:bg-slate-800 dark:text-slate-300">Only the session's owner or an admin can change who it is shared with.</p>}
        {canShare && !online && (
          <p role="status" className="rounded-xl bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
            You are offline. Choosing teammates needs a connection to load your team; the people listed below keep their access.
          </p>
        )}
        {canShare && online && directory.status === "loading" && (
          <p role="status" className="flex items-center gap-2 text-sm text-slate-500">
            <Spinner className="h-4 w-4" /> Loading your team…
          </p>
        )}
        {canShare && online && directory.status === "failed" && (
          <div role="alert" className="rounded-xl bg-rose-50 p-3 text-sm text-rose-900 dark:bg-rose-950 dark:text-rose-100">
            <p>Could not load your team: {directory.error}</p>
            <Button className="mt-2" onClick={directory.retry}>
              Try again
            </Button>
          </div>
        )}
        {editable ? (
          candidates.length === 0 ? (
            <p className="text-sm text-slate-500">There is nobody else in your team yet.</p>
          ) : (
            <fieldset>
              <legend className="mb-1.5 text-sm font-semibold">Share with</legend>
              <ul className="max-h-[45vh] space-y-1.5 overflow-y-auto" data-testid="share-candidates">
                {candidates.map((id) => (
                  <li key={id}>
                    <label className="flex min-h-11 cursor-pointer items-center gap-3 rounded-xl px-3 py-2 ring-1 ring-slate-200 ring-inset hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">
                      <input type="checkbox" className="h-5 w-5 accent-indigo-600" checked={picked.includes(id)} onChange={(e) => setPicked((p) => withMember(p, id, e.target.checked))} />
                      <span className="min-w-0 truncate">{nameOf(id)}</span>
                    </label>
                  </li>
                ))}
              </ul>
            </fieldset>
          )
        ) : (
          <section aria-labelledby="shared-now">
            <h3 id="shared-now" className="mb-1.5 text-sm font-semibold">
              Shared with
            </h3>
            {sharedWith.length === 0 ? (
              <p className="text-sm text-slate-500">Nobody yet.</p>
            ) : (
              <ul className="space-y-1 text-[0.9375rem]" data-testid="shared-list">
                {sharedWith.map((id) => (
                  <li key={id} className="truncate">
                    {nameOf(id)}
                  </li>
                ))}
              </ul>
            )}
          </section>
        )}
        {error && (
          <p className="text-sm font-medium text-rose-700" role="alert">
            {error}
          </p>
        )}
      </div>
    </Dialog>
  );
}

export function AbandonDialog({ onClose, onAbandon }: { onClose: () => void; onAbandon: (fields: { reason?: string }) => Promise<void> }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const abandon = async () => {
    setBusy(true);
    try {
      await onAbandon(abandonFields(reason));
    } catch (e) {
      setError(`Could not save on this device: ${message(e)}`);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Abandon this session?"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Keep working</Button>
          <Button tone="danger" busy={busy} onClick={abandon}>
            Abandon session
          </Button>
        </>
      }
    >
      <div className="space-y-4">
        <p className="text-sm text-slate-600 dark:text-slate-400">The session stops here and shows as abandoned in History. Its steps and notes are kept, and it can be reopened later.</p>
        <Field label="Reason (optional)" htmlFor="abandon-reason" hint="E.g. “Duplicate ticket” or “Customer fixed it themselves”.">
          <textarea id="abandon-reason" rows={3} className={inputClass} value={reason} onChange={(e) => setReason(e.target.value)} onKeyDown={(e) => e.key === "Enter" && (e.ctrlKey || e.metaKey) && void abandon()} />
        </Field>
        {error && (
          <p className="text-sm font-medium text-rose-700" role="alert">
            {error}
          </p>
        )}
      </div>
    </Dialog>
  );
}
