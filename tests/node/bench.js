'use strict';
// Benchmark: one PouchDB client (memory adapter) pushes N ~1 KB documents, then a second
// client pulls them all. args: {url, auth, n}. Times in milliseconds.
// With `url: null` the middle database is another in-memory PouchDB: PouchDB's own
// memory-to-memory replication of the same data, for reference (the client's own share of
// the work, which every server's time includes).
const { local, remote, makeDocs, replicate, main } = require('./lib');

main(async ({ url, auth, n }) => {
  const a = local('bench-push');
  const b = local('bench-pull');
  await a.bulkDocs(makeDocs(n));
  const server = url ? remote(url, auth, { keepAlive: true })  // as a browser does
    : local('bench-middle');
  let t = Date.now();
  const push = await replicate(a, server);
  const pushMs = Date.now() - t;
  t = Date.now();
  const pull = await replicate(server, b);
  const pullMs = Date.now() - t;
  const count = (await b.info()).doc_count;
  if (push.docs_written !== n || count !== n) {
    throw new Error(`incomplete: pushed ${push.docs_written}, pulled ${count} of ${n}`);
  }
  return { push_ms: pushMs, pull_ms: pullMs, total_ms: pushMs + pullMs, pulled: pull.docs_written };
});
