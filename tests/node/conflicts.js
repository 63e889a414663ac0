'use strict';
// The same documents edited on two clients while offline, then synced through our server
// and, with the very same revision histories, through pouchdb-server (the reference).
// args: {url, auth, ref}  (ref: a pouchdb-server database URL)
const { local, remote, http, replicate, main } = require('./lib');

async function view(dbUrl, auth, id) {
  const winner = await http(`${dbUrl}/${encodeURIComponent(id)}?conflicts=true`, auth);
  const open = await http(`${dbUrl}/${encodeURIComponent(id)}?open_revs=all`, auth);
  return {
    winner: winner.body._rev,
    body: winner.body,
    conflicts: (winner.body._conflicts || []).slice().sort(),
    open_revs: Array.isArray(open.body)
      ? open.body.filter((r) => r.ok).map((r) => r.ok).sort((x, y) => (x._rev < y._rev ? -1 : 1))
      : open.body,
  };
}

async function clientView(db, id) {
  const doc = await db.get(id, { conflicts: true });
  return { winner: doc._rev, conflicts: (doc._conflicts || []).slice().sort(), body: doc };
}

main(async ({ url, auth, ref }) => {
  const a = local('conflict-a');
  const b = local('conflict-b');
  const server = remote(url, auth);
  const reference = remote(ref, null);

  // A shared starting point on both clients.
  await a.bulkDocs([
    { _id: 'same-depth', text: 'base' },
    { _id: 'deeper', text: 'base' },
    { _id: 'delete-vs-edit', text: 'base' },
    { _id: 'three-way', text: 'base' },
  ]);
  await replicate(a, server);
  await replicate(server, b);

  // Offline edits.
  const edit = async (db, id, text, times = 1) => {
    for (let i = 0; i < times; i++) {
      const doc = await db.get(id);
      await db.put({ ...doc, text: `${text} #${i + 1}` });
    }
  };
  await edit(a, 'same-depth', 'A');
  await edit(b, 'same-depth', 'B');
  await edit(a, 'deeper', 'A');
  await edit(b, 'deeper', 'B', 3);
  await a.remove(await a.get('delete-vs-edit'));
  await edit(b, 'delete-vs-edit', 'B');
  await edit(a, 'three-way', 'A', 2);
  await edit(b, 'three-way', 'B', 2);

  // Both clients sync with our server (push, then pull), and push to the reference.
  await replicate(a, server);
  await replicate(b, server);
  await replicate(server, a);
  await replicate(server, b);
  await replicate(a, reference);
  await replicate(b, reference);

  const ids = ['same-depth', 'deeper', 'delete-vs-edit', 'three-way'];
  const out = {};
  for (const id of ids) {
    out[id] = {
      ours: await view(url, auth, id),
      ref: await view(ref, null, id),
      a: await clientView(a, id),
      b: await clientView(b, id),
    };
  }
  return out;
});
