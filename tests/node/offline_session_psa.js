'use strict';
// A device records a whole session with no connection (its local PouchDB only), completes
// it, and syncs later; then it waits for the PSA push to write the ticket into the session
// header on the server and pulls that header back.
// args: {url, user: {id, token}, sid, tree_id, now}
const { local, remote, replicate, pollUntil, main } = require('./lib');

main(async ({ url, user, sid, tree_id: treeId, now }) => {
  const device = local('phone');
  const server = remote(url, { bearer: user.token });
  const ev = (n, fields) => Object.assign({
    _id: `session:${sid}:ev:${String(n).padStart(26, '0')}`, schema_version: 1, session_id: sid,
    ts: now + n * 1000, device_id: 'phone-offline', user_id: user.id,
  }, fields);
  await device.put({
    _id: `session:${sid}`, type: 'session', schema_version: 1, tree_id: treeId, tree_version: 1,
    ticket: null, client_id: null, title: 'VDA CTX-07 unregistered', owner_id: user.id, shared_with: [],
    status: 'in_progress', created_at: now, updated_at: now, device_id: 'phone-offline',
    edited: { title: now },
  });
  await device.bulkDocs([
    ev(1, { type: 'note', node_id: 'scope', note_id: 'n1', text: 'Only CTX-07 shows Unregistered.' }),
    ev(2, { type: 'answered', node_id: 'scope', answer: 'yes' }),
    ev(3, { type: 'completed', outcome: 'resolved', summary: 'Restarted the Desktop Service offline.' }),
  ]);
  const header = await device.get(`session:${sid}`);
  header.status = 'completed';
  header.updated_at = now + 3000;
  header.edited.status = now + 3000;
  await device.put(header);

  const push = await replicate(device, server);
  const pushed = await pollUntil(async () => (await server.get(`session:${sid}`)).psa, 60000, 200);
  await replicate(server, device);
  const back = await device.get(`session:${sid}`);
  return {
    push: { ok: push.ok, written: push.docs_written, failures: push.doc_write_failures },
    server_psa: pushed,
    device_psa: back.psa || null,
  };
});
