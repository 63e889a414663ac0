// Export: Markdown and text built on the device (byte-identical to the server's), HTML and
// PDF from the server when online. A copy or download made here is written down as an
// `exported` event, which syncs like any other and lands in the team's audit log (the
// server files exports it makes itself on its own).
import { useEffect, useMemo, useState } from "react";
import { device, downloadServerExport, exportDefaults, exportNames, saveBlob, useLocal, useOnline, useSignIn } from "../data";
import { useSession } from "../data/hooks";
import { addEvent } from "../data/sessions";
import { sessionRights } from "../shared/access";
import { SendToPsa } from "../psa/SendToPsa";
import { buildExportModel, DEFAULT_OPTIONS, renderMarkdown, renderText, type ExportOptions } from "../shared/export";
import { Button, copyText, ErrorBox, Link, Loading } from "../ui/kit";

type Format = "markdown" | "text";

const OPTION_LABELS: [keyof ExportOptions, string][] = [
  ["notes", "Notes"],
  ["timestamps", "Times"],
  ["undone", "Undone steps"],
  ["attachments", "Attachments"],
];

export function ExportPreview({ text }: { text: string }) {
  return (
    <pre data-testid="export-preview" tabIndex={0} className="max-h-[60vh] overflow-auto focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 rounded-2xl border border-slate-200 bg-white p-4 font-mono text-[13px] leading-relaxed whitespace-pre-wrap text-slate-800 shadow-inner sm:p-5 dark:border-slate-800 dark:bg-slate-900 dark:text-slate-200">
      {text}
    </pre>
  );
}

