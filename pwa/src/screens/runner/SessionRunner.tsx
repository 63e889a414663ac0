// The runner: one step at a time, every answer and note written to the device at once.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { device, exportNames, useLocal, useSignIn } from "../../data";
import { useSession, useTreeVersion } from "../../data/hooks";
import { addEvent, editHeader } from "../../data/sessions";
import { browserTimers, ThrottledSaver } from "../../data/throttle";
import { sessionRights, type SessionRights } from "../../shared/access";
import type { EventFields, EventType } from "../../shared/eventTypes";
import { answerLeadsSomewhere, type SessionState } from "../../shared/fold";
import { reviewInfo } from "../../shared/review";
import { navigate } from "../../router";
import { Button, ErrorBox, identifierField, inputClass, Link, Loading, formatDuration } from "../../ui/kit";
import { PsaTicket } from "../../psa/PsaTicket";
import { NotesBox, type NotesBoxHandle } from "./NotesBox";
import { StepCard, type TreeNode } from "./StepCard";
import { StepAttachments } from "./StepAttachments";
import { StepScript } from "./StepScript";
import { StepTimeline } from "./StepTimeline";
import { useScriptRuns } from "../../scripts/useScriptRuns";
import { AnswerGuard, SETTLE_MS, stepKey } from "./answerGuard";
import { CustomStepDialog, FinishDialog, ShortcutsDialog } from "./dialogs";
import { typingIn } from "./shortcuts";
import { AbandonDialog, EditDetailsDialog, SessionMenuDialog, ShareDialog } from "./SessionMenu";
import { printReport, SessionPrintReport } from "./SessionPrintReport";
import { ShareLinkDialog } from "./ShareLinkDialog";
import { TreeAbout } from "./TreeAbout";

type DialogName = "custom" | "finish" | "shortcuts" | "session" | "details" | "share" | "sharelink" | "abandon" | null;

function ProgressBar({ value }: { value: number | null }) {
  const pct = value == null ? null : Math.round(value * 100);
  return (
    <div className="flex items-center gap-3">
      <div className="h-2 flex-1 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800" role="progressbar" aria-label="Progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined}>
        <div className="h-full rounded-full bg-indigo-600 transition-[width] duration-500" style={{ width: `${pct ?? 0}%` }} />
      </div>
      <span className="w-10 text-right text-xs font-semibold text-slate-500 tabular-nums">{pct == null ? "–" : `${pct}%`}</span>
    </div>
  );
}

function InputStep({ sessionId, nodeId, draft, armed, onSubmit, onDraft, submitRef }: { sessionId: string; nodeId: string; draft: string; armed: boolean; onSubmit: (v: string) => Promise<void>; onDraft: (v: string) => Promise<void>; submitRef: React.MutableRefObject<(() => void) | null> }) {
  const key = `bl.draft.input.${sessionId}.${nodeId}`;
  const [value, setValue] = useState(() => localStorage.getItem(key) ?? draft);
  const saver = useRef<ThrottledSaver | null>(null);
  const onDraftRef = useRef(onDraft);
  // eslint-disable-next-line react-hooks/refs -- the latest onDraft, for the throttled saver's timer
  onDraftRef.current = onDraft;
  // eslint-disable-next-line react-hooks/refs -- the saver is made once per input step
  if (!saver.current) saver.current = new ThrottledSaver((v) => onDraftRef.current(v), draft, 2000, { ...browserTimers, storage: localStorage }, key);
  useEffect(() => () => void saver.current!.flush(), []);
  const submit = async () => {
    await saver.current!.flush();
    await onSubmit(value);
    localStorage.removeItem(key);
  };
  // eslint-disable-next-line react-hooks/refs -- hands the parent's keyboard shortcut this render's submit
  submitRef.current = () => void submit();
  return (
    <form
      className="flex gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label htmlFor="step-input" className="sr-only">
        Value
      </label>
      <input
        id="step-input"
        className={inputClass}
        value={value}
        autoComplete="off"
        {...identifierField}
        onChange={(e) => {
          setValue(e.target.value);
          saver.current!.update(e.target.value);
        }}
        onBlur={() => void saver.current!.flush()}
        onKeyDown={(e) => {
          // Enter answers even during the pause after a new step (the pause stops stray taps,
          // not typing); a disabled submit button would otherwise swallow it. The answer guard
          // still takes one answer per step shown.
          if (e.key === "Enter" && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void submit();
          }
        }}
        placeholder="Type the value"
      />
      <Button type="submit" tone="primary" className="shrink-0 sm:w-40" disabled={!armed}>
        Continue
      </Button>
    </form>
  );
}

