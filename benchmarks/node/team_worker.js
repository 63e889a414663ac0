'use strict';
// One process of benchmarks/load_team.py's load generator: a share of the team's engineers,
// each a real PouchDB client (memory adapter) replicating as the PWA does, with the PWA's
// own replication module (pwa/src/data/replication.ts, bundled by load_team.py: trees pulled
// live with its selector, sessions and clients synced live both ways, checkpoints on the
// device, the database's info asked at most once a minute, retry with the PWA's back-off),
// writing one note event every period.
//
// Protocol with the parent (one JSON object per line): the argument is the configuration;
// once every replication finished its first pass this prints {"event": "ready"}; a line
// "go" on stdin starts the load; after the run and the drain it prints
// {"event": "result", ...} and exits.
//
// Timing: all figures are taken on this process's monotonic clock. An engineer and their
// partner (who shares their session) always live in the same process, so the
// device-to-device time needs no clock agreement between processes.
const crypto = require('crypto');
const http = require('http');
const nodeFetch = require('node-fetch');
const readline = require('readline');
const { performance } = require('perf_hooks');
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));

const cfg = JSON.parse(process.argv[2]);
const now = () => performance.now();
const { PULL_OPTIONS, SYNC_OPTIONS, TREE_DOCS, replicationHandle } = require(cfg.replication);
const LATE_EVERY_MS = 100;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function ulid() {
  let ms = Date.now();
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  const bytes = crypto.randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i] % 32];
  return time + rand;
}

const stats = {
  rest_ms: [], d2s_ms: [], d2d_ms: [], export_ms: [], closed_ms: [], start_ms: [],
  written_sync: 0, written_rest: 0, acked: 0, acked_in_window: 0, exports: 0, resent: 0,
  errors: {}, error_samples: [],
  // --drop-at: the connections closed, and per engineer the time from the drop until a write
  // made after it was acknowledged by the server.
  drop_sockets: 0, drop_recovery_ms: [], drop_unrecovered: 0,
};
let dropAt = null;
function error(kind, detail, n = 1) {
  stats.errors[kind] = (stats.errors[kind] || 0) + n;
  if (stats.error_samples.length < 10) stats.error_samples.push(`${kind}: ${String(detail).slice(0, 300)}`);
}

// An engineer's write started at `start` was acknowledged at `t`: the first one started
// after the drop tells how long that engineer went without the server.
function acknowledged(eng, start, t) {
  if (dropAt !== null && eng.recovered === undefined && start >= dropAt) {
    eng.recovered = t - dropAt;
    stats.drop_recovery_ms.push(eng.recovered);
  }
}

// Writes waiting for the server's acknowledgement, and for the partner's device: id -> start.
const toServer = new Map();
const toPartner = new Map();
let measuring = false;
let windowEnd = Infinity;

// A request that fails before any answer on a reused keep-alive connection (the server
// closed it while idle: uvicorn does after 5 s) is sent once more on a fresh one, as
// browsers do. Every request here may be repeated: event writes carry their own _id and ts
// (the API answers a repeat like the first), replication writes are idempotent.
async function send(url, opts) {
  try {
    return await nodeFetch(url, opts);
  } catch (err) {
    if (!/ECONNRESET|socket hang up/.test(err.message) || (opts.signal && opts.signal.aborted)) throw err;
    stats.resent += 1;
    return nodeFetch(url, opts);
  }
}

function makeEngineer(spec) {
  const header = 'Bearer ' + spec.token;
  // One keep-alive agent per device, as a browser keeps its connections open. node-fetch
  // directly: PouchDB.fetch wraps it in a cookie jar that cost this generator more CPU than
  // PouchDB itself (the API sets no cookies); Node's own fetch cost twice as much again.
  const agent = new http.Agent({ keepAlive: true });
  const remote = (url) => replicationHandle(new PouchDB(url, {
    skip_setup: true,
    fetch(u, opts) {
      opts.headers.set('Authorization', header);
      opts.agent = agent;
      return send(u, opts);
    },
  }), now);
  const tag = `${process.pid}-${spec.index}`;
  const local = {
    trees: new PouchDB(`trees-${tag}`, { adapter: 'memory' }),
    sessions: new PouchDB(`sessions-${tag}`, { adapter: 'memory' }),
    clients: new PouchDB(`clients-${tag}`, { adapter: 'memory' }),
  };
  return {
    ...spec, header, agent, local, remote, reps: [], timers: [], written: new Set(), acked: new Set(),
    sids: [spec.sid], onSession: 0, rotating: null,
  };
}

