'use strict';
// One session synced through two Branchline instances that share one CouchDB.
// Device A replicates with instance A, device B with instance B. B keeps a live pull open
// on instance B while A pushes an event through instance A: B must receive it without a
// heartbeat's delay (instance B learns of A's write from CouchDB). Then B writes an event
// through instance B and A pulls it through instance A.
// args: {a: {url, token}, b: {url, token}, sid, user_id, now}
const path = require('path');
const { local, remote, replicate, pollUntil, main } = require(path.join(__dirname, '..', '..', 'node', 'lib.js'));

function ev(sid, n, user, now, device, text) {
  return {
    _id: `session:${sid}:ev:${String(n).padStart(26, '0')}`, type: 'note', schema_version: 1,
    session_id: sid, ts: now + n, device_id: device, user_id: user, node_id: 'scope',
    note_id: `note-${device}`, text,
  };
}

main(async ({ a, b, sid, user_id, now }) => {
  const devA = local('dev-a');
  const devB = local('dev-b');
  const viaA = remote(a.url, { bearer: a.token });
  const viaB = remote(b.url, { bearer: b.token });
  const out = {};

  // Both devices start from the server's copy (the header the API wrote through A).
  await replicate(viaB, devB);
  out.b_has_header = !!(await devB.get(`session:${sid}`).catch(() => null));

  const live = PouchDB_live(devB, viaB);
  await devA.put(ev(sid, 1, user_id, now, 'dev-a', 'written on device A'));
  const t0 = Date.now();
  await replicate(devA, viaA);
  await pollUntil(() => devB.get(`session:${sid}:ev:${String(1).padStart(26, '0')}`).catch(() => null), 20000);
  out.a_to_b_ms = Date.now() - t0;
  live.cancel();

  await devB.put(ev(sid, 2, user_id, now, 'dev-b', 'written on device B'));
  await replicate(devB, viaB);
  await replicate(viaA, devA);
  const rows = (await devA.allDocs({ startkey: `session:${sid}:ev:`, endkey: `session:${sid}:ev:\ufff0` })).rows;
  out.a_event_ids = rows.map((r) => r.id);
  return out;
});

function PouchDB_live(target, source) {
  const { PouchDB } = require(path.join(__dirname, '..', '..', 'node', 'lib.js'));
  return PouchDB.replicate(source, target, { live: true, retry: true });
}
