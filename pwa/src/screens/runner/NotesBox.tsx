// The notes box for the current step: saves as you type (at most one event every 2 s),
// keeps a copy on the device between keystrokes, and shows what others noted here.
import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from "react";
import type { Note } from "../../shared/fold";
import { browserTimers, ThrottledSaver } from "../../data/throttle";

export interface NotesBoxHandle {
  focus: () => void;
  flush: () => Promise<void>;
}

interface Props {
  children?: React.ReactNode;
  sessionId: string;
  nodeId: string;
  noteId: string;
  notes: Note[];
  names: Record<string, string>;
  disabled?: boolean;
  save: (text: string) => Promise<void>;
}

export const NOTE_INTERVAL_MS = 2000;

export const NotesBox = forwardRef<NotesBoxHandle, Props>(function NotesBox({ children, sessionId, nodeId, noteId, notes, names, disabled, save }, ref) {
  const mine = notes.find((n) => n.note_id === noteId);
  const others = notes.filter((n) => n.note_id !== noteId);
  const draftKey = `bl.draft.note.${sessionId}.${noteId}`;
  const [text, setText] = useState(() => localStorage.getItem(draftKey) ?? mine?.text ?? "");
  const [saved, setSaved] = useState<"idle" | "saving" | "saved">("idle");
  const area = useRef<HTMLTextAreaElement>(null);
  const saveRef = useRef(save);
  saveRef.current = save;
  const saver = useRef<ThrottledSaver | null>(null);
  if (!saver.current) {
    saver.current = new ThrottledSaver(
      async (t) => {
        setSaved("saving");
        await saveRef.current(t);
        setSaved("saved");
      },
      mine?.text ?? null,
      NOTE_INTERVAL_MS,
      { ...browserTimers, storage: localStorage },
      draftKey,
    );
  }

  useEffect(() => {
    const s = saver.current!;
    // Text typed on a page that closed before it was written: write it now.
    const left = localStorage.getItem(draftKey);
    if (left !== null && left !== (mine?.text ?? "")) s.update(left);
    const hide = () => void s.flush();
    const vis = () => document.visibilityState === "hidden" && hide();
    window.addEventListener("pagehide", hide);
    document.addEventListener("visibilitychange", vis);
    return () => {
      window.removeEventListener("pagehide", hide);
      document.removeEventListener("visibilitychange", vis);
      void s.flush();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Another device (or tab) of the same note: follow it while this box is not being edited.
  useEffect(() => {
    if (mine && document.activeElement !== area.current && !saver.current!.hasUnsaved && localStorage.getItem(draftKey) === null) setText(mine.text);
  }, [mine, draftKey]);

  useImperativeHandle(ref, () => ({ focus: () => area.current?.focus(), flush: () => saver.current!.flush() }), []);

  return (
    <section aria-labelledby={`notes-${nodeId}`}>
      <div className="mb-2 flex items-baseline justify-between gap-3">
        <label id={`notes-${nodeId}`} htmlFor="step-notes" className="font-semibold text-slate-900 dark:text-white">
          Notes and files for this step
        </label>
        <span className="text-xs text-slate-500" aria-live="polite" data-testid="note-status">
          {saved === "saving" ? "Saving…" : saved === "saved" ? "Saved" : ""}
        </span>
      </div>
      {others.length > 0 && (
        <ul className="mb-3 space-y-2">
          {others.map((n) => (
            <li key={n.note_id} className="rounded-xl bg-amber-50 px-3.5 py-2.5 text-[0.9375rem] text-slate-800 dark:bg-amber-950/40 dark:text-slate-200" data-testid="other-note">
              <p className="whitespace-pre-wrap">{n.text}</p>
              <p className="mt-1 text-xs text-slate-500">
                {names[n.user_id] || "Another engineer"} · {new Date(n.updated_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
              </p>
            </li>
          ))}
        </ul>
      )}
      <textarea
        id="step-notes"
        ref={area}
        rows={3}
        disabled={disabled}
        value={text}
        placeholder="What you saw, what you changed, who you spoke to…"
        onChange={(e) => {
          setText(e.target.value);
          setSaved("idle");
          saver.current!.update(e.target.value);
        }}
        onBlur={() => void saver.current!.flush()}
        className="block w-full resize-y rounded-xl border-0 bg-slate-50 px-3.5 py-3 text-base leading-relaxed text-slate-900 ring-1 ring-slate-200 ring-inset placeholder:text-slate-400 focus:bg-white focus:ring-2 focus:ring-indigo-600 dark:bg-slate-800 dark:text-slate-100 dark:ring-slate-700"
      />
      {children && <div className="mt-3">{children}</div>}
    </section>
  );
});
