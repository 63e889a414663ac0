// What Ctrl+P prints from a session's screen: the whole record as the exports tell it (the
// same view model as the Markdown, text and HTML exports), laid out for paper. In print the
// interactive screen is hidden instead, so no navigation, button or input reaches the page,
// and notes print in full however long they are.
//
// The report is built only while printing (the browser's beforeprint, or print media), not on
// every keystroke of a running session, and is not in the page otherwise. Ctrl+P prints at
// once, with images this tab already fetched; "Print report" in the Session sheet first waits
// for the images, then opens the print dialog.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { flushSync } from "react-dom";
import { auth, exportNames, useSignIn } from "../../data";
import type { SessionBundle } from "../../data/sessions";
import { buildExportModel, DEFAULT_OPTIONS, type ExportAttachment, type ExportHolder } from "../../shared/export";

// Images fetched in this tab, by attachment id: a later print shows them without waiting.
const fetched = new Map<string, Promise<string | null>>();

function imageUrl(sid: string, attachmentId: string): Promise<string | null> {
  let p = fetched.get(attachmentId);
  if (!p) {
    p = auth
      .fetch(`/api/v1/sessions/${sid}/attachments/${attachmentId}`)
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => (b ? URL.createObjectURL(b) : null))
      .catch(() => null);
    // A failed fetch (offline) is tried again at the next print.
    void p.then((url) => url === null && fetched.delete(attachmentId));
    fetched.set(attachmentId, p);
  }
  return p;
}

/** The images still loading in a report, so "Print report" can wait for them. */
const Pending = createContext<Set<Promise<unknown>> | null>(null);

/** An image attachment from the server while online; offline it prints as its name. */
function PrintImage({ sid, att }: { sid: string; att: ExportAttachment }) {
  const [src, setSrc] = useState<string | null>(null);
  const pending = useContext(Pending);
  useEffect(() => {
    if (!att.is_image || !navigator.onLine) return;
    let cancelled = false;
    const p = imageUrl(sid, att.id).then((url) => {
      if (url && !cancelled) flushSync(() => setSrc(url));
    });
    pending?.add(p);
    return () => {
      cancelled = true;
    };
  }, [sid, att.id, att.is_image, pending]);
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

const PRINT_REQUEST = "bl:print-report";
const printMedia = () => window.matchMedia("print");
let printing = false;
const listeners = new Set<() => void>();

function setPrinting(on: boolean) {
  // Always tell the listeners: the answer also depends on the print media, which may have
  // changed while `printing` did not (print media left after a print ended).
  printing = on;
  // Synchronously, so the report is in the page before the browser lays it out for print.
  flushSync(() => listeners.forEach((l) => l()));
}

function subscribe(cb: () => void): () => void {
  listeners.add(cb);
  const before = () => setPrinting(true);
  const after = () => setPrinting(false);
  const media = (e: MediaQueryListEvent) => setPrinting(e.matches);
  const mq = printMedia();
  window.addEventListener("beforeprint", before);
  window.addEventListener("afterprint", after);
  mq.addEventListener("change", media);
  return () => {
    listeners.delete(cb);
    window.removeEventListener("beforeprint", before);
    window.removeEventListener("afterprint", after);
    mq.removeEventListener("change", media);
  };
}

/** True while the page is being printed (or shown with print media). */
function usePrinting(): boolean {
  return useSyncExternalStore(subscribe, () => printing || printMedia().matches);
}

/** "Print report": build the report, wait for its images, then open the print dialog. */
export function printReport(): void {
  window.dispatchEvent(new Event(PRINT_REQUEST));
}

export function SessionPrintReport(props: { sid: string; bundle: SessionBundle; running: boolean }) {
  const isPrinting = usePrinting();
  const [requested, setRequested] = useState(false);
  useEffect(() => {
    const ask = () => setRequested(true);
    window.addEventListener(PRINT_REQUEST, ask);
    return () => window.removeEventListener(PRINT_REQUEST, ask);
  }, []);
  // The report stays in the page while the dialog is open: printing is then true.
  const ready = useCallback(() => {
    setRequested(false);
    window.print();
  }, []);
  if (!isPrinting && !requested) return null;
  return <Report {...props} onReady={requested ? ready : null} />;
}

function Report({ sid, bundle, running, onReady }: { sid: string; bundle: SessionBundle; running: boolean; onReady: (() => void) | null }) {
  const signin = useSignIn();
  const [pending] = useState(() => new Set<Promise<unknown>>());
  const article = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!onReady) return;
    let live = true;
    // The images registered their fetches in their own effects, which run before this one; the
    // print dialog opens once those settle and the images are decoded, so none prints blank.
    void Promise.allSettled([...pending])
      .then(() => Promise.allSettled([...(article.current?.querySelectorAll("img") ?? [])].map((img) => img.decode())))
      .then(() => live && onReady());
    return () => {
      live = false;
    };
  }, [onReady, pending]);
  const model = useMemo(() => {
    if (!bundle.tree || !signin) return null;
    const tenant = signin.account.tenant;
    const names = { ...exportNames(tenant.id), [signin.account.user.id]: signin.account.user.display_name };
    // Everything the screen holds, whatever the team's export defaults leave out of exports.
    const options = DEFAULT_OPTIONS;
    // eslint-disable-next-line react-hooks/purity -- an open session's durations run to the moment it is printed
    const now = running ? Date.now() : null;
    return buildExportModel({ header: bundle.header, events: bundle.events, tree: bundle.tree, tree_version: bundle.treeVersion, client: bundle.client, now_ms: now }, options, tenant, names);
  }, [bundle, signin, running]);
  if (!model) return null;
  return (
    <Pending.Provider value={pending}>
    <article ref={article} className="hidden text-[11pt] leading-snug text-black print:block" data-testid="print-report">
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
          {model.summary.verification && (
            <>
              <dt className="font-semibold">Verification</dt>
              <dd>{model.summary.verification}</dd>
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
      <h2 className="mb-2 break-after-avoid text-base font-bold">Steps</h2>
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
    </Pending.Provider>
  );
}