export function SessionRunner({ sid }: { sid: string }) {
  const local = useLocal();
  const signin = useSignIn();
  const session = useSession(sid);
  const [dialog, setDialog] = useState<DialogName>(null);
  const [writeError, setWriteError] = useState<string | null>(null);
  const notes = useRef<NotesBoxHandle>(null);
  const continueRef = useRef<(() => void) | null>(null);

  const write = useCallback(
    async <T extends EventType>(type: T, fields: EventFields[T]) => {
      if (!local) throw new Error("Not signed in");
      try {
        await addEvent(local, device, Date.now(), sid, type, fields);
        setWriteError(null);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String((e as { message?: string })?.message || e);
        setWriteError(`Could not save on this device: ${msg}`);
        throw e;
      }
    },
    [local, sid],
  );

  const state = session.data?.state || null;
  const scriptRuns = useScriptRuns(local, sid, state);
  const bundle = session.data?.bundle;
  const tree = bundle?.tree as { nodes?: Record<string, TreeNode>; title?: string } | null | undefined;
  const node = state && tree?.nodes ? tree.nodes[state.current_node] : undefined;
  // A skip the author left unconnected would be ignored by the fold: it is not offered.
  const canSkip = node?.type === "action" && answerLeadsSomewhere(node, "skipped", tree?.nodes);
  const running = state?.status === "in_progress";
  const header0 = bundle?.header;
  const published = useTreeVersion(typeof header0?.tree_id === "string" ? header0.tree_id : "");
  // The pinned version's own review fields, with the sidecar's review-done (the newer shows).
  const review = useMemo(() => (tree ? reviewInfo(tree as Record<string, unknown>, published.data?.meta) : null), [tree, published.data]);
  const account = signin?.account;
  // What the server's sync policy lets this user do here; the runner offers nothing more.
  const rights: SessionRights | null = useMemo(
    () => (header0 && account ? sessionRights(header0, { id: account.user.id, role: account.role }) : null),
    [header0, account],
  );
  const canWrite = !!rights?.write;
  // The stepping view (answers, notes, custom steps); otherwise the summary is shown.
  const stepping = running && canWrite;
  const closeDialog = useCallback(() => setDialog(null), []);

  // One answer per step shown (see answerGuard.ts). `shown` is read through a ref because an
  // answer's handler belongs to the render it was tapped in: its `state` is the step the tap
  // was made against, which may be gone by the time the handler runs.
  const shown = state ? stepKey(state) : "";
  const shownRef = useRef(shown);
  // eslint-disable-next-line react-hooks/refs -- see above: a tap is judged against the step shown now
  shownRef.current = shown;
  const guard = useRef(new AnswerGuard());
  const [settledOn, setSettledOn] = useState("");
  const [savingOn, setSavingOn] = useState("");
  useEffect(() => {
    if (!shown) return;
    const t = window.setTimeout(() => setSettledOn(shown), SETTLE_MS);
    return () => window.clearTimeout(t);
  }, [shown]);
  const saving = savingOn === shown;
  // The first step shown after opening the session needs no pause: no earlier step was on
  // screen for a stray tap to have been aimed at (an offline reload is interactive at once).
  const firstShown = useRef<string | null>(null);
  // eslint-disable-next-line react-hooks/refs -- the first step shown, kept for the session's lifetime
  if (firstShown.current === null && shown) firstShown.current = shown;
  // The step's controls take taps: shown long enough (or first), and not already answered.
  // eslint-disable-next-line react-hooks/refs -- the first step shown, kept for the session's lifetime
  const armed = (settledOn === shown || firstShown.current === shown) && !saving;

  // Writes the one answer (or the one Back) of the step shown; nothing if that showing
  // already has one, or if the step the control belonged to is no longer shown.
  const takeStep = useCallback(
    async <T extends EventType>(type: T, fields: EventFields[T]) => {
      if (!state) return;
      const against = stepKey(state);
      if (!guard.current.take(against, shownRef.current)) return;
      setSavingOn(against);
      try {
        await notes.current?.flush();
        await write(type, fields);
      } catch (e) {
        guard.current.release(against);
        setSavingOn("");
        throw e;
      }
    },
    [state, write],
  );

  const answer = useCallback(
    async (value: string, extra: Record<string, unknown> = {}) => {
      if (state) await takeStep("answered", { node_id: state.current_node, answer: value, ...extra });
    },
    [state, takeStep],
  );

  const canBack = !!state && running && canWrite && (state.path.length > 0 || state.custom_steps.length > 0);
  const back = useCallback(async () => {
    if (canBack) await takeStep("back", {});
  }, [canBack, takeStep]);

  const finish = useCallback(
    async ({ outcome, summary }: { outcome: EventFields["completed"]["outcome"]; summary: string }) => {
      if (!local) return;
      await notes.current?.flush();
      await write("completed", { outcome, summary });
      await editHeader(local, Date.now(), sid, { status: "completed" });
      setDialog(null);
      navigate(`/s/${sid}/export`);
    },
    [local, sid, write],
  );

  const abandon = useCallback(
    async (fields: { reason?: string }) => {
      if (!local) return;
      await notes.current?.flush();
      await write("abandoned", fields);
      await editHeader(local, Date.now(), sid, { status: "abandoned" });
      setDialog(null);
    },
    [local, sid, write],
  );

  // A new step starts at the top of the screen, with focus on its title for screen readers.
  const currentNode = state?.current_node;
  useEffect(() => {
    if (!currentNode) return;
    const card = document.querySelector<HTMLElement>("[data-testid=step-card]");
    if (card && card.getBoundingClientRect().top < 0) window.scrollTo({ top: 0 });
    // An input step asks for a value: its field takes the keys, so typing never fires a shortcut.
    (document.getElementById("step-input") ?? document.getElementById("step-title"))?.focus({ preventScroll: true });
  }, [currentNode]);

  // Keyboard: the shortcuts listed by "?".
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (dialog) return;
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        // The summary has nothing to continue (a finish dialog opened there would not show
        // and would leave every key dead).
        if (!stepping) return;
        e.preventDefault();
        continueRef.current?.();
        return;
      }
      if (typingIn(e.target, e.isComposing)) {
        if (e.key === "Escape") (e.target as HTMLElement).blur();
        return;
      }
      if (e.ctrlKey || e.metaKey) return;
      if (e.key === "ArrowLeft" && e.altKey) {
        e.preventDefault();
        void back();
        return;
      }
      if (e.altKey) return;
      const k = e.key;
      if (k === "?") return setDialog("shortcuts");
      if (k === "e" || k === "E") return navigate(`/s/${sid}/export`);
      if (!running || !node || !canWrite) return;
      if (k === "Backspace") {
        e.preventDefault();
        void back();
        return;
      }
      if (k === "N" || (k === "n" && node.type !== "question")) {
        e.preventDefault();
        notes.current?.focus();
        return;
      }
      if (k === "c" || k === "C") {
        e.preventDefault();
        return setDialog("custom");
      }
      // A held key repeats: it answers one step, not every step that follows.
      if (e.repeat) return;
      if (node.type === "question" && (k === "y" || k === "n")) return void answer(k === "y" ? "yes" : "no");
      if (/^[1-9]$/.test(k)) {
        const i = Number(k) - 1;
        if (node.type === "choice" && node.options && node.options[i]) return void answer(node.options[i].id);
        if (node.type === "action" && (i < 2 || (i === 2 && canSkip))) return void answer(["done", "failed", "skipped"][i]);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [dialog, node, canSkip, running, canWrite, stepping, answer, back, sid]);

  if (session.loading) return <Loading label="Opening the session…" />;
  if (session.error || !bundle) {
    return (
      <ErrorBox title="This session is not on this device" onRetry={session.reload}>
        {session.error?.includes("missing") ? "It may still be downloading, or it belongs to someone else." : session.error}{" "}
        <Link to="/history" className="font-semibold underline">
          Your sessions
        </Link>
      </ErrorBox>
    );
  }
  if (!state || !tree || !rights || !signin) {
    return <Loading label="Downloading this session's tree version…" />;
  }

  const header = bundle.header;
  const client = bundle.client || {};
  const clientName = bundle.client ? String(bundle.client.name || "") : null;
  const names: Record<string, string> = signin ? { ...exportNames(signin.account.tenant.id), [signin.account.user.id]: "You" } : {};
  const noteId = `n-${device}-${state.current_node}`.slice(0, 200);

  if (node) {
    // eslint-disable-next-line react-hooks/refs -- what the keyboard's Continue does for the step shown
    continueRef.current =
      node.type === "action"
        ? () => void answer("done")
        : node.type === "resolution"
          ? () => setDialog("finish")
          : node.type === "input"
            // eslint-disable-next-line react-hooks/refs -- an input step set its own submit
            ? continueRef.current
            : null;
  }

  const notesBox = (
    <NotesBox
      key={state.current_node}
      ref={notes}
      sessionId={sid}
      nodeId={state.current_node}
      noteId={noteId}
      notes={state.notes[state.current_node] || []}
      names={names}
      save={(text) => write("note", { node_id: state.current_node, note_id: noteId, text })}
    >
      <StepAttachments sessionId={sid} nodeId={state.current_node} stored={state.attachments[state.current_node] || []} />
    </NotesBox>
  );

  const headerBlock = (
    <div className="space-y-2">
      {/* The ticket is what the engineer copies into the PSA: shown whole, wrapped if need be. */}
      <p className="text-xs font-semibold tracking-wide wrap-anywhere text-slate-500 uppercase" data-testid="session-ticket">
        {[header.ticket, clientName].filter(Boolean).join(" · ") || "No ticket"}
      </p>
      <PsaTicket psa={header.psa} />
      <div className="flex flex-wrap items-start justify-between gap-x-3 gap-y-2">
        <h1 className="line-clamp-3 min-w-0 short:line-clamp-1 flex-[1_1_8rem] text-lg leading-snug font-semibold wrap-anywhere text-slate-900 sm:text-xl dark:text-white" data-testid="session-title">
          {header.title || tree.title}
        </h1>
        <div className="ml-auto flex max-w-full flex-wrap gap-1.5">
          <span className="hidden sm:block">
            <Button tone="ghost" onClick={() => setDialog("shortcuts")} aria-label="Keyboard shortcuts">
              ?
            </Button>
          </span>
          <Button className="px-3" onClick={() => setDialog("session")} aria-haspopup="dialog">
            Session
          </Button>
          <Button className="px-3" onClick={() => navigate(`/s/${sid}/export`)}>Export</Button>
        </div>
      </div>
      {review && <TreeAbout review={review} className="[@media(max-height:500px)]:hidden" />}
      <ProgressBar value={state.progress} />
    </div>
  );

  const sessionDialogs = (
    <>
      {dialog === "session" && (
        <SessionMenuDialog
          rights={rights}
          running={running}
          sharedCount={(header.shared_with || []).length}
          about={review && <TreeAbout review={review} testId="tree-about-menu" />}
          onClose={closeDialog}
          onPick={(what) => {
            if (what !== "print") return setDialog(what);
            closeDialog();
            printReport();
          }}
        />
      )}
      {dialog === "details" && (
        <EditDetailsDialog
          ticket={header.ticket || ""}
          title={header.title || tree.title || ""}
          onClose={closeDialog}
          onSave={async (changes) => {
            if (local) await editHeader(local, Date.now(), sid, changes);
          }}
        />
      )}
      {dialog === "share" && (
        <ShareDialog
          tenantId={signin.account.tenant.id}
          meId={signin.account.user.id}
          ownerId={header.owner_id}
          sharedWith={header.shared_with || []}
          canShare={rights.share}
          onClose={closeDialog}
          onSave={async (shared_with) => {
            if (local) await editHeader(local, Date.now(), sid, { shared_with });
          }}
        />
      )}
      {dialog === "sharelink" && <ShareLinkDialog sid={sid} title={header.title || tree.title || "Session"} onClose={closeDialog} />}
      {dialog === "abandon" && <AbandonDialog onClose={closeDialog} onAbandon={abandon} />}
      {/* Here, not in the stepping view alone: "?" and the header's button open it on the summary too. */}
      {dialog === "shortcuts" && <ShortcutsDialog stepping={stepping} onClose={closeDialog} />}
    </>
  );

  const report = <SessionPrintReport sid={sid} bundle={bundle} running={running} />;

  if (!stepping) {
    return (
      <>
        {report}
        <SessionSummary
          sid={sid}
          state={state}
          rights={rights}
          headerBlock={headerBlock}
          onReopen={async () => {
            await write("reopened", {});
            if (local) await editHeader(local, Date.now(), sid, { status: "in_progress" });
          }}
        />
        {sessionDialogs}
      </>
    );
  }

  return (
    <>
    {report}
    <div className="space-y-5 print:hidden">
      {headerBlock}
      {writeError && <ErrorBox title="Not saved">{writeError}</ErrorBox>}
      {(scriptRuns.record?.dropped || []).map((d) => (
        <div key={d.request_id} role="status" data-testid="dropped-run" className="flex flex-wrap items-center justify-between gap-2 rounded-2xl border-2 border-amber-400 bg-amber-50 p-3 text-sm text-amber-950 dark:bg-amber-950 dark:text-amber-50">
          <span>
            The queued run of {d.script_name} (step “{d.step_title}”) was not sent: {d.reason}. Nothing ran on the device.
          </span>
          <Button onClick={() => void scriptRuns.update((r) => ({ ...r, dropped: r.dropped.filter((x) => x.request_id !== d.request_id) }))}>Dismiss</Button>
        </div>
      ))}
      <div className="grid grid-cols-1 gap-5 lg:grid-cols-[minmax(0,1fr)_320px]">
        <div className="min-w-0 space-y-4">
          {node ? (
            <StepCard
              nodeId={state.current_node}
              node={node}
              values={{ inputs: state.inputs, client }}
              untitled={state.current_node}
              stepNumber={state.path.length + 1}
              notes={notesBox}
              script={
                node.type === "action" && node.script?.id ? (
                  <StepScript key={state.current_node} sid={sid} nodeId={state.current_node} stepTitle={node.title || state.current_node} scriptRef={node.script} state={state} clientId={header.client_id || null} values={{ inputs: state.inputs, client }} runs={scriptRuns} />
                ) : undefined
              }
            >
              {node.type === "question" && (
                <div className="grid grid-cols-2 gap-2">
                  <Button tone="yes" className="min-h-12 text-lg" busy={saving} disabled={!armed} data-answer="yes" onClick={() => void answer("yes")}>
                    Yes <kbd className="hidden rounded bg-white/20 px-1.5 font-mono text-xs sm:inline">Y</kbd>
                  </Button>
                  <Button tone="no" className="min-h-12 text-lg" busy={saving} disabled={!armed} data-answer="no" onClick={() => void answer("no")}>
                    No <kbd className="hidden rounded bg-white/20 px-1.5 font-mono text-xs sm:inline">N</kbd>
                  </Button>
                </div>
              )}
              {node.type === "choice" && (
                <div className="grid gap-2.5">
                  {(node.options || []).map((o, i) => (
                    <Button key={o.id} data-answer={o.id} className="min-h-13 justify-start text-left" disabled={!armed} onClick={() => void answer(o.id)}>
                      <kbd className="hidden h-6 w-6 shrink-0 items-center justify-center rounded-md bg-slate-100 font-mono text-xs text-slate-600 sm:inline-flex dark:bg-slate-700 dark:text-slate-300">{i + 1}</kbd>
                      <span>{o.label}</span>
                    </Button>
                  ))}
                </div>
              )}
              {node.type === "action" && (
                // Three across while they fit (5rem each grows with the text size), else stacked.
                <div className="grid grid-cols-[repeat(auto-fit,minmax(min(100%,5rem),1fr))] gap-2">
                  <Button tone="yes" className="min-h-12 px-2" busy={saving} disabled={!armed} data-answer="done" onClick={() => void answer("done")}>
                    Done <kbd className="hidden rounded bg-white/20 px-1.5 font-mono text-xs sm:inline">1</kbd>
                  </Button>
                  <Button className="min-h-12 px-2 text-rose-700 dark:text-rose-300" disabled={!armed} data-answer="failed" onClick={() => void answer("failed")}>
                    Didn't work <kbd className="hidden rounded bg-slate-100 px-1.5 font-mono text-xs text-slate-600 sm:inline dark:bg-slate-700 dark:text-slate-300">2</kbd>
                  </Button>
                  {canSkip && (
                    <Button className="min-h-12 px-2" disabled={!armed} data-answer="skipped" onClick={() => void answer("skipped")}>
                      Skip <kbd className="hidden rounded bg-slate-100 px-1.5 font-mono text-xs text-slate-600 sm:inline dark:bg-slate-700 dark:text-slate-300">3</kbd>
                    </Button>
                  )}
                </div>
              )}
              {node.type === "input" && (
                <InputStep
                  key={state.current_node}
                  sessionId={sid}
                  nodeId={state.current_node}
                  draft={state.drafts[state.current_node] ?? ""}
                  armed={armed}
                  submitRef={continueRef}
                  onDraft={(v) => write("input_value", { node_id: state.current_node, value: v })}
                  onSubmit={(v) => answer("submitted", { value: v })}
                />
              )}
              {node.type === "resolution" && <ResolutionPanel state={state} armed={armed} onFinish={() => setDialog("finish")} />}
            </StepCard>
          ) : (
            <>
              <ErrorBox title="This step is missing from the tree">The tree version has no step “{state.current_node}”. Step back or finish the session.</ErrorBox>
              <div className="rounded-3xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">{notesBox}</div>
            </>
          )}
          <div className="flex flex-wrap items-center justify-between gap-1 sm:justify-start sm:gap-2">
            <Button tone="ghost" className="px-2 text-sm whitespace-nowrap sm:text-[0.9375rem]" onClick={() => void back()} disabled={!canBack || !armed} aria-keyshortcuts="Backspace Alt+ArrowLeft">
              ← Back
            </Button>
            <Button tone="ghost" className="px-2 text-sm whitespace-nowrap sm:text-[0.9375rem]" onClick={() => setDialog("custom")} disabled={!armed} aria-keyshortcuts="C">
              + Custom step
            </Button>
            {node?.type !== "resolution" && (
              <Button tone="ghost" className="px-2 text-sm whitespace-nowrap sm:ml-auto sm:text-[0.9375rem]" onClick={() => setDialog("finish")} disabled={!armed}>
                Finish early
              </Button>
            )}
          </div>
        </div>
        <aside tabIndex={0} className="min-w-0 space-y-3 focus-visible:outline-2 focus-visible:outline-offset-4 focus-visible:outline-indigo-500 lg:sticky lg:top-20 lg:max-h-[calc(100dvh-6rem)] lg:self-start lg:overflow-y-auto" aria-labelledby="so-far">
          <h2 id="so-far" className="text-sm font-semibold text-slate-500">
            Steps so far · {formatDuration(state.elapsed_ms)}
          </h2>
          <StepTimeline state={state} />
        </aside>
      </div>
      {dialog === "custom" && (
        <CustomStepDialog
          onClose={() => setDialog(null)}
          onSave={({ text, answer: a, note }) => write("custom_step", { node_id: state.current_node, text, answer: a, ...(note ? { note } : {}) })}
        />
      )}
      {dialog === "finish" && (
        <FinishDialog
          defaultOutcome={state.resolution?.outcome || "unresolved"}
          defaultSummary={state.resolution?.summary || ""}
          onClose={() => setDialog(null)}
          onFinish={finish}
        />
      )}
      {sessionDialogs}
    </div>
    </>
  );
}

