'use strict';
// Filtered pulls the way PouchDB sends them: doc_ids and selector (POST _changes), and a
// design-document filter whose design document does not exist (CouchDB's 404). args: {url, auth}
const { local, remote, replicate, main } = require('./lib');

main(async ({ url, auth }) => {
  const a = local('filter-src');
  const server = remote(url, auth);
  const docs = [];
  for (let i = 0; i < 30; i++) {
    docs.push({ _id: `item-${String(i).padStart(2, '0')}`, kind: i % 3 === 0 ? 'tree' : 'session', i });
  }
  await a.bulkDocs(docs);
  await replicate(a, server);

  const byIds = local('filter-ids');
  await replicate(server, byIds, { doc_ids: ['item-01', 'item-07', 'item-29', 'nope'] });
  const bySelector = local('filter-selector');
  await replicate(server, bySelector, { selector: { kind: 'tree' } });

  let ddocError = null;
  try {
    await replicate(server, local('filter-ddoc'), { filter: 'app/only_trees' });
  } catch (err) {
    ddocError = { status: err.status, name: err.name, message: err.message };
  }
  const ids = async (db) => (await db.allDocs()).rows.map((r) => r.id);
  return {
    doc_ids: await ids(byIds),
    selector: await ids(bySelector),
    ddoc_error: ddocError,
    server_alive: (await server.info()).doc_count,
  };
});
