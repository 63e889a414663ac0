// The session's script record on this device (runStore.ts) and the sending of runs queued
// offline. A queued run is sent once the server answers again, and only while the session is
// still at the step it was asked at; otherwise it is dropped with a note the engineer sees.
// The request carries `at_step`, so the server refuses it too when another device moved the
// session on in the meantime (409 stale_run), and its `request_id`, so a resend after a lost
// answer makes no second run. The server judges `at_step` by its own copy of the session, so
// a queued run waits for this session's changes made offline to reach it first (sessionSent);
// sent along with them, it would be refused as stale and dropped for good.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, OfflineError, useSyncStatus } from "../data";
import type { LocalData } from "../data/local";
import { sessionSent } from "../data/sessions";
import type { SessionState } from "../shared/fold";
import { readRecord, updateRecord, type QueuedRun, type ScriptRecord } from "./runStore";
import { staleReason } from "./stepScript";

export interface ScriptRuns {
  record: ScriptRecord | null;
  update: (fn: (r: ScriptRecord) => ScriptRecord) => Promise<void>;
  /** The server answered the latest request and the browser reports a network. */
  online: boolean;
  /** Queued runs wait for this session's changes to reach the server (see above). */
  syncing: boolean;
}

export function runBody(q: QueuedRun) {
  return {
    node_id: q.node_id,
    script_id: q.script_id,
    version: q.version ?? undefined,
    parameters: q.parameters,
    target: q.target,
    system: q.system,
    script_text: q.script_text,
    request_id: q.request_id,
    at_step: q.at_step,
  };
}

function dropped(q: QueuedRun, reason: string) {
  return { request_id: q.request_id, step_title: q.step_title, script_name: q.script_name, reason, at: Date.now() };
}

export function useScriptRuns(local: LocalData | null, sid: string, state: SessionState | null): ScriptRuns {
  const [record, setRecord] = useState<ScriptRecord | null>(null);
  const [syncing, setSyncing] = useState(false);
  const status = useSyncStatus();
  const [navOnline, setNavOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setNavOnline(navigator.onLine);
    window.addEventListener("online", on);
    window.addEventListener("offline", on);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", on);
    };
  }, []);
  const online = navOnline && !!status?.online;
  const db = local?.db.sessions;

  useEffect(() => {
    if (!db) return;
    let live = true;
    void readRecord(db, sid).then((r) => live && setRecord(r));
    return () => {
      live = false;
    };
  }, [db, sid]);

  const update = useCallback(
    async (fn: (r: ScriptRecord) => ScriptRecord) => {
      if (!db) return;
      setRecord(await updateRecord(db, sid, fn));
    },
    [db, sid],
  );

  const stateRef = useRef(state);
  useEffect(() => {
    stateRef.current = state;
  }, [state]);
  const sending = useRef(false);
  const queued = record?.queue.length ?? 0;

  const flush = useCallback(async () => {
    if (!db || !local || sending.current) return;
    sending.current = true;
    try {
      // Not there yet (a slow or broken sync): the next look, a few seconds on, tries again,
      // and the queued runs say "Syncing…" meanwhile.
      if (!(await sessionSent(local, sid, 4000, () => setSyncing(true)))) return;
      setSyncing(false);
      for (const q of (await readRecord(db, sid)).queue) {
        const now = stateRef.current;
        const stale = now ? staleReason(now, q.node_id, q.at_step) : null;
        if (stale) {
          await update((r) => ({ ...r, queue: r.queue.filter((x) => x.request_id !== q.request_id), dropped: [...r.dropped, dropped(q, stale)] }));
          continue;
        }
        try {
          const run = await api<{ run_id: string }>(`/api/v1/sessions/${sid}/script-runs`, { method: "POST", body: runBody(q) });
          await update((r) => ({
            ...r,
            queue: r.queue.filter((x) => x.request_id !== q.request_id),
            asked: { ...r.asked, [q.node_id]: [...(r.asked[q.node_id] || []), run.run_id] },
          }));
        } catch (e) {
          if (e instanceof OfflineError || !(e instanceof ApiError) || e.status >= 500 || e.status === 429) return;
          // The server refused it for good (its step is over elsewhere, the script changed...).
          const reason = e.error === "stale_run" ? "the session moved on from that step on another device" : e.reason || e.message;
          await update((r) => ({ ...r, queue: r.queue.filter((x) => x.request_id !== q.request_id), dropped: [...r.dropped, dropped(q, reason)] }));
        }
      }
    } finally {
      sending.current = false;
    }
  }, [db, local, sid, update]);

  // Send when the connection comes back, and look again every few seconds while runs wait
  // (a signal that comes and goes may answer between two sync attempts).
  useEffect(() => {
    if (!online || !queued) return;
    void flush();
    const t = window.setInterval(() => void flush(), 5000);
    return () => window.clearInterval(t);
  }, [online, queued, flush]);

  // A queued run whose step is over is dropped at once, even offline: it can never be sent.
  const marker = state ? `${state.status}|${state.current_node}|${state.path.length}` : "";
  useEffect(() => {
    if (!record || !state) return;
    const over = record.queue.filter((q) => staleReason(state, q.node_id, q.at_step));
    if (!over.length) return;
    // Written to the device's store first; the record shown follows from what was stored.
    void Promise.resolve().then(() =>
      update((r) => ({
        ...r,
        queue: r.queue.filter((q) => !over.some((o) => o.request_id === q.request_id)),
        dropped: [...r.dropped, ...over.map((q) => dropped(q, staleReason(state, q.node_id, q.at_step)!))],
      })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps -- re-checked when the step changes
  }, [marker, record?.queue.length]);

  return { record, update, online, syncing: online && syncing && queued > 0 };
}
