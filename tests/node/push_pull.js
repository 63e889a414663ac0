'use strict';
// Push N documents from one client, pull them into another; report what each side holds.
// args: {url, auth, n}
const { local, remote, makeDocs, allDocsMap, replicate, main } = require('./lib');

main(async ({ url, auth, n }) => {
  const a = local('pusher');
  const b = local('puller');
  const server = remote(url, auth);
  const docs = makeDocs(n);
  await a.bulkDocs(docs);

  let t = Date.now();
  const push = await replicate(a, server);
  const pushMs = Date.now() - t;
  t = Date.now();
  const pull = await replicate(server, b);
  const pullMs = Date.now() - t;

  const [mapA, mapB] = [await allDocsMap(a), await allDocsMap(b)];
  const same = Object.keys(mapA).length === Object.keys(mapB).length &&
    Object.keys(mapA).every((id) => JSON.stringify(mapA[id]) === JSON.stringify(mapB[id]));
  // A second pull must find nothing new: the checkpoint was written.
  const again = await replicate(server, b);
  return {
    push_ok: push.ok, push_written: push.docs_written, push_ms: pushMs,
    pull_ok: pull.ok, pull_written: pull.docs_written, pull_ms: pullMs,
    server_doc_count: (await server.info()).doc_count,
    client_b_count: Object.keys(mapB).length, identical: same,
    second_pull_written: again.docs_written,
  };
});
