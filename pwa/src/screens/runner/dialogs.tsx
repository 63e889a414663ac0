// The runner's dialogs: a custom step, finishing the session, the keyboard shortcuts.
import { useState } from "react";
import type { EventFields } from "../../shared/eventTypes";
import { Button, Dialog, Field, inputClass } from "../../ui/kit";
import { shortcutsFor } from "./shortcuts";

type CustomAnswer = EventFields["custom_step"]["answer"];
type Outcome = NonNullable<EventFields["completed"]["outcome"]>;

const ACTIONS: { id: CustomAnswer; label: string }[] = [
  { id: "done", label: "Done" },
  { id: "failed", label: "Didn't work" },
  { id: "skipped", label: "Skipped" },
];

export function CustomStepDialog({ onClose, onSave }: { onClose: () => void; onSave: (v: { text: string; answer: CustomAnswer; note: string }) => Promise<void> }) {
  const [text, setText] = useState(() => sessionStorage.getItem("bl.draft.custom") || "");
  const [note, setNote] = useState("");
  const [answer, setAnswer] = useState<CustomAnswer>("done");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    if (!text.trim()) {
      setError("Say what you did, e.g. “Cleared the DNS cache on the VDA”.");
      return;
    }
    setBusy(true);
    try {
      await onSave({ text: text.trim(), answer, note: note.trim() });
      sessionStorage.removeItem("bl.draft.custom");
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Add a custom step"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button tone="primary" busy={busy} onClick={save}>
            Add step
          </Button>
        </>
      }
    >
      <div className="space-y-4">
        <p className="text-sm text-slate-600 dark:text-slate-400">Something you did that the tree does not cover. It goes into the record before your answer to this step, after the steps already answered.</p>
        <Field label="What did you do?" htmlFor="custom-text">
          <textarea
            id="custom-text"
            rows={2}
            className={inputClass}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              sessionStorage.setItem("bl.draft.custom", e.target.value);
            }}
            onKeyDown={(e) => e.key === "Enter" && (e.ctrlKey || e.metaKey) && void save()}
          />
        </Field>
        <fieldset>
          <legend className="mb-1.5 text-sm font-semibold">Result</legend>
          <div className="grid grid-cols-3 gap-2">
            {ACTIONS.map((a) => (
              <label key={a.id} className={`flex min-h-11 cursor-pointer items-center justify-center rounded-xl px-2 text-center text-sm font-semibold ring-1 ring-inset ${answer === a.id ? "bg-indigo-600 text-white ring-indigo-600" : "ring-slate-300 dark:ring-slate-600"}`}>
                <input type="radio" name="custom-answer" value={a.id} checked={answer === a.id} onChange={() => setAnswer(a.id)} className="sr-only" />
                {a.label}
              </label>
            ))}
          </div>
        </fieldset>
        <Field label="Note (optional)" htmlFor="custom-note">
          <textarea id="custom-note" rows={2} className={inputClass} value={note} onChange={(e) => setNote(e.target.value)} />
        </Field>
        {error && <p className="text-sm font-medium text-rose-700" role="alert">{error}</p>}
      </div>
    </Dialog>
  );
}

const OUTCOMES: { id: Outcome; label: string; hint: string }[] = [
  { id: "resolved", label: "Resolved", hint: "The problem is fixed." },
  { id: "escalated", label: "Escalated", hint: "Handed over to someone else." },
  { id: "unresolved", label: "Unresolved", hint: "Stopping here without a fix." },
];

export function FinishDialog({
  defaultOutcome,
  defaultSummary,
  onClose,
  onFinish,
}: {
  defaultOutcome: string;
  defaultSummary: string;
  onClose: () => void;
  onFinish: (v: { outcome: Outcome; summary: string }) => Promise<void>;
}) {
  // The reached resolution's outcome comes from the tree; one the session cannot record is none.
  const [outcome, setOutcome] = useState<Outcome>(OUTCOMES.find((o) => o.id === defaultOutcome)?.id ?? "unresolved");
  const [summary, setSummary] = useState(defaultSummary);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const finish = async () => {
    setBusy(true);
    try {
      await onFinish({ outcome, summary: summary.trim() });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Finish the session"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Keep working</Button>
          <Button tone="primary" busy={busy} onClick={finish} data-testid="finish-confirm">
            Finish session
          </Button>
        </>
      }
    >
      <div className="space-y-4">
        <fieldset>
          <legend className="mb-1.5 text-sm font-semibold">Outcome</legend>
          <div className="grid gap-2 sm:grid-cols-3">
            {OUTCOMES.map((o) => (
              <label key={o.id} className={`flex min-h-11 cursor-pointer flex-col rounded-xl px-3 py-2.5 ring-1 ring-inset has-focus-visible:outline-2 has-focus-visible:outline-offset-2 has-focus-visible:outline-indigo-500 ${outcome === o.id ? "bg-indigo-50 ring-2 ring-indigo-600 dark:bg-indigo-950" : "ring-slate-300 dark:ring-slate-600"}`}>
                <input type="radio" name="outcome" value={o.id} checked={outcome === o.id} onChange={() => setOutcome(o.id)} className="sr-only" />
                <span className="font-semibold">{o.label}</span>
                <span className="text-xs text-slate-600 dark:text-slate-400">{o.hint}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <Field label="Summary" htmlFor="summary" hint="The first thing the next person reads on the ticket.">
          <textarea
            id="summary"
            rows={4}
            className={inputClass}
            value={summary}
            onChange={(e) => setSummary(e.target.value)}
            onKeyDown={(e) => e.key === "Enter" && (e.ctrlKey || e.metaKey) && void finish()}
          />
        </Field>
        {error && <p className="text-sm font-medium text-rose-700" role="alert">{error}</p>}
      </div>
    </Dialog>
  );
}

/** The shortcuts that work in the view behind it (`stepping`: the session is being run). */
export function ShortcutsDialog({ stepping, onClose }: { stepping: boolean; onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <dl className="grid grid-cols-[auto_1fr] gap-x-5 gap-y-2.5 text-[0.9375rem]">
        {shortcutsFor(stepping).map(({ keys, what }) => (
          <div key={keys} className="contents">
            <dt>
              <kbd className="rounded-md border border-slate-300 bg-slate-50 px-2 py-0.5 font-mono text-sm whitespace-nowrap dark:border-slate-600 dark:bg-slate-800">{keys}</kbd>
            </dt>
            <dd className="text-slate-700 dark:text-slate-300">{what}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}
