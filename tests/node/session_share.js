'use strict';
// Per-document access over real PouchDB replication: an engineer never receives another
// engineer's unshared session, and a session shared after the device's last sync still
// arrives on the next sync with all its (older) events.
// args: {url, alice, bob, sid_a, sid_b, tree_id, now}  (alice/bob: {id, token})
const { local, remote, replicate, main } = require('./lib');

function header(sid, owner, treeId, now, extra = {}) {
  return Object.assign({
    _id: `session:${sid}`, type: 'session', schema_version: 1, tree_id: treeId, tree_version: 1,
    ticket: null, client_id: null, title: `session of ${owner}`, owner_id: owner, shared_with: [],
    status: 'in_progress', created_at: now, updated_at: now, device_id: `dev-${owner}`,
    edited: { ticket: now, title: now, client_id: now, shared_with: now, status: now },
  }, extra);
}

function ev(sid, n, user, now, fields) {
  return Object.assign({
    _id: `session:${sid}:ev:${String(n).padStart(26, '0')}`, schema_version: 1, session_id: sid,
    ts: now + n, device_id: `dev-${user}`, user_id: user,
  }, fields);
}

async function ids(db) {
  return (await db.allDocs()).rows.map((r) => r.id).sort();
}

main(async ({ url, alice, bob, sid_a, sid_b, tree_id, now }) => {
  const aliceLocal = local('alice');
  const bobLocal = local('bob');
  const aliceRemote = remote(url, { bearer: alice.token });
  const bobRemote = remote(url, { bearer: bob.token });

  await aliceLocal.bulkDocs([
    header(sid_a, alice.id, tree_id, now),
    ev(sid_a, 1, alice.id, now, { type: 'note', node_id: 'scope', note_id: 'n1', text: 'first' }),
    ev(sid_a, 2, alice.id, now, { type: 'answered', node_id: 'scope', answer: 'yes' }),
    ev(sid_a, 3, alice.id, now, { type: 'note', node_id: 'vda', note_id: 'n2', text: 'second' }),
  ]);
  const alicePush1 = await replicate(aliceLocal, aliceRemote);

  await bobLocal.bulkDocs([
    header(sid_b, bob.id, tree_id, now),
    ev(sid_b, 1, bob.id, now, { type: 'note', node_id: 'scope', note_id: 'b1', text: 'bob' }),
  ]);
  const bobPush = await replicate(bobLocal, bobRemote);
  const bobPull1 = await replicate(bobRemote, bobLocal);
  const bobAfterFirstPull = await ids(bobLocal);

  // Alice shares her session with Bob (an owner's edit of shared_with, over sync).
  const h = await aliceLocal.get(`session:${sid_a}`);
  h.shared_with = [bob.id];
  h.edited.shared_with = now + 100;
  await aliceLocal.put(h);
  const alicePush2 = await replicate(aliceLocal, aliceRemote);

  const bobPull2 = await replicate(bobRemote, bobLocal);
  const bobAfterShare = await ids(bobLocal);
  // Bob writes into the shared session; Alice's device receives it.
  await bobLocal.put(ev(sid_a, 4, bob.id, now, { type: 'note', node_id: 'scope', note_id: 'b2', text: 'from bob' }));
  const bobPush2 = await replicate(bobLocal, bobRemote);
  await replicate(aliceRemote, aliceLocal);
  const aliceFinal = await ids(aliceLocal);

  return {
    alice_push1: { ok: alicePush1.ok, written: alicePush1.docs_written, failures: alicePush1.doc_write_failures },
    bob_push: { ok: bobPush.ok, written: bobPush.docs_written },
    bob_pull1_written: bobPull1.docs_written,
    bob_after_first_pull: bobAfterFirstPull,
    alice_push2: { ok: alicePush2.ok, written: alicePush2.docs_written, failures: alicePush2.doc_write_failures },
    bob_pull2_written: bobPull2.docs_written,
    bob_after_share: bobAfterShare,
    bob_push2: { ok: bobPush2.ok, written: bobPush2.docs_written, failures: bobPush2.doc_write_failures },
    alice_final: aliceFinal,
  };
});