export default function ExportScreen({ sid }: { sid: string }) {
  const session = useSession(sid);
  const signin = useSignIn();
  const local = useLocal();
  const online = useOnline();
  const [format, setFormat] = useState<Format>("markdown");
  const [options, setOptions] = useState<ExportOptions>(() => ({ ...DEFAULT_OPTIONS, ...(signin ? exportDefaults(signin.account.tenant.id) : {}) }));
  // A confirmation fades; an error stays until it is dismissed or that action is tried again,
  // so an engineer who looked away still learns the PDF never came.
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<{ action: string; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const model = useMemo(() => {
    const b = session.data?.bundle;
    if (!b || !b.tree || !signin) return null;
    const names = { ...exportNames(signin.account.tenant.id), [signin.account.user.id]: signin.account.user.display_name };
    // eslint-disable-next-line react-hooks/purity -- an open session's durations run to the moment the export is built
    const now = session.data?.state?.status === "in_progress" ? Date.now() : null;
    return buildExportModel(
      { header: b.header, events: b.events, tree: b.tree, tree_version: b.treeVersion, client: b.client, now_ms: now },
      options,
      signin.account.tenant,
      names,
    );
  }, [session.data, signin, options]);

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(null), 2500);
    return () => clearTimeout(t);
  }, [notice]);

  if (session.loading) return <Loading label="Preparing the export…" />;
  if (session.error) return <ErrorBox title="This session is not on this device" onRetry={session.reload}>{session.error}</ErrorBox>;
  if (!model) return <Loading label="Waiting for the session's tree version…" />;

  const text = format === "markdown" ? renderMarkdown(model) : renderText(model);
  const ext = format === "markdown" ? "md" : "txt";
  const query = OPTION_LABELS.map(([k]) => `&${k}=${options[k]}`).join("");

  // Only a user who may write the session can add the record (a viewer's would be refused by
  // the server); it never stands between the user and the notes, so a failure is only logged.
  const header = session.data?.bundle?.header;
  const mayRecord = !!(local && signin && header && sessionRights(header, { id: signin.account.user.id, role: signin.account.role }).write);
  const recordExport = (how: "copy" | "download") => {
    if (!local || !mayRecord) return;
    addEvent(local, device, Date.now(), sid, "exported", { format, how }).catch((e: unknown) => console.warn("the export was not recorded on this device", e));
  };
  const failed = (action: string, e: unknown) => setError({ action, text: e instanceof Error ? e.message : String(e) });
  const retrying = (action: string) => setError((current) => (current?.action === action ? null : current));

  return (
    <div className="mx-auto max-w-3xl space-y-5">
      <Link to={`/s/${sid}`} className="inline-flex min-h-11 items-center text-sm font-semibold text-slate-600 hover:text-slate-900 dark:text-slate-300">
        ← Back to the session
      </Link>
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Export notes</h1>
        <p className="mt-1 text-slate-600 dark:text-slate-400">Ready to paste into the ticket. Markdown and text work offline.</p>
      </div>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="inline-flex rounded-xl bg-slate-200/70 p-1 dark:bg-slate-800" role="tablist" aria-label="Format">
          {(["markdown", "text"] as Format[]).map((f) => (
            <button
              key={f}
              type="button"
              role="tab"
              aria-selected={format === f}
              onClick={() => setFormat(f)}
              className={`min-h-11 rounded-lg px-4 text-sm font-semibold ${format === f ? "bg-white text-slate-900 shadow-sm dark:bg-slate-700 dark:text-white" : "text-slate-600 dark:text-slate-300"}`}
            >
              {f === "markdown" ? "Markdown" : "Plain text"}
            </button>
          ))}
        </div>
        <fieldset className="flex flex-wrap gap-x-4 gap-y-1">
          <legend className="sr-only">Include</legend>
          {OPTION_LABELS.map(([k, label]) => (
            <label key={k} className="flex min-h-11 items-center gap-2 text-sm font-medium">
              <input type="checkbox" className="h-5 w-5 rounded accent-indigo-600" checked={options[k]} onChange={(e) => setOptions({ ...options, [k]: e.target.checked })} />
              {label}
            </label>
          ))}
        </fieldset>
      </div>
      <div className="sticky top-14 z-10 -mx-4 flex flex-wrap gap-2 bg-slate-50/95 px-4 py-2 backdrop-blur sm:static sm:mx-0 sm:bg-transparent sm:px-0 sm:py-0 dark:bg-slate-950/95">
        <Button
          tone="primary"
          data-testid="copy-export"
          onClick={() => {
            retrying("copy");
            copyText(text).then(
              () => {
                setNotice("Copied to the clipboard");
                recordExport("copy");
              },
              (e: Error) => failed("copy", e),
            );
          }}
        >
          Copy {format === "markdown" ? "Markdown" : "text"}
        </Button>
        <Button
          onClick={() => {
            saveBlob(new Blob([text], { type: format === "markdown" ? "text/markdown" : "text/plain" }), `${model.filename}.${ext}`);
            recordExport("download");
          }}
        >
          Download .{ext}
        </Button>
        {(["html", "pdf"] as const).map((f) => (
          <Button
            key={f}
            disabled={!online}
            busy={busy === f}
            title={online ? undefined : "Needs a connection"}
            onClick={async () => {
              setBusy(f);
              retrying(f);
              try {
                await downloadServerExport(sid, f, query);
              } catch (e) {
                failed(f, e);
              } finally {
                setBusy(null);
              }
            }}
          >
            {f.toUpperCase()}
          </Button>
        ))}
      </div>
      {!online && <p className="text-sm text-slate-500">HTML and PDF are made by the server: they come back when you are online.</p>}
      {notice && (
        <p role="status" className="rounded-xl bg-emerald-50 px-4 py-2.5 text-sm font-semibold text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200">
          {notice}
        </p>
      )}
      {error && (
        <div role="alert" data-testid="export-error" className="flex items-start justify-between gap-3 rounded-xl bg-rose-50 px-4 py-2.5 text-sm font-semibold text-rose-800 dark:bg-rose-950 dark:text-rose-200">
          <p>
            {error.action === "copy" ? "Could not copy" : `The ${error.action.toUpperCase()} export failed`}: {error.text}
          </p>
          <button type="button" className="-my-1.5 min-h-9 shrink-0 rounded-lg px-2 underline" onClick={() => setError(null)}>
            Dismiss
          </button>
        </div>
      )}
      {session.data?.bundle && session.data.state?.status !== "in_progress" && <SendToPsa sid={sid} header={session.data.bundle.header} online={online} />}
      <ExportPreview text={text} />
    </div>
  );
}
