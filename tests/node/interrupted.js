'use strict';
// A push interrupted by the server dying, resumed after it restarts.
// args: {url, auth, n, kill_after}. Protocol on stdout/stdin, one JSON line each:
//   -> {"event":"progress","docs_written":N}   once at least kill_after docs are written
//   -> {"event":"failed", ...}                 when the replication errors out
//   <- "resume"                                 after the server is back
//   -> final result
const readline = require('readline');
const { local, remote, makeDocs, replicate, main } = require('./lib');

function say(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

main(async ({ url, auth, n, kill_after: killAfter }) => {
  const a = local('interrupted');
  await a.bulkDocs(makeDocs(n));
  const lines = readline.createInterface({ input: process.stdin });
  const nextLine = () => new Promise((resolve) => lines.once('line', resolve));

  let announced = false;
  let firstRun;
  try {
    const rep = replicate(a, remote(url, auth));
    rep.on('change', (info) => {
      if (!announced && info.docs_written >= killAfter) {
        announced = true;
        say({ event: 'progress', docs_written: info.docs_written });
      }
    });
    firstRun = await rep;
    say({ event: 'finished-too-early', docs_written: firstRun.docs_written });
  } catch (err) {
    say({ event: 'failed', status: err.status || null, message: String(err.message || err) });
  }
  if (!announced) say({ event: 'progress', docs_written: -1 });

  await nextLine();
  const second = await replicate(a, remote(url, auth));
  lines.close();
  return { event: 'done', ok: second.ok, docs_read: second.docs_read, docs_written: second.docs_written };
});
