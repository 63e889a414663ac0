// What Ctrl+P prints from a session's screen: the whole record as the exports tell it (the
// same view model as the Markdown, text and HTML exports), laid out for paper. On screen it
// stays hidden; in print the interactive screen is hidden instead, so no navigation, button
// or input reaches the page, and notes print in full however long they are.
import { useEffect, useMemo, useState } from "react";
import { auth, exportDefaults, exportNames, useSignIn } from "../../data";
import type { SessionBundle } from "../../data/sessions";
import { buildExportModel, DEFAULT_OPTIONS, type ExportAttachment, type ExportHolder } from "../../shared/export";

/** An image attachment fetched from the server while online; offline it prints as its name. */
function PrintImage({ sid, att }: { sid: string; att: ExportAttachment }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    if (!att.is_image || !navigator.onLine) return;
    let url: string | null = null;
    let cancelled = false;
    auth
      .fetch(`/api/v1/sessions/${sid}/attachments/${att.id}`)
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (b && !cancelled) setSrc((url = URL.createObjectURL(b)));
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [sid, att.id, att.is_image]);
  return src ? <img src={src} alt={att.caption || att.name} className="mt-1 block h-auto max-h-[60vh] max-w-full break-inside-avoid border border-slate-300" /> : null;
}

function Attached({ sid, x }: { sid: string; x: ExportHolder }) {
  return (
    <>
      {x.notes.map((n, i) => (
        <blockquote key={i} className="my-1 border-l-2 border-slate-300 pl-3 whitespace-pre-wrap wrap-anywhere text-slate-700" data-testid="print-note">
          {n}
        </blockquote>
      ))}
      {x.attachments.length > 0 && (
        <ul className="my-1 list-none pl-0">
          {x.attachments.map((a) => (
            <li key={a.id} className="break-inside-avoid">
              Attachment: {a.name}
              {a.size ? ` (${a.size})` : ""}
              {a.caption ? `: ${a.caption}` : ""}
              <PrintImage sid={sid} att={a} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export function SessionPrintReport({ sid, bundle, running }: { sid: string; bundle: SessionBundle; running: boolean }) {
  const signin = useSignIn();
  const model = useMemo(() => {
    if (!bundle.tree || !signin) return null;
    const tenant = signin.account.tenant;
    const names = { ...exportNames(tenant.id), [signin.account.user.id]: signin.account.user.display_name };
    const options = { ...DEFAULT_OPTIONS, ...exportDefaults(tenant.id) };
    // eslint-disable-next-line react-hooks/purity -- an open session's durations run to the moment it is printed
    const now = running ? Date.now() : null;
    return buildExportModel({ header: bundle.header, events: bundle.events, tree: bundle.tree, tree_version: bundle.treeVersion, client: bundle.client, now_ms: now }, options, tenant, names);
  }, [bundle, signin, running]);
  if (!model) return null;
  return (
    <article className="hidden text-[11pt] leading-snug text-black print:block" data-testid="print-report">
      <header className="mb-4 break-inside-avoid border-b border-slate-400 pb-2">
        <h1 className="text-xl font-bold wrap-anywhere">{model.title}</h1>
        <dl className="mt-1 grid grid-cols-[max-content_1fr] gap-x-4">
          {model.details.map((d) => (
            <div key={d.label} className="contents">
              <dt className="font-semibold">{d.label}</dt>
              <dd className="wrap-anywhere">{d.value}</dd>
            </div>
          ))}
          <dt className="font-semibold">Outcome</dt>
          <dd>{model.summary.outcome}</dd>
          {model.summary.root_cause && (
            <>
              <dt className="font-semibold">Root cause</dt>
              <dd>{model.summary.root_cause}</dd>
            </>
          )}
          {model.summary.fix && (
            <>
              <dt className="font-semibold">{model.summary.fix_label}</dt>
              <dd>{model.summary.fix}</dd>
            </>
          )}
        </dl>
      </header>
      <h2 className="mb-2 text-base font-bold">Steps</h2>
      {model.steps.length === 0 ? (
        <p>No steps were recorded.</p>
      ) : (
        <ol className="list-none space-y-3 pl-0">
          {model.steps.map((s) => (
            <li key={s.number} className="break-inside-avoid" data-testid="print-step">
              <p className={s.tried ? "text-slate-600" : ""}>
                <span className="font-semibold">{s.number}.</span> {s.time && <span className="text-slate-600">[{s.time}] </span>}
                {s.marker && <em>{s.marker}: </em>}
                {s.sentence}
              </p>
              {s.warning && <p className="border-l-2 border-amber-500 pl-2">Warning shown: {s.warning}</p>}
              {s.value && <p>Entered: {s.value}</p>}
              {s.commands.map((c, i) => (
                <pre key={i} className="my-1 border border-slate-300 p-2 font-mono text-[9pt] whitespace-pre-wrap wrap-anywhere">
                  {c.text}
                </pre>
              ))}
              <Attached sid={sid} x={s} />
            </li>
          ))}
        </ol>
      )}
      {model.other_notes.map((o) => (
        <section key={o.title} className="mt-3 break-inside-avoid">
          <h3 className="font-semibold">{o.title}</h3>
          <Attached sid={sid} x={o} />
        </section>
      ))}
      <section className="mt-4 break-inside-avoid">
        <h2 className="text-base font-bold">Outcome</h2>
        <p>
          <strong>{model.outcome.label}</strong>
          {model.outcome.title ? `: ${model.outcome.title}` : ""}
        </p>
        {model.outcome.current_step && <p>Stopped at: {model.outcome.current_step}</p>}
        {model.outcome.reason && <p>Reason: {model.outcome.reason}</p>}
        {model.outcome.handover && <p className="whitespace-pre-wrap">Hand-over: {model.outcome.handover}</p>}
        <Attached sid={sid} x={model.outcome} />
      </section>
    </article>
  );
}
