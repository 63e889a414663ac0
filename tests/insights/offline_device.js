'use strict';
// An engineer's phone and laptop record one session offline (real PouchDB, in memory) and
// sync late: the completion first, the answers after it, the laptop's copy of an event the
// phone also wrote. Between syncs it asks the analytics API what it now counts.
// Run with NODE_PATH=tests/node/node_modules. args: {sync_url, api_url, user, token, sid, tree_id, now}
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));

function local(name) {
  return new PouchDB(`${name}-${process.pid}-${Date.now()}`, { adapter: 'memory' });
}

function remote(url, token) {
  return new PouchDB(url, {
    fetch(u, opts) {
      opts.headers.set('Authorization', `Bearer ${token}`);
      return PouchDB.fetch(u, opts);
    },
  });
}

async function analytics(apiUrl, token, treeId) {
  const res = await fetch(`${apiUrl}/api/v1/analytics/trees/${treeId}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return res.json();
}

async function main() {
  const { sync_url, api_url, user, token, sid, tree_id, now } = JSON.parse(process.argv[2]);
  const ev = (n, device, offset, fields) => Object.assign({
    _id: `session:${sid}:ev:${String(n).padStart(26, '0')}`, schema_version: 1, session_id: sid,
    ts: now + offset, device_id: device, user_id: user,
  }, fields);
  const header = {
    _id: `session:${sid}`, type: 'session', schema_version: 1, tree_id, tree_version: 1, ticket: null,
    client_id: null, title: 'offline', owner_id: user, shared_with: [], status: 'in_progress',
    created_at: now, updated_at: now, device_id: 'phone',
    edited: { ticket: now, title: now, client_id: now, shared_with: now, status: now },
  };
  const answerVda = ev(2, 'phone', 3000, { type: 'answered', node_id: 'vda', answer: 'submitted', value: 'v7' });
  const completed = ev(4, 'phone', 12000, { type: 'completed' });
  const phone = local('phone');
  const laptop = local('laptop');
  const server = remote(sync_url, token);
  const out = {};

  await phone.bulkDocs([header, ev(1, 'phone', 1000, { type: 'answered', node_id: 'scope', answer: 'yes' })]);
  await phone.replicate.to(server);
  out.after_first_sync = await analytics(api_url, token, tree_id);

  // Offline: the rest of the session on the phone; the laptop's outbox holds the same vda answer.
  await phone.bulkDocs([answerVda,
    ev(3, 'phone', 10000, { type: 'answered', node_id: 'service', answer: 'done' }), completed]);
  await laptop.put(Object.assign({}, answerVda));
  await phone.replicate.to(server, { doc_ids: [completed._id] });
  out.after_completion_only = await analytics(api_url, token, tree_id);

  const laptopPush = await laptop.replicate.to(server);
  const phonePush = await phone.replicate.to(server);
  const again = await phone.replicate.to(server);
  out.pushes = { laptop: laptopPush.docs_written, phone: phonePush.docs_written, again: again.docs_written,
                 failures: laptopPush.doc_write_failures + phonePush.doc_write_failures };
  out.final = await analytics(api_url, token, tree_id);
  console.log(JSON.stringify(out));
}

main().catch((err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); });
