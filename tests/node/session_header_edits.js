'use strict';
// Issue 14: two phones edit the same session header offline, one the ticket, the other only
// the title, each saving through the PWA's own header writer (`writer`: the bundled
// pwa/src/data/headerEdits.ts). After both sync, the server's field-by-field merge must keep
// both edits on every replica. With `legacy_laptop`, the laptop saves like the PWA before
// the fix did (every field of the form marked edited, no record of the values), which the
// server's merge must see through.
// args: {url, alice, sid, tree_id, now, writer, legacy_laptop}
const { local, remote, replicate, pollUntil, main } = require('./lib');

// The old writer, kept here only to prove the server copes with devices still running it.
function legacyEdit(header, changes, now) {
  const edited = Object.assign({}, header.edited);
  for (const key of Object.keys(changes)) edited[key] = now;
  return Object.assign({}, header, changes, { edited, updated_at: now });
}

main(async ({ url, alice, sid, tree_id, now, writer, legacy_laptop }) => {
  const { applyHeaderEdit, initialMarks } = require(writer);
  const server = remote(url, { bearer: alice.token });
  const phone = local('phone');
  const laptop = local('laptop');
  const id = `session:${sid}`;
  const fields = { ticket: 'T-OLD', client_id: null, title: 'Printer offline', shared_with: [], status: 'in_progress' };
  await phone.put(Object.assign({
    _id: id, type: 'session', schema_version: 1, tree_id, tree_version: 1, owner_id: alice.id,
    created_at: now, updated_at: now, device_id: 'phone',
  }, fields, initialMarks(now, fields)));
  await replicate(phone, server);
  await replicate(server, laptop);

  // Offline. Both save the whole "Ticket and title" form; the phone changed the ticket, the
  // laptop (later) only the title.
  const p = await phone.get(id);
  await phone.put(applyHeaderEdit(p, { ticket: 'T-NEW', title: p.title }, now + 1000));
  const l = await laptop.get(id);
  const laptopChanges = { ticket: l.ticket, title: 'PRN-02 offline since 08:40' };
  await laptop.put(legacy_laptop ? legacyEdit(l, laptopChanges, now + 2000) : applyHeaderEdit(l, laptopChanges, now + 2000));

  await replicate(phone, server);
  await replicate(laptop, server);
  await pollUntil(async () => {
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
    out[name] = { rev: doc._rev, conflicts: doc._conflicts || [], ticket: doc.ticket, title: doc.title, edited: doc.edited };
  }
  return out;
});
