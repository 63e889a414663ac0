'use strict';
// One run of a phone that keeps its databases on disk between runs (leveldb in `folder`) and
// replicates its clients database live with the PWA's own options (`replication`: the bundled
// pwa/src/data/replication.ts). It writes `write` (ids), then waits until the server holds
// every id of `server_has` and the phone every id of `phone_has`, and stops. It answers what it
// saw and every request it sent, by kind, so the test can tell the round trips a note costs.
// args: {url, token, folder, replication, write, server_has, phone_has}
const fs = require('fs');
const path = require('path');
const { PouchDB, http, pollUntil, main } = require('./lib');

function kind(method, url) {
  const parts = new URL(url).pathname.split('/');  // ['', 'sync', tenant, db, ...rest]
  const rest = parts.slice(4).filter((p) => p !== '');
  if (!rest.length) return `${method} database info`;
  if (rest[0] === '_local') return `${method} _local`;
  return `${method} ${rest[0].startsWith('_') ? rest[0] : 'document'}`;
}

main(async ({ url, token, folder, replication, write, server_has, phone_has }) => {
  const { SYNC_OPTIONS, replicationHandle } = require(replication);
  const requests = {};
  const server = replicationHandle(new PouchDB(url, {
    skip_setup: true,
    fetch(u, opts) {
      opts.headers.set('Authorization', 'Bearer ' + token);
      const k = kind(opts.method || 'GET', u);
      requests[k] = (requests[k] || 0) + 1;
      return PouchDB.fetch(u, opts);
    },
  }));
  fs.mkdirSync(folder, { recursive: true });
  const phone = new PouchDB(path.join(folder, 'clients'));
  const errors = [];
  const sync = PouchDB.sync(phone, server, SYNC_OPTIONS);
  sync.on('error', (e) => errors.push(String(e)));
  sync.on('denied', (e) => errors.push(JSON.stringify(e)));
  try {
    for (const id of write) await phone.put({ _id: id, type: 'client', schema_version: 1, name: `Written on the phone: ${id}`, values: {} });
    await pollUntil(async () => {
      for (const id of server_has) {
        const r = await http(`${url}/${encodeURIComponent(id)}`, { bearer: token });
        if (r.status !== 200) return false;
      }
      for (const id of phone_has) {
        if (!(await phone.get(id).then(() => true, () => false))) return false;
      }
      return true;
    }, 60000);
  } finally {
    sync.cancel();
    await phone.close();
  }
  return { errors, requests };
});
