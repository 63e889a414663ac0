// An action step's library script: rendered with the session's values, copied as any
// command, and run on a client's device through the team's RMM where one is configured.
//
// Rendering happens on the server (api/scripts/render.py binds each value by its type); the
// device keeps its last rendering per step (runStore.ts), so with no signal the engineer still
// sees and copies what they saw last. A run asked for with no signal is queued on the device
// only when the engineer confirms, and is sent once back online if the session is still at
// this step (useScriptRuns.ts).
//
// The server checks a run against its own copy of the session (`at_step`, api/rmm/rules.py),
// which live replication fills a moment after the engineer answers here: a run asked for right
// after an answer waits up to half a minute for this session's changes to reach the server (the step
// says "Syncing…"), then goes anyway and the server decides. Refused while they are still on
// their way, it says so instead of "the session moved on". A queued run waits for them too.
//
// A `secret` parameter (a password the script needs) is never in a tree and never stored on
// the device: the engineer types it here, the shown script has it masked, and only a run sent
// while online carries it (the server seals it with the run). A run with a secret is never
// queued offline.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, useSessionWait } from "../../data";
import type { ScriptRun, SessionState } from "../../shared/fold";
import { ulid } from "../../shared/ulid";
import { RiskBadge } from "../../scripts/RiskBadge";
import type { Risk } from "../../scripts/form";
import type { Device, ScriptRecord } from "../../scripts/runStore";
import { fillParameters, renderKey, stepMarker, type ScriptRef } from "../../scripts/stepScript";
import { runBody, type ScriptRuns } from "../../scripts/useScriptRuns";
import { Button, CopyButton, inputClass } from "../../ui/kit";

const SYSTEMS: Record<string, string> = { ninjaone: "NinjaOne", datto: "Datto RMM" };

interface RunView {
  run_id: string;
  status: string;
  result: string | null;
  exit_code: number | null;
  risk: string;
  target: { device_id: string; device_name?: string | null };
  last_error: string | null;
  script_name?: string;
}

/** A refusal (stale step, unknown session) while this session's changes are still on their way. */
const NOT_SYNCED = "Your latest answers have not reached the server yet, so it cannot check the run against this step. Wait until the sync badge shows nothing waiting, then run it again.";

/** What a secret parameter shows as in the rendered script. */
const MASK = "********";

interface SecretParam {
  name: string;
  required: boolean;
}

type Rmm = { state: "loading" } | { state: "none" } | { state: "ready"; system: string; devices: Device[] } | { state: "problem"; system: string; reason: string };

function statusWords(run: RunView): string {
  const where = run.target.device_name || run.target.device_id;
  if (run.status === "awaiting_approval") return `Waiting for approval: a ${run.risk}-risk script runs once an author, admin or owner other than you approves it.`;
  if (run.status === "pending" || run.status === "submitting") return `Sending to ${where}…`;
  if (run.status === "running") return `Running on ${where}…`;
  if (run.result === "succeeded") return `Succeeded on ${where}${run.exit_code != null ? `, exit code ${run.exit_code}` : ""}.`;
  if (run.result === "in_doubt") return `In doubt on ${where}: check the device's jobs in the RMM.`;
  return `${run.result === "timed_out" ? "Timed out" : "Failed"} on ${where}${run.exit_code != null ? `, exit code ${run.exit_code}` : ""}${run.last_error ? `: ${run.last_error}` : "."}`;
}

/** The runs recorded in the session under this step (they reach the device by sync). */
function RecordedRuns({ runs }: { runs: ScriptRun[] }) {
  if (!runs.length) return null;
  return (
    <ul className="space-y-2">
      {runs.map((r) => {
        const target = (r.target || {}) as { device_id?: string; device_name?: string };
        return (
          <li key={String(r.run_id)} data-testid="script-run" className="space-y-1.5 rounded-xl bg-slate-50 p-3 text-sm dark:bg-slate-800/60">
            <p className="font-semibold text-slate-800 dark:text-slate-100">
              {String(r.script_name || r.script_id)} on {target.device_name || target.device_id}: {String(r.status).replace("_", " ")}
              {r.exit_code != null ? `, exit code ${String(r.exit_code)}` : ""}
            </p>
            {typeof r.output === "string" && r.output && (
              <pre data-testid="script-run-output" tabIndex={0} className="max-h-64 overflow-auto rounded-lg bg-slate-900 px-3 py-2 font-mono text-xs whitespace-pre text-slate-100">
                {r.output}
              </pre>
            )}
          </li>
        );
      })}
    </ul>
  );
}

