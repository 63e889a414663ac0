'use strict';
// Two devices edit the same session header offline, then sync: the server merges the
// conflicting revisions field by field, and every replica ends with the merged header and
// no conflicts left.
// args: {url, alice, sid, tree_id, now}
const { local, remote, replicate, pollUntil, main } = require('./lib');

main(async ({ url, alice, sid, tree_id, now }) => {
  const server = remote(url, { bearer: alice.token });
  const phone = local('phone');
  const laptop = local('laptop');
  const id = `session:${sid}`;
  await phone.put({
    _id: id, type: 'session', schema_version: 1, tree_id, tree_version: 1, ticket: null, client_id: null,
    title: 'VDA down', owner_id: alice.id, shared_with: [], status: 'in_progress', created_at: now,
    updated_at: now, device_id: 'phone', edited: { ticket: now, title: now, client_id: now, shared_with: now, status: now },
  });
  await replicate(phone, server);
  await replicate(server, laptop);

  // Offline: the phone sets the ticket (later), the laptop renames and sets another ticket (earlier).
  const p = await phone.get(id);
  p.ticket = 'T-PHONE'; p.edited.ticket = now + 2000; p.updated_at = now + 2000;
  await phone.put(p);
  const l = await laptop.get(id);
  l.ticket = 'T-LAPTOP'; l.edited.ticket = now + 1000;
  l.title = 'VDA 07 unregistered'; l.edited.title = now + 1500; l.updated_at = now + 1500;
  await laptop.put(l);

  await replicate(phone, server);
  await replicate(laptop, server);
  // The server merges in the background; wait until its header has no conflicts left.
  const merged = await pollUntil(async () => {
    const doc = await server.get(id, { conflicts: true });
    return !doc._conflicts && doc.history && doc.history.length ? doc : null;
  }, 20000, 50);
  for (const db of [phone, laptop]) {
    await replicate(server, db);
    await replicate(db, server);
  }
  await replicate(server, phone);
  const out = {};
  for (const [name, db] of [['phone', phone], ['laptop', laptop], ['server', server]]) {
    const doc = await db.get(id, { conflicts: true });
    out[name] = { rev: doc._rev, conflicts: doc._conflicts || [], ticket: doc.ticket, title: doc.title,
      history: doc.history, edited: doc.edited };
  }
  out.merged_rev = merged._rev;
  return out;
});