function watch(eng, rep, name, onChange) {
  let first = true;
  return new Promise((resolve) => {
    rep.on('change', onChange);
    rep.on('paused', (err) => {
      if (err) error(`${name} replication paused on an error`, err.message || err.status || err);
      if (first) {
        first = false;
        resolve();
      }
    });
    rep.on('denied', (err) => error(`${name} write denied`, JSON.stringify(err)));
    rep.on('error', (err) => {
      error(`${name} replication stopped`, err.message || JSON.stringify(err));
      if (first) {
        first = false;
        resolve();
      }
    });
  });
}

function startReplication(eng) {
  const waits = [];
  if (cfg.dbs.includes('trees')) {
    const trees = PouchDB.replicate(eng.remote(eng.dbs.trees), eng.local.trees, { ...PULL_OPTIONS, selector: TREE_DOCS });
    eng.reps.push(trees);
    waits.push(watch(eng, trees, 'trees', () => {}));
  }
  if (cfg.dbs.includes('sessions')) {
    const sessions = PouchDB.sync(eng.local.sessions, eng.remote(eng.dbs.sessions), SYNC_OPTIONS);
    eng.reps.push(sessions);
    waits.push(watch(eng, sessions, 'sessions', (info) => onSessionsChange(eng, info)));
  }
  if (cfg.dbs.includes('clients')) {
    const clients = PouchDB.sync(eng.local.clients, eng.remote(eng.dbs.clients), SYNC_OPTIONS);
    eng.reps.push(clients);
    waits.push(watch(eng, clients, 'clients', () => {}));
  }
  return Promise.all(waits);
}

function onSessionsChange(eng, info) {
  const t = now();
  const docs = (info.change && info.change.docs) || [];
  for (const doc of docs) {
    if (info.direction === 'push') {
      const start = toServer.get(doc._id);
      if (start !== undefined) {
        toServer.delete(doc._id);
        eng.acked.add(doc._id);
        stats.d2s_ms.push(t - start);
        acknowledged(eng, start, t);
        stats.acked += 1;
        if (t <= windowEnd) stats.acked_in_window += 1;
      }
    } else {
      const pending = toPartner.get(doc._id);
      if (pending && pending.to === eng.index) {
        toPartner.delete(doc._id);
        stats.d2d_ms.push(t - pending.start);
      }
    }
  }
}

function noteBody(eng) {
  return {
    type: 'note', node_id: 'scope', note_id: 'n-' + ulid(),
    text: `Checked the VDA registration on device ${eng.device_id}; the service answered.`,
  };
}

async function syncWrite(eng, partner) {
  const id = `session:${eng.sid}:ev:${ulid()}`;
  const doc = {
    _id: id, schema_version: 1, session_id: eng.sid, ts: Date.now(), device_id: eng.device_id,
    user_id: eng.user_id, ...noteBody(eng),
  };
  const start = now();
  toServer.set(id, start);
  if (partner) toPartner.set(id, { start, to: partner.index });
  eng.written.add(id);
  stats.written_sync += 1;
  try {
    await eng.local.sessions.put(doc);
  } catch (err) {
    toServer.delete(id);
    toPartner.delete(id);
    error('local write failed', err.message);
  }
}

async function restWrite(eng, bucket) {
  const id = `session:${eng.sid}:ev:${ulid()}`;
  const body = JSON.stringify({ _id: id, ts: Date.now(), device_id: eng.device_id, ...noteBody(eng) });
  const start = now();
  let res;
  let text;
  try {
    res = await send(`${eng.api}/api/v1/sessions/${eng.sid}/events`, {
      method: 'POST', agent: eng.agent, body,
      headers: { Authorization: eng.header, 'Content-Type': 'application/json' },
    });
    text = await res.text();
  } catch (err) {
    error('REST write failed', err.message);
    return false;
  }
  const t = now();
  if (res.status !== 201) {
    error(`REST write answered ${res.status}`, text);
    return false;
  }
  bucket.push(t - start);
  acknowledged(eng, start, t);
  eng.written.add(id);
  eng.acked.add(id);
  stats.acked += 1;
  if (t <= windowEnd) stats.acked_in_window += 1;
  return true;
}

async function exportOne(eng) {
  const start = now();
  try {
    const res = await send(`${eng.api}/api/v1/sessions/${eng.sid}/export?format=markdown`, {
      headers: { Authorization: eng.header }, agent: eng.agent,
    });
    await res.text();
    if (res.status !== 200) return error(`export answered ${res.status}`, '');
    stats.export_ms.push(now() - start);
    stats.exports += 1;
  } catch (err) {
    error('export failed', err.message);
  }
}