export function StepScript({ sid, nodeId, stepTitle, scriptRef, state, clientId, values, runs }: { sid: string; nodeId: string; stepTitle: string; scriptRef: ScriptRef; state: SessionState; clientId: string | null; values: { inputs: Record<string, unknown>; client: Record<string, unknown> }; runs: ScriptRuns }) {
  const { record, update, online } = runs;
  const filled = useMemo(() => fillParameters(scriptRef, values.inputs, values.client), [scriptRef, values.inputs, values.client]);
  const key = renderKey(scriptRef.id, filled.values);
  const stored = record?.renders[nodeId];
  const rendering = stored && stored.key === key ? stored : null;
  const [renderError, setRenderError] = useState<string | null>(null);
  const [name, setName] = useState<string>("");

  // The script's secret parameters, from its latest published version (null: not known yet).
  const [secretParams, setSecretParams] = useState<SecretParam[] | null>(null);
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!online) return;
    let live = true;
    const id = encodeURIComponent(scriptRef.id);
    (async () => {
      try {
        const head = await api<{ latest_version?: number | null }>(`/api/v1/scripts/${id}`);
        const v = head.latest_version ? await api<{ script: { parameters?: { name: string; type: string; required?: boolean }[] } }>(`/api/v1/scripts/${id}/versions/${head.latest_version}`) : null;
        const params = v?.script.parameters || [];
        if (live) setSecretParams(params.filter((p) => p.type === "secret").map((p) => ({ name: p.name, required: !!p.required })));
      } catch {
        if (live) setSecretParams([]); // the render below says what is wrong with the script
      }
    })();
    return () => {
      live = false;
    };
  }, [online, scriptRef.id]);
  const shownValues = useMemo(() => ({ ...filled.values, ...Object.fromEntries((secretParams || []).map((p) => [p.name, MASK])) }), [filled.values, secretParams]);
  const typedSecrets = Object.fromEntries(Object.entries(secrets).filter(([n, v]) => v !== "" && (secretParams || []).some((p) => p.name === n)));
  const secretsMissing = (secretParams || []).filter((p) => p.required && !typedSecrets[p.name]).map((p) => p.name);
  // Offline, the last rendering still says which parameters were secret.
  const hasSecrets = (secretParams || []).length > 0 || (rendering?.secrets || []).length > 0;

  // Render on the server whenever the values change and a connection is there (secrets masked).
  const ready = !!record;
  const missing = filled.missing.length;
  useEffect(() => {
    if (!online || missing || !ready || rendering || secretParams === null) return;
    let live = true;
    api<{ script: string; version: number | null; risk: Risk }>(`/api/v1/scripts/${encodeURIComponent(scriptRef.id)}/render`, { method: "POST", body: { parameters: shownValues } }).then(
      (r) => {
        if (!live) return;
        setRenderError(null);
        void update((rec) => ({ ...rec, renders: { ...rec.renders, [nodeId]: { key, script: r.script, version: r.version, risk: r.risk, secrets: (secretParams || []).map((p) => p.name) } } }));
      },
      (e: Error) => live && setRenderError(e.message),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` stands for the filled values
  }, [online, key, !!rendering, missing, ready, scriptRef.id, nodeId, update, secretParams === null]);

  useEffect(() => {
    if (!online || !rendering?.version) return;
    let live = true;
    api<{ script: { name: string } }>(`/api/v1/scripts/${encodeURIComponent(scriptRef.id)}/versions/${rendering.version}`).then(
      (v) => live && setName(v.script.name),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [online, rendering?.version, scriptRef.id]);

  // Which RMM the team uses, and the client's devices there; kept for offline use.
  const [rmm, setRmm] = useState<Rmm>({ state: "loading" });
  const cached = record?.devices;
  useEffect(() => {
    if (!online) return;
    let live = true;
    (async () => {
      for (const system of Object.keys(SYSTEMS)) {
        try {
          const q = clientId ? `?client_id=${encodeURIComponent(clientId)}` : "";
          const r = await api<{ items: Device[] }>(`/api/v1/rmm/${system}/devices${q}`);
          if (!live) return;
          setRmm({ state: "ready", system, devices: r.items });
          void update((rec) => ({ ...rec, devices: { system, client_id: clientId, items: r.items } }));
          return;
        } catch (e) {
          if (!live) return;
          if (e instanceof ApiError && e.status === 409) continue;
          setRmm({ state: "problem", system, reason: e instanceof Error ? e.message : String(e) });
          return;
        }
      }
      if (live) setRmm({ state: "none" });
    })();
    return () => {
      live = false;
    };
  }, [online, clientId, update]);
  const rmmNow: Rmm = online || !cached ? rmm : { state: "ready", system: cached.system, devices: cached.items };

  const [device, setDevice] = useState("");
  const [offerQueue, setOfferQueue] = useState(false);
  const [busy, setBusy] = useState(false);
  const [syncing, setSyncing] = useState(false);
  const [runError, setRunError] = useState<string | null>(null);
  const [live, setLive] = useState<Record<string, RunView>>({});
  const asked = record?.asked[nodeId] || [];
  const queued = (record?.queue || []).filter((q) => q.node_id === nodeId);

  // Follow the runs this device asked for here until they are done.
  const open = asked.filter((id) => live[id]?.status !== "done");
  useEffect(() => {
    if (!online || !open.length) return;
    let stop = false;
    const poll = async () => {
      for (const id of open) {
        try {
          const run = await api<RunView>(`/api/v1/sessions/${sid}/script-runs/${id}`);
          if (!stop) setLive((m) => ({ ...m, [id]: run }));
        } catch {
          /* the next poll tries again */
        }
      }
    };
    void poll();
    const t = window.setInterval(() => void poll(), 2000);
    return () => {
      stop = true;
      window.clearInterval(t);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the open run ids, by value
  }, [online, sid, open.join(",")]);

  const scriptName = name || scriptRef.id.replace(/^script:/, "");
  const devices = rmmNow.state === "ready" ? rmmNow.devices : [];
  const picked = devices.find((d) => d.id === device);

  const request = () => ({
    request_id: ulid(),
    node_id: nodeId,
    at_step: stepMarker(state),
    step_title: stepTitle,
    script_id: scriptRef.id,
    script_name: scriptName,
    version: rendering?.version ?? null,
    parameters: filled.values,
    script_text: rendering?.script || "",
    target: { device_id: device, device_name: picked?.name },
    system: rmmNow.state === "ready" ? rmmNow.system : "",
    queued_at: Date.now(),
  });

  const syncWait = useSessionWait();
  const run = async () => {
    setRunError(null);
    if (!online) return hasSecrets ? setRunError("No connection: a run with a secret is sent only while online (the secret is never stored on this device). Copy the script, or run it once the connection is back.") : setOfferQueue(true);
    setBusy(true);
    let synced: boolean | null = true;
    try {
      synced = await syncWait.wait(sid, () => setSyncing(true));
      setSyncing(false);
      if (synced === null) return; // called off (or the step left): the run is not asked for
      // With a secret the server renders the real text itself: the shown one has it masked.
      const body = hasSecrets ? { ...runBody(request()), parameters: { ...filled.values, ...typedSecrets }, script_text: undefined } : runBody(request());
      const r = await api<RunView>(`/api/v1/sessions/${sid}/script-runs`, { method: "POST", body });
      setLive((m) => ({ ...m, [r.run_id]: r }));
      await update((rec) => ({ ...rec, asked: { ...rec.asked, [nodeId]: [...(rec.asked[nodeId] || []), r.run_id] } }));
    } catch (e) {
      if (e instanceof ApiError) setRunError(!synced && (e.error === "stale_run" || e.status === 404) ? NOT_SYNCED : e.reason || e.message);
      else if (hasSecrets) setRunError("The connection dropped: the run was not sent. Try again once the connection is back.");
      else setOfferQueue(true);
    } finally {
      setSyncing(false);
      setBusy(false);
    }
  };

  const queue = async () => {
    const q = request();
    await update((rec: ScriptRecord) => ({ ...rec, queue: [...rec.queue, q] }));
    setOfferQueue(false);
  };

  const recorded = state.script_runs[nodeId] || [];
  const recordedIds = new Set(recorded.map((r) => String(r.run_id)));
  const risk = (rendering?.risk || "low") as Risk;

  return (
    <section data-testid="step-script" aria-label="Script" className="space-y-3 rounded-2xl border border-slate-200 p-3.5 dark:border-slate-700">
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="text-sm font-semibold text-slate-800 dark:text-slate-100">Script: {scriptName}</h3>
        {rendering && <RiskBadge risk={risk} />}
      </div>
      {filled.missing.length > 0 ? (
        <p className="text-sm text-amber-800 dark:text-amber-200">Needs a value for {filled.missing.join(", ")} first (an input not entered yet, or a field the client context lacks).</p>
      ) : rendering ? (
        <div className="overflow-hidden rounded-xl bg-slate-900 text-slate-100 ring-1 ring-slate-800" data-testid="script-text">
          <div className="flex items-center justify-between border-b border-white/10 pl-3.5">
            <span className="font-mono text-xs tracking-wide text-slate-400 uppercase">powershell{!online ? " · as last rendered" : ""}</span>
            <CopyButton text={rendering.script} label="Copy" />
          </div>
          <pre tabIndex={0} className="max-h-80 overflow-auto px-3.5 py-3 font-mono text-[0.8125rem] leading-relaxed whitespace-pre">{rendering.script}</pre>
          {hasSecrets && <p className="border-t border-white/10 px-3.5 py-2 text-xs text-slate-300">Secrets show as {MASK}: type yours there when you copy the script. A run below sends the real value.</p>}
        </div>
      ) : (
        <p className="text-sm text-slate-600 dark:text-slate-300">{!online ? "No connection: this device has not rendered this script with these values yet. Connect once to see and copy it." : renderError ? `The script cannot be rendered: ${renderError}` : "Rendering the script…"}</p>
      )}

      {!online && rmmNow.state === "loading" && <p className="text-sm text-slate-600 dark:text-slate-300">No connection: a run through your team's RMM needs one. Copy the script to run it yourself.</p>}
      {rmmNow.state === "problem" && <p className="text-sm text-slate-600 dark:text-slate-300">Running it through {SYSTEMS[rmmNow.system]}: {rmmNow.reason}</p>}
      {rmmNow.state === "ready" && rendering && !filled.missing.length && (
        <div className="space-y-2">
          <div className="flex flex-wrap items-end gap-2">
            <label className="min-w-0 flex-1 space-y-1 text-[13px] font-semibold text-slate-700 dark:text-slate-300">
              <span>Device ({SYSTEMS[rmmNow.system]})</span>
              <select id="run-device" className={inputClass} value={device} onChange={(e) => setDevice(e.target.value)}>
                <option value="">— pick the device —</option>
                {devices.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                    {d.online === false ? " (offline)" : ""}
                  </option>
                ))}
              </select>
            </label>
            <Button tone="primary" data-testid="run-script" disabled={!device || busy || secretsMissing.length > 0} busy={busy} onClick={() => void run()}>
              Run
            </Button>
          </div>
          {(secretParams || []).map((p) => (
            <label key={p.name} className="block space-y-1 text-[13px] font-semibold text-slate-700 dark:text-slate-300">
              <span>
                {p.name} (secret{p.required ? ", required" : ""}: sent with this run only, never stored)
              </span>
              <input type="password" autoComplete="off" data-testid={`secret-${p.name}`} className={inputClass} value={secrets[p.name] || ""} onChange={(e) => setSecrets((m) => ({ ...m, [p.name]: e.target.value }))} />
            </label>
          ))}
          {syncing && (
            <div className="flex flex-wrap items-center gap-3">
              <p role="status" data-testid="run-syncing" className="text-sm text-slate-600 dark:text-slate-300">
                Syncing… the run goes once your latest answers are on the server.
              </p>
              <Button onClick={syncWait.cancel} data-testid="run-cancel">
                Cancel
              </Button>
            </div>
          )}
          {risk !== "low" && <p className="text-xs text-amber-800 dark:text-amber-200">A {risk}-risk script: asked for by an engineer, it waits for an author, admin or owner to approve it.</p>}
        </div>
      )}
      {offerQueue && (
        <div role="alert" data-testid="run-offline" className="space-y-2 rounded-xl border-2 border-amber-400 bg-amber-50 p-3 text-sm text-amber-950 dark:bg-amber-950 dark:text-amber-50">
          <p>
            <strong>No connection: the run cannot be sent now.</strong> Copy the script and run it yourself, or queue the run: it is sent when this device is back online, and only if the session is still at this step.
          </p>
          <div className="flex flex-wrap gap-2">
            <Button tone="primary" data-testid="queue-run" onClick={() => void queue()}>
              Queue until online
            </Button>
            <Button onClick={() => setOfferQueue(false)}>Don't queue</Button>
          </div>
        </div>
      )}
      {runError && <p role="alert" className="text-sm text-rose-700 dark:text-rose-300">{runError}</p>}
      {queued.map((q) => (
        <div key={q.request_id} data-testid="queued-run" className="flex flex-wrap items-center justify-between gap-2 rounded-xl bg-slate-50 p-3 text-sm dark:bg-slate-800/60">
          <span>
            Queued for {q.target.device_name || q.target.device_id}: {runs.syncing ? "Syncing… it goes once your latest answers are on the server." : "sent when this device is back online, if the session is still at this step."}
          </span>
          <Button onClick={() => void update((rec) => ({ ...rec, queue: rec.queue.filter((x) => x.request_id !== q.request_id) }))}>Cancel</Button>
        </div>
      ))}
      {asked
        .filter((id) => live[id] && !recordedIds.has(id))
        .map((id) => (
          <p key={id} data-testid="run-status" className="text-sm text-slate-700 dark:text-slate-200">
            {statusWords(live[id])}
          </p>
        ))}
      <RecordedRuns runs={recorded} />
    </section>
  );
}
