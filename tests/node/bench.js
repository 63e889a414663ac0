'use strict';
// Benchmark: one PouchDB client (memory adapter) pushes N ~1 KB documents, then a second
// client pulls them all. args: {url, auth, n}. Times in milliseconds.
const { local, remote, makeDocs, replicate, main } = require('./lib');

main(async ({ url, auth, n }) => {
  const a = local('bench-push');
  const b = local('bench-pull');
  await a.bulkDocs(makeDocs(n));
  const server = remote(url, auth, { keepAlive: true });  // as a browser does
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
