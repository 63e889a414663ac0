'use strict';
// Forbidden writes inside a batch: refused one by one with `forbidden`, the rest accepted.
// First through raw `_bulk_docs` (the answer lists each refusal), then through PouchDB's
// replicator (it reports refusals as `denied` and keeps going).
// args: {url, owner, alice, bob, sid_a, sid_b, sid_c, tree_id, now}
const { local, remote, replicate, http, main } = require('./lib');

function header(sid, owner, treeId, now, extra = {}) {
  return Object.assign({
    _id: `session:${sid}`, type: 'session', schema_version: 1, tree_id: treeId, tree_version: 1,
    title: 't', owner_id: owner, shared_with: [], status: 'in_progress', created_at: now,
    updated_at: now, device_id: 'dev', edited: { title: now },
  }, extra);
}

function ev(sid, n, user, now, fields = {}) {
  return Object.assign({
    _id: `session:${sid}:ev:${String(n).padStart(26, '0')}`, schema_version: 1, session_id: sid,
    ts: now + n, device_id: 'dev', user_id: user, type: 'note', node_id: 'scope', note_id: `n${n}`,
    text: `note ${n}`,
  }, fields);
}

main(async ({ url, owner, alice, bob, sid_a, sid_b, sid_c, tree_id, now }) => {
  const asAlice = { bearer: alice.token };
  const asBob = { bearer: bob.token };
  // Alice's session with one event, written by Alice.
  const seed = await http(`${url}/_bulk_docs`, asAlice, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ docs: [header(sid_a, alice.id, tree_id, now), ev(sid_a, 1, alice.id, now)] }),
  });
  const existing = seed.body[1];

  const batch = [
    header(sid_b, bob.id, tree_id, now),                                   // ok: Bob's own new session
    ev(sid_b, 1, bob.id, now),                                             // ok: Bob's event in it
    ev(sid_b, 2, alice.id, now),                                           // forbidden: another user_id
    header(sid_c, alice.id, tree_id, now),                                 // forbidden: a new session owned by Alice
    ev(sid_a, 2, bob.id, now),                                             // forbidden: Alice's unshared session
    Object.assign(ev(sid_a, 1, alice.id, now, { text: 'edited' }), { _rev: existing.rev }), // forbidden: edit of an event
    ev(sid_b, 3, bob.id, now),                                             // ok
  ];
  const raw = await http(`${url}/_bulk_docs`, asBob, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ docs: batch }),
  });

  // The same kinds of refusals through replication.
  const bobLocal = local('bob');
  await bobLocal.bulkDocs([
    ev(sid_b, 10, bob.id, now),
    ev(sid_b, 11, alice.id, now),
    ev(sid_b, 12, bob.id, now),
  ]);
  const denied = [];
  const push = await replicate(bobLocal, remote(url, asBob)).on('denied', (err) => denied.push(err && (err.id || err.name)));
  const treeRes = await http(`${url.replace(/\/sessions$/, '/trees')}/treever:${tree_id.slice(5)}:99`, asBob, {
    method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'tree_version' }),
  });
  const serverIds = (await http(`${url}/_all_docs`, { bearer: owner.token })).body.rows.map((r) => r.id).sort();
  return {
    raw_status: raw.status, raw: raw.body,
    push: { ok: push.ok, written: push.docs_written, failures: push.doc_write_failures, errors: push.errors.length },
    denied, tree_status: treeRes.status, tree_body: treeRes.body, server_ids: serverIds,
  };
});
