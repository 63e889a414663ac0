'use strict';
// Shared helpers for the PouchDB conformance scripts. Each script takes one JSON argument
// and prints its result as one JSON line on stdout (progress lines before it, if any).

const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));

let counter = 0;

// A fresh in-memory client database (the browser's IndexedDB stands in for it in the PWA).
function local(prefix = 'client') {
  counter += 1;
  return new PouchDB(`${prefix}-${process.pid}-${Date.now()}-${counter}`, { adapter: 'memory' });
}

// Node's PouchDB fetches through node-fetch, which closes the connection after every request
// unless it is given an agent; browsers keep connections open. `keepAlive` makes the client
// behave like the browser the PWA runs in.
const keepAliveAgents = {
  'http:': new (require('http').Agent)({ keepAlive: true }),
  'https:': new (require('https').Agent)({ keepAlive: true }),
};

// A remote database. `auth` is {basic: [user, password]} or {bearer: token} or null.
function remote(url, auth, { keepAlive = false } = {}) {
  let header = null;
  if (auth && auth.basic) {
    header = 'Basic ' + Buffer.from(auth.basic.join(':')).toString('base64');
  } else if (auth && auth.bearer) {
    header = 'Bearer ' + auth.bearer;
  }
  return new PouchDB(url, {
    fetch(u, opts) {
      if (header) opts.headers.set('Authorization', header);
      if (keepAlive) opts.agent = keepAliveAgents[new URL(u).protocol];
      return PouchDB.fetch(u, opts);
    },
  });
}

// Raw HTTP with the same credentials, for what PouchDB's API does not expose.
async function http(url, auth, options = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
  if (auth && auth.basic) {
    headers.Authorization = 'Basic ' + Buffer.from(auth.basic.join(':')).toString('base64');
  } else if (auth && auth.bearer) {
    headers.Authorization = 'Bearer ' + auth.bearer;
  }
  const res = await fetch(url, Object.assign({}, options, { headers }));
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch (e) { /* not JSON: keep the text */ }
  return { status: res.status, body };
}

// About 1 KB of JSON per document, different in each.
function makeDocs(n, prefix = 'doc') {
  const docs = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${String(i).padStart(6, '0')}`;
    docs.push({
      _id: id,
      type: 'session_event',
      n: i,
      ts: 1700000000000 + i,
      text: `Step ${i}: ` + 'checked the VDA registration state and restarted the service. '.repeat(14),
    });
  }
  return docs;
}

async function allDocsMap(db) {
  const res = await db.allDocs({ include_docs: true });
  const out = {};
  for (const row of res.rows) {
    const { _rev, ...body } = row.doc;
    out[row.id] = body;
  }
  return out;
}

function replicate(from, to, opts = {}) {
  return PouchDB.replicate(from, to, Object.assign({ batch_size: 100 }, opts));
}

async function pollUntil(fn, timeoutMs = 15000, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error('timed out: ' + (last && last.message ? last.message : JSON.stringify(last)));
}

function main(fn) {
  const args = JSON.parse(process.argv[2] || '{}');
  fn(args).then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + '\n');
      process.exit(0);
    },
    (err) => {
      process.stderr.write((err && err.stack) || String(err));
      process.stderr.write('\n' + JSON.stringify(err) + '\n');
      process.exit(1);
    },
  );
}

module.exports = { PouchDB, local, remote, http, makeDocs, allDocsMap, replicate, pollUntil, main };