function openLoop(engineers, byIndex) {
  for (const eng of engineers) {
    const partner = byIndex.get(eng.partner);
    // REST takes exactly its share of each engineer's ticks, from a random starting point.
    let restCredit = Math.random();
    const tick = () => {
      if (!measuring) return;
      restCredit += cfg.rest_share;
      if (restCredit >= 1) {
        restCredit -= 1;
        stats.written_rest += 1;
        restWrite(eng, stats.rest_ms);
      } else {
        syncWrite(eng, partner);
      }
    };
    // Spread the engineers over the period, as a team's typing is.
    eng.timers.push(setTimeout(() => {
      tick();
      eng.timers.push(setInterval(tick, cfg.period_ms));
    }, Math.random() * cfg.period_ms));
  }
  if (cfg.exports_per_minute > 0) {
    const every = 60000 / cfg.exports_per_minute;
    const timer = setInterval(() => {
      if (measuring) exportOne(engineers[Math.floor(Math.random() * engineers.length)]);
    }, every);
    engineers[0].timers.push(timer);
  }
}

// --session-events K: an engineer's session takes at most K of the closed loop's events, then
// the engineer starts the next one (POST /api/v1/sessions, shared with the partner as the
// first was), as a service desk works through its tickets one after another. Without it a
// session grows by hundreds of events a minute, which no engineer's session does.
async function startSession(eng) {
  const body = JSON.stringify({
    tree_id: cfg.tree_id,
    title: `Bench session ${eng.index}.${eng.sids.length}`,
    shared_with: eng.partner_user_id ? [eng.partner_user_id] : [],
  });
  const start = now();
  let res;
  let text;
  try {
    res = await send(`${eng.api}/api/v1/sessions`, {
      method: 'POST', agent: eng.agent, body,
      headers: { Authorization: eng.header, 'Content-Type': 'application/json' },
    });
    text = await res.text();
  } catch (err) {
    return startFailed(eng, 'starting a session failed', err.message);
  }
  let sid;
  try {
    sid = res.status === 201 ? JSON.parse(text).session_id : undefined;
  } catch (err) {
    sid = undefined;
  }
  if (typeof sid !== 'string') return startFailed(eng, `starting a session answered ${res.status}`, text);
  stats.start_ms.push(now() - start);
  eng.sid = sid;
  eng.sids.push(sid);
  eng.onSession = 0;
}

// A refused start is counted; the engineer goes on in the session it has and tries again
// K events later, not before every write.
function startFailed(eng, kind, detail) {
  error(kind, detail);
  eng.onSession = 0;
}

async function closedLoop(engineers) {
  let next = 0;
  const writer = async () => {
    while (measuring) {
      const eng = engineers[next++ % engineers.length];
      // Two writers on one engineer (more writers than engineers) share one start.
      if (!eng.rotating && cfg.session_events && eng.onSession >= cfg.session_events) {
        eng.rotating = startSession(eng).finally(() => { eng.rotating = null; });
      }
      if (eng.rotating) await eng.rotating;
      if (!measuring) break;
      eng.onSession += 1;
      stats.written_rest += 1;
      await restWrite(eng, stats.closed_ms);
    }
  };
  await Promise.all(Array.from({ length: cfg.writers }, writer));
}

