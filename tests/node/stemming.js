'use strict';
// A small _revs_limit on the server: long histories are stemmed, replication still works.
// args: {url, auth, limit, edits}
const { local, remote, http, replicate, main } = require('./lib');

main(async ({ url, auth, limit, edits }) => {
  const a = local('stem-a');
  const server = remote(url, auth);
  await http(`${url}/_revs_limit`, auth, { method: 'PUT', body: String(limit) });
  let doc = { _id: 'long', n: 0 };
  const first = await a.put(doc);
  doc._rev = first.rev;
  for (let i = 1; i < edits; i++) {
    const r = await a.put({ ...doc, n: i });
    doc._rev = r.rev;
  }
  await replicate(a, server);
  const stored = (await http(`${url}/long?revs=true`, auth)).body;

  // Edited again on the client and pushed: the stemmed history still joins up.
  const more = await a.put({ ...(await a.get('long')), n: edits });
  await replicate(a, server);
  const after = (await http(`${url}/long?revs=true&conflicts=true`, auth)).body;

  const fresh = local('stem-b');
  await replicate(server, fresh);
  const pulled = await fresh.get('long', { revs: true });
  return {
    client_rev: more.rev, server_rev: after._rev, server_conflicts: after._conflicts || [],
    stored_revisions: stored._revisions, after_revisions: after._revisions,
    pulled_rev: pulled._rev, pulled_n: pulled.n, pulled_revisions: pulled._revisions,
  };
});
