'use strict';
// Two clients in live two-way sync with the server: a write on one reaches the other,
// both ways, including updates and deletions. args: {url, auth}
const { local, remote, pollUntil, PouchDB, main } = require('./lib');

main(async ({ url, auth }) => {
  const a = local('live-a');
  const b = local('live-b');
  const opts = { live: true, retry: true, batch_size: 100 };
  const syncA = PouchDB.sync(a, remote(url, auth), opts);
  const syncB = PouchDB.sync(b, remote(url, auth), opts);
  const errors = [];
  for (const s of [syncA, syncB]) s.on('error', (e) => errors.push(String(e)));
  const out = {};
  try {
    let t = Date.now();
    await a.put({ _id: 'note-1', text: 'from A' });
    const seenByB = await pollUntil(() => b.get('note-1').catch(() => null));
    out.a_to_b_ms = Date.now() - t;
    out.b_text = seenByB.text;

    t = Date.now();
    await b.put({ ...seenByB, text: 'edited on B' });
    await pollUntil(async () => (await a.get('note-1')).text === 'edited on B');
    out.b_to_a_ms = Date.now() - t;

    const current = await a.get('note-1');
    await a.remove(current);
    await pollUntil(() => b.get('note-1').then(() => false, (e) => e.status === 404));
    out.deletion_reached_b = true;

    // A burst of writes on both sides converges.
    await Promise.all([
      a.bulkDocs(Array.from({ length: 50 }, (_, i) => ({ _id: `a-${i}` }))),
      b.bulkDocs(Array.from({ length: 50 }, (_, i) => ({ _id: `b-${i}` }))),
    ]);
    await pollUntil(async () => (await a.info()).doc_count === 100 && (await b.info()).doc_count === 100);
    out.converged_docs = (await a.info()).doc_count;
  } finally {
    syncA.cancel();
    syncB.cancel();
  }
  out.errors = errors;
  return out;
});
