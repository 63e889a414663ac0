'use strict';
// Deletions and re-creations travel both ways. args: {url, auth}
const { local, remote, http, replicate, main } = require('./lib');

main(async ({ url, auth }) => {
  const a = local('del-a');
  const b = local('del-b');
  const server = remote(url, auth);
  const out = {};

  await a.put({ _id: 'doc', v: 1 });
  await replicate(a, server);
  await replicate(server, b);

  // Deleted on a client: the server and the other client see it gone.
  await a.remove(await a.get('doc'));
  await replicate(a, server);
  out.server_after_delete = (await http(`${url}/doc`, auth)).body;
  await replicate(server, b);
  out.b_after_delete = await b.get('doc').then(() => 'present', (e) => e.reason || e.message);

  // Re-created on the other client: a new revision on top of the tombstone.
  await b.put({ _id: 'doc', v: 2 });
  await replicate(b, server);
  out.server_after_recreate = (await http(`${url}/doc`, auth)).body;
  await replicate(server, a);
  out.a_after_recreate = await a.get('doc');

  // Deleted on the server (HTTP DELETE), re-created there with a PUT, pulled by a client.
  const cur = (await http(`${url}/doc`, auth)).body;
  await http(`${url}/doc?rev=${cur._rev}`, auth, { method: 'DELETE' });
  await replicate(server, a);
  out.a_after_server_delete = await a.get('doc').then(() => 'present', (e) => e.reason || e.message);
  await http(`${url}/doc`, auth, {
    method: 'PUT', body: JSON.stringify({ v: 3 }), headers: { 'Content-Type': 'application/json' },
  });
  await replicate(server, a);
  out.a_after_server_recreate = await a.get('doc');
  out.changes = (await http(`${url}/_changes?style=all_docs`, auth)).body;
  return out;
});
