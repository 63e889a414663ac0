// "Share read-only link": an address for someone without an account (a client's IT contact)
// that shows this session as it is when they open it, until it expires or is revoked. The
// address holds the link's secret and is shown once, right after it is made.
import { useCallback, useEffect, useState } from "react";
import { ApiError, createShareLink, EXPIRY_CHOICES, linkStatus, listShareLinks, OfflineError, revokeShareLink, useOnline, useSessionWait, type CreatedShareLink, type ShareLink } from "../../data";
import { Button, copyText, Dialog, Field, inputClass, Spinner } from "../../ui/kit";

function message(e: unknown): string {
  if (e instanceof OfflineError) return "The server cannot be reached right now.";
  // Started on this device and not yet sent: the server has no such session until it syncs.
  if (e instanceof ApiError && e.status === 404) return "this session has not reached the server yet. Wait until the sync badge shows nothing waiting, then try again.";
  return e instanceof Error ? e.message : String(e);
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function NewLink({ link, title }: { link: CreatedShareLink; title: string }) {
  const [copied, setCopied] = useState<"idle" | "done" | "failed">("idle");
  useEffect(() => {
    if (copied === "idle") return;
    const t = setTimeout(() => setCopied("idle"), 2500);
    return () => clearTimeout(t);
  }, [copied]);
  const canShare = typeof navigator.share === "function";
  return (
    <div className="space-y-2 rounded-xl bg-emerald-50 p-3 dark:bg-emerald-950" data-testid="new-share-link">
      <p className="text-sm font-semibold text-emerald-900 dark:text-emerald-100">Link ready. Copy it now: it is shown only this once.</p>
      <input readOnly aria-label="Read-only link" className={`${inputClass} font-mono text-sm`} value={link.url} onFocus={(e) => e.currentTarget.select()} data-testid="share-link-url" />
      <div className="flex flex-wrap gap-2">
        <Button tone="primary" onClick={() => copyText(link.url).then(() => setCopied("done"), () => setCopied("failed"))}>
          {copied === "done" ? "Copied" : "Copy link"}
        </Button>
        {canShare && (
          <Button onClick={() => void navigator.share({ title, url: link.url }).catch(() => undefined)}>Share…</Button>
        )}
      </div>
      <p role="status" className="text-sm text-emerald-900 dark:text-emerald-100">
        {copied === "done" ? "Copied to the clipboard." : copied === "failed" ? "Copying was not allowed: select the link and copy it by hand." : ""}
      </p>
    </div>
  );
}

export function ShareLinkDialog({ sid, title, onClose }: { sid: string; title: string; onClose: () => void }) {
  const online = useOnline();
  const [days, setDays] = useState<number>(7);
  const [attachments, setAttachments] = useState(false);
  const [links, setLinks] = useState<ShareLink[] | null>(null);
  const [created, setCreated] = useState<CreatedShareLink | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    listShareLinks(sid).then(setLinks, (e: unknown) => setError(`Could not load this session's links: ${message(e)}`));
  }, [sid]);
  useEffect(() => {
    if (online) load();
  }, [online, load]);

  const [syncing, setSyncing] = useState(false);
  const syncWait = useSessionWait();
  // The link is made on the server and shows the session as the server has it: a link asked
  // for right after starting or answering waits up to half a minute for this session's changes to
  // get there ("Syncing…"), or the server does not know the session yet (404) or shows it
  // without the last answers. Then it goes anyway; a 404 then says to wait for the sync.
  const create = async () => {
    setBusy("create");
    setError(null);
    try {
      const synced = await syncWait.wait(sid, () => setSyncing(true));
      setSyncing(false);
      if (synced === null) return; // called off (or the dialog closed): no link is made
      const link = await createShareLink(sid, days, attachments);
      setCreated(link);
      load();
    } catch (e) {
      setError(`Could not make the link: ${message(e)}`);
    } finally {
      setSyncing(false);
      setBusy(null);
    }
  };
  const revoke = async (id: string) => {
    setBusy(id);
    setError(null);
    try {
      await revokeShareLink(sid, id);
      if (created?.id === id) setCreated(null);
      load();
    } catch (e) {
      setError(`Could not revoke the link: ${message(e)}`);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Dialog
      title="Share read-only link"
      onClose={onClose}
      footer={
        <Button onClick={onClose} data-autofocus={created ? undefined : ""}>
          Close
        </Button>
      }
    >
      <div className="space-y-4">
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Anyone with the link sees this session&apos;s report as it is when they open it (later steps and notes included), without an account. They cannot change anything.
        </p>
        {!online && (
          <p role="status" className="rounded-xl bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
            You are offline. Links are made on the server: connect, then try again.
          </p>
        )}
        {created ? (
          <NewLink link={created} title={title} />
        ) : (
          <form
            className="space-y-3"
            onSubmit={(e) => {
              e.preventDefault();
              void create();
            }}
          >
            <Field label="Link works for" htmlFor="share-expiry">
              <select id="share-expiry" className={inputClass} value={days} onChange={(e) => setDays(Number(e.target.value))}>
                {EXPIRY_CHOICES.map((d) => (
                  <option key={d} value={d}>
                    {d === 1 ? "1 day" : `${d} days`}
                  </option>
                ))}
              </select>
            </Field>
            <label className="flex min-h-11 cursor-pointer items-center gap-3 text-[0.9375rem]">
              <input type="checkbox" className="h-5 w-5 accent-indigo-600" checked={attachments} onChange={(e) => setAttachments(e.target.checked)} />
              Include attachments (screenshots are shown in the page)
            </label>
            <Button tone="primary" type="submit" busy={busy === "create"} disabled={!online}>
              Create link
            </Button>
            {syncing && (
              <div className="flex flex-wrap items-center gap-3">
                <p role="status" className="text-sm text-slate-600 dark:text-slate-300" data-testid="share-syncing">
                  Syncing… the link is made once this session's latest changes are on the server.
                </p>
                <Button onClick={syncWait.cancel} data-testid="share-cancel">
                  Cancel
                </Button>
              </div>
            )}
          </form>
        )}
        <section aria-labelledby="share-links-made">
          <h3 id="share-links-made" className="mb-1.5 text-sm font-semibold">
            Links made for this session
          </h3>
          {links === null ? (
            online && !error ? (
              <p className="flex items-center gap-2 text-sm text-slate-500">
                <Spinner className="h-4 w-4" /> Loading…
              </p>
            ) : null
          ) : links.length === 0 ? (
            <p className="text-sm text-slate-500">None yet.</p>
          ) : (
            <ul className="space-y-1.5" data-testid="share-links">
              {links.map((l) => (
                <li key={l.id} data-state={l.state} className="flex min-h-11 flex-wrap items-center justify-between gap-2 rounded-xl px-3 py-2 ring-1 ring-slate-200 ring-inset dark:ring-slate-700">
                  <span className="text-sm">
                    <span className="font-medium">{linkStatus(l, when)}</span>
                    <span className="block text-slate-500">
                      Made {when(l.created_at)}
                      {l.attachments ? " · with attachments" : ""}
                      {l.first_viewed_at ? ` · first opened ${when(l.first_viewed_at)}` : " · not opened yet"}
                    </span>
                  </span>
                  {l.state === "active" && (
                    <Button className="px-3 text-rose-700 dark:text-rose-300" busy={busy === l.id} disabled={!online} onClick={() => void revoke(l.id)}>
                      Revoke
                    </Button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
        {error && (
          <p className="text-sm font-medium text-rose-700 dark:text-rose-300" role="alert">
            {error}
          </p>
        )}
      </div>
    </Dialog>
  );
}
