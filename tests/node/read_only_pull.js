'use strict';
// Pull a database the caller may read but not write, then try to push an edit back.
// args: {url, auth, edit_id}: the pull's ids, a second pull's count (its checkpoint held),
// and what the server answered to the pushed edit of `edit_id`.
const { local, remote, allDocsMap, replicate, main } = require('./lib');

main(async ({ url, auth, edit_id }) => {
  const device = local('reader');
  const server = remote(url, auth);
  const pull = await replicate(server, device);
  const ids = Object.keys(await allDocsMap(device)).sort();
  const again = await replicate(server, device);

  const doc = await device.get(edit_id);
  doc.risk = 'high';
  await device.put(doc);
  // A writer the database refuses as a whole ends the replication with that error.
  let pushed;
  try {
    const push = await replicate(device, server);
    pushed = { ok: push.ok, written: push.docs_written, status: null };
  } catch (err) {
    pushed = { ok: false, written: (err.result || {}).docs_written || 0, status: err.status, reason: err.reason };
  }
  const stored = await server.get(edit_id);
  return {
    pull_ok: pull.ok,
    ids,
    second_pull_written: again.docs_written,
    pushed,
    server_risk: stored.script ? stored.script.risk : stored.risk,
  };
});