function ResolutionPanel({ state, armed, onFinish }: { state: SessionState; armed: boolean; onFinish: () => void }) {
  const r = state.resolution;
  const tone = r?.outcome === "resolved" ? "bg-emerald-50 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100" : r?.outcome === "escalated" ? "bg-amber-50 text-amber-900 dark:bg-amber-950 dark:text-amber-100" : "bg-slate-100 text-slate-900 dark:bg-slate-800 dark:text-slate-100";
  return (
    <div className="space-y-3">
      {r && (
        <div className={`rounded-2xl p-4 ${tone}`}>
          <p className="text-sm font-semibold capitalize">{r.outcome}</p>
          {r.summary && <p className="mt-1 text-sm">{r.summary}</p>}
          {r.root_cause && <p className="mt-1 text-sm"><span className="font-semibold">Root cause:</span> {r.root_cause}</p>}
          {r.verification && <p className="mt-1 text-sm"><span className="font-semibold">Verification:</span> {r.verification}</p>}
          {typeof r.handover === "string" && <p className="mt-1 text-sm"><span className="font-semibold">Handover:</span> {r.handover}</p>}
        </div>
      )}
      <Button tone="primary" className="min-h-14 w-full text-lg" onClick={onFinish} disabled={!armed} aria-keyshortcuts="Control+Enter">
        Finish with a summary
      </Button>
    </div>
  );
}