async function waitFor(predicate, timeoutMs) {
  const deadline = now() + timeoutMs;
  while (!predicate() && now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return predicate();
}

// The server's own list of each session's events, read after the drain. An event the
// server acknowledged (a 201, or a push batch it answered) that is not there was lost; one
// still unacknowledged and not there never left the device within the drain.
async function verify(eng) {
  const have = new Set();
  for (const sid of eng.sids) {
    const ids = await eventsOnServer(eng, sid);
    if (ids === null) return { lost: 0, undelivered: 0 };
    for (const id of ids) have.add(id);
  }
  const out = { lost: 0, undelivered: 0 };
  for (const id of eng.written) {
    if (have.has(id)) continue;
    if (eng.acked.has(id)) out.lost += 1;
    else out.undelivered += 1;
  }
  return out;
}

// The ids of session `sid`'s events on the server; null (and an error counted) if unreadable.
async function eventsOnServer(eng, sid) {
  const q = `startkey=${encodeURIComponent(JSON.stringify(`session:${sid}:ev:`))}` +
    `&endkey=${encodeURIComponent(JSON.stringify(`session:${sid}:ev:\ufff0`))}`;
  let res;
  try {
    res = await send(`${eng.dbs.sessions}/_all_docs?${q}`, {
      headers: { Authorization: eng.header }, agent: eng.agent,
    });
  } catch (err) {
    error('verification _all_docs failed', err.message);
    return null;
  }
  if (res.status !== 200) {
    error(`verification _all_docs answered ${res.status}`, await res.text());
    return null;
  }
  return (await res.json()).rows.map((r) => r.id);
}

async function main() {
  const engineers = cfg.engineers.map(makeEngineer);
  const byIndex = new Map(engineers.map((e) => [e.index, e]));
  if (!cfg.feeds) {
    process.stdout.write(JSON.stringify({ event: 'ready', warmup_s: 0 }) + '\n');
  } else {
    const t0 = now();
    const ready = Promise.all(engineers.map(startReplication));
    const limit = new Promise((r) => setTimeout(r, cfg.warmup_timeout_ms, 'timeout'));
    if ((await Promise.race([ready, limit])) === 'timeout') error('warm-up', 'replications did not finish their first pass');
    process.stdout.write(JSON.stringify({ event: 'ready', warmup_s: (now() - t0) / 1000 }) + '\n');
  }
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => rl.on('line', (line) => line.trim() === 'go' && resolve()));
  // The run's problems are counted apart from the warm-up's.
  stats.warmup_errors = stats.errors;
  stats.errors = {};
  stats.error_samples = [];
  const cpu0 = process.cpuUsage();
  // How late this process's own callbacks ran in the window: a reply that waits here is
  // counted in the latencies as if the server were slow. A 100 ms timer's lateness, sampled
  // (Node's monitorEventLoopDelay hooks every turn of the loop and cost the generator a
  // tenth of a core more, which showed in the server's figures).
  const lateMs = [];
  let due = now() + LATE_EVERY_MS;
  const lateTimer = setInterval(() => {
    const t = now();
    lateMs.push(Math.max(0, t - due));
    due = t + LATE_EVERY_MS;
  }, LATE_EVERY_MS);
  const start = now();
  windowEnd = start + cfg.duration_ms;
  measuring = true;
  const stop = new Promise((r) => setTimeout(r, cfg.duration_ms)).then(() => { measuring = false; });
  if (cfg.drop_at_ms != null) { // 0 too: the moment the window opens
    // Every device loses its connections at once (the office's Wi-Fi, a proxy restarting):
    // requests in flight fail and the whole team connects again together.
    setTimeout(() => {
      dropAt = now();
      for (const eng of engineers) {
        for (const pool of [eng.agent.sockets, eng.agent.freeSockets]) {
          for (const list of Object.values(pool)) stats.drop_sockets += list.length;
        }
        eng.agent.destroy();
      }
    }, cfg.drop_at_ms);
  }
  if (cfg.closed_loop) await closedLoop(engineers);
  else openLoop(engineers, byIndex);
  await stop;
  for (const eng of engineers) for (const t of eng.timers) clearTimeout(t);
  const cpuRun = process.cpuUsage(cpu0);
  clearInterval(lateTimer);
  lateMs.sort((a, b) => a - b);
  const delayMs = (q) => (lateMs.length ? Math.round(lateMs[Math.floor((q / 100) * (lateMs.length - 1))] * 10) / 10 : 0);
  const drained = await waitFor(() => toServer.size === 0 && toPartner.size === 0, cfg.drain_ms);
  let lost = 0;
  let undelivered = 0;
  for (const eng of engineers) {
    const v = await verify(eng);
    lost += v.lost;
    undelivered += v.undelivered;
  }
  if (dropAt !== null) stats.drop_unrecovered = engineers.filter((e) => e.recovered === undefined).length;
  if (!drained && toPartner.size) {
    error("not on the partner's device after the drain", `${toPartner.size} events`, toPartner.size);
  }
  if (undelivered) error('still on the device after the drain (never reached the server)', `${undelivered} events`, undelivered);
  if (lost) error('lost: acknowledged by the server, then missing from its sessions database', `${lost} events`, lost);
  for (const eng of engineers) for (const rep of eng.reps) rep.cancel();
  const cpuAll = process.cpuUsage(cpu0);
  const tenth = (xs) => xs.map((x) => Math.round(x * 10) / 10);
  for (const key of ['rest_ms', 'd2s_ms', 'd2d_ms', 'export_ms', 'closed_ms', 'start_ms', 'drop_recovery_ms']) stats[key] = tenth(stats[key]);
  const result = {
    event: 'result', ...stats, lost, undelivered,
    cpu_run_s: (cpuRun.user + cpuRun.system) / 1e6,
    cpu_total_s: (cpuAll.user + cpuAll.system) / 1e6,
    loop_delay_ms: { p50: delayMs(50), p99: delayMs(99), max: delayMs(100) },
    window_s: cfg.duration_ms / 1000,
  };
  // Exit only once the line is out: a pipe takes it in 64 KB chunks, asynchronously.
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write((err && err.stack) || String(err));
  process.exit(1);
});
