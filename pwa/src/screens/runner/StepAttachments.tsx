// Screenshots and files at a step: camera, file picker or paste; kept on the device and
// uploaded when the network allows (src/attachments), then shown from the server.
import { useEffect, useRef, useState } from "react";
import { addAttachment, type QueueItem } from "../../attachments";
import { attachments as attachmentsStore, auth, useObservable } from "../../data";
import type { Attachment } from "../../shared/fold";

function formatSize(n: unknown): string {
  const size = typeof n === "number" ? n : 0;
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

const STATUS_LABEL: Record<string, string> = {
  queued: "Waiting for network",
  uploading: "Uploading…",
  stored: "Saving…",
  failed: "Retrying soon",
  refused: "Refused",
};

function Thumb({ src, alt }: { src: string | null; alt: string }) {
  return src ? (
    <img src={src} alt={alt} className="h-16 w-16 shrink-0 rounded-lg object-cover ring-1 ring-slate-200 dark:ring-slate-700" />
  ) : (
    <span className="flex h-16 w-16 shrink-0 items-center justify-center rounded-lg bg-slate-100 text-xs font-semibold text-slate-500 uppercase dark:bg-slate-800" aria-hidden="true">
      file
    </span>
  );
}

function StoredItem({ sessionId, a }: { sessionId: string; a: Attachment }) {
  const [src, setSrc] = useState<string | null>(null);
  const isImage = typeof a.content_type === "string" && a.content_type.startsWith("image/");
  useEffect(() => {
    if (!isImage || !navigator.onLine) return;
    let url: string | null = null;
    let cancelled = false;
    auth
      .fetch(`/api/v1/sessions/${sessionId}/attachments/${a.attachment_id}`)
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (b && !cancelled) setSrc((url = URL.createObjectURL(b)));
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [sessionId, a.attachment_id, isImage]);
  return (
    <li className="flex items-center gap-3">
      <Thumb src={src} alt={String(a.name || "")} />
      <span className="min-w-0 text-sm">
        <span className="block truncate font-medium">{String(a.name || "attachment")}</span>
        <span className="text-slate-500">{formatSize(a.size)} · on the server</span>
      </span>
    </li>
  );
}

function QueuedItem({ item, onRetry, onDiscard }: { item: QueueItem; onRetry: () => void; onDiscard: () => void }) {
  const att = useObservable(attachmentsStore);
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    if (!att || !item.type.startsWith("image/")) return;
    let url: string | null = null;
    void att.queue.blob(item.attachment_id).then((b) => b && setSrc((url = URL.createObjectURL(b))));
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [att, item.attachment_id, item.type]);
  return (
    <li className="flex items-center gap-3" data-testid="queued-attachment">
      <Thumb src={src} alt={item.name} />
      <span className="min-w-0 flex-1 text-sm">
        <span className="block truncate font-medium">{item.name}</span>
        <span className={item.status === "refused" ? "text-rose-700" : "text-amber-700 dark:text-amber-400"}>
          {formatSize(item.size)} · {STATUS_LABEL[item.status] || item.status}
          {item.last_error && (item.status === "refused" || item.status === "failed") ? `: ${item.last_error}` : ""}
        </span>
      </span>
      {(item.status === "refused" || item.status === "failed") && (
        <button type="button" onClick={onRetry} className="min-h-11 rounded-lg px-3 text-sm font-semibold text-indigo-700 hover:bg-indigo-50">
          Retry
        </button>
      )}
      {item.status === "refused" && (
        <button type="button" onClick={onDiscard} className="min-h-11 rounded-lg px-3 text-sm font-semibold text-rose-700 hover:bg-rose-50">
          Remove
        </button>
      )}
    </li>
  );
}

export function StepAttachments({ sessionId, nodeId, stored, disabled }: { sessionId: string; nodeId: string; stored: Attachment[]; disabled?: boolean }) {
  const att = useObservable(attachmentsStore);
  const [queued, setQueued] = useState<QueueItem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const camera = useRef<HTMLInputElement>(null);
  const files = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!att) return;
    const refresh = () => void att.queue.forNode(sessionId, nodeId).then((items) => setQueued(items.filter((i) => i.status !== "done")));
    refresh();
    return att.queue.subscribe(refresh);
  }, [att, sessionId, nodeId]);

  const add = async (list: FileList | File[] | null) => {
    if (!att || !list) return;
    setError(null);
    for (const file of Array.from(list)) {
      try {
        await addAttachment(att.queue, { sessionId, nodeId, file }, att.upload, att.writeEvent);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    }
  };

  // Paste a screenshot anywhere on the runner page.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const pasted = e.clipboardData?.files;
      if (!pasted || !pasted.length || disabled) return;
      e.preventDefault();
      void add(pasted);
    };
    window.addEventListener("paste", onPaste);
    return () => window.removeEventListener("paste", onPaste);
  });

  const storedIds = new Set(stored.map((a) => String(a.attachment_id)));
  const waiting = queued.filter((q) => !storedIds.has(q.attachment_id));

  return (
    <section aria-label="Attachments" className="space-y-3">
      {(stored.length > 0 || waiting.length > 0) && (
        <ul className="space-y-2">
          {stored.map((a) => (
            <StoredItem key={String(a.attachment_id)} sessionId={sessionId} a={a} />
          ))}
          {waiting.map((q) => (
            <QueuedItem key={q.attachment_id} item={q} onRetry={() => void att?.queue.retry(q.attachment_id).then(() => att.queue.processQueue(att.upload, att.writeEvent))} onDiscard={() => void att?.queue.discard(q.attachment_id)} />
          ))}
        </ul>
      )}
      {error && <p className="text-sm text-rose-700" role="alert">{error}</p>}
      <div className="flex flex-wrap gap-2">
        <input ref={camera} type="file" accept="image/*" capture="environment" className="sr-only" tabIndex={-1} aria-label="Take a photo" onChange={(e) => void add(e.target.files).then(() => (e.target.value = ""))} />
        <input ref={files} type="file" multiple className="sr-only" tabIndex={-1} aria-label="Attach files" data-testid="attach-file" onChange={(e) => void add(e.target.files).then(() => (e.target.value = ""))} />
        <button type="button" disabled={disabled} onClick={() => camera.current?.click()} className="inline-flex min-h-11 items-center gap-2 rounded-xl px-3 text-sm font-semibold text-slate-700 ring-1 ring-slate-300 ring-inset hover:bg-slate-50 dark:text-slate-200 dark:ring-slate-600 dark:hover:bg-slate-800">
          <svg viewBox="0 0 24 24" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true"><path d="M3 8.5A2.5 2.5 0 0 1 5.5 6h1.7l1.3-2h7l1.3 2h1.7A2.5 2.5 0 0 1 21 8.5v9a2.5 2.5 0 0 1-2.5 2.5h-13A2.5 2.5 0 0 1 3 17.5v-9Z" /><circle cx="12" cy="13" r="3.5" /></svg> Photo
        </button>
        <button type="button" disabled={disabled} onClick={() => files.current?.click()} className="inline-flex min-h-11 items-center gap-2 rounded-xl px-3 text-sm font-semibold text-slate-700 ring-1 ring-slate-300 ring-inset hover:bg-slate-50 dark:text-slate-200 dark:ring-slate-600 dark:hover:bg-slate-800">
          <svg viewBox="0 0 24 24" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true"><path d="m18.4 11.1-6.9 6.9a4.5 4.5 0 0 1-6.4-6.4l7.8-7.8a3 3 0 0 1 4.2 4.2l-7.8 7.8a1.5 1.5 0 0 1-2.1-2.1l6.9-6.9" /></svg> Attach file
        </button>
        <span className="self-center text-xs text-slate-500">or paste a screenshot</span>
      </div>
    </section>
  );
}