function SessionSummary({ sid, state, rights, headerBlock, onReopen }: { sid: string; state: SessionState; rights: SessionRights; headerBlock: React.ReactNode; onReopen: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const abandoned = state.status === "abandoned";
  const inProgress = state.status === "in_progress";
  const label = inProgress ? "In progress" : abandoned ? "Abandoned" : state.outcome ? state.outcome[0].toUpperCase() + state.outcome.slice(1) : "Completed";
  const caption = inProgress ? "Read only" : abandoned ? "Session abandoned" : "Session finished";
  let reason: string | null = null;
  for (const h of state.history) if (h.type === "abandoned") reason = h.reason;
  return (
    <div className="space-y-5 print:hidden">
      {headerBlock}
      <div className="rounded-3xl border border-slate-200 bg-white p-5 shadow-sm sm:p-7 dark:border-slate-800 dark:bg-slate-900" data-testid="session-summary" data-status={state.status}>
        <p className="text-xs font-semibold tracking-wide text-slate-500 uppercase">{caption}</p>
        <p className="mt-1 text-2xl font-semibold text-slate-900 dark:text-white">{label}</p>
        {abandoned && reason && (
          <p className="mt-3 whitespace-pre-wrap text-slate-700 dark:text-slate-300" data-testid="abandon-reason">
            <span className="font-semibold">Reason:</span> {reason}
          </p>
        )}
        {!abandoned && state.summary && <p className="mt-3 whitespace-pre-wrap text-slate-700 dark:text-slate-300">{state.summary}</p>}
        {rights.readOnlyReason && <p className="mt-3 text-sm text-slate-600 dark:text-slate-400">{rights.readOnlyReason}</p>}
        <p className="mt-3 text-sm text-slate-500">
          {state.path.length} step{state.path.length === 1 ? "" : "s"} · {formatDuration(state.elapsed_ms)}
          {state.ended_at ? ` · ended ${new Date(state.ended_at).toLocaleString()}` : ""}
        </p>
        <div className="mt-5 flex flex-wrap gap-2">
          <Button tone="primary" onClick={() => navigate(`/s/${sid}/export`)}>
            Export notes
          </Button>
          {rights.write && !inProgress && (
            <Button
              busy={busy}
              onClick={async () => {
                setBusy(true);
                try {
                  await onReopen();
                } finally {
                  setBusy(false);
                }
              }}
            >
              Reopen
            </Button>
          )}
        </div>
      </div>
      <section aria-labelledby="record">
        <h2 id="record" className="mb-3 text-sm font-semibold text-slate-500">
          What was done
        </h2>
        <StepTimeline state={state} />
      </section>
    </div>
  );
}
