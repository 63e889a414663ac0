'use strict';
// Attachments both ways: client -> server -> HTTP GET, and HTTP PUT -> server -> client.
// args: {url, auth}
const crypto = require('crypto');
const { local, remote, http, replicate, main } = require('./lib');

main(async ({ url, auth }) => {
  const a = local('att-a');
  const b = local('att-b');
  const server = remote(url, auth);
  const png = crypto.randomBytes(200 * 1024);
  const out = {};

  await a.put({
    _id: 'step-1', note: 'screenshot of the event log',
    _attachments: { 'screen.png': { content_type: 'image/png', data: png } },
  });
  await replicate(a, server);
  const res = await fetch(`${url}/step-1/screen.png`, {
    headers: { Authorization: 'Basic ' + Buffer.from(auth.basic.join(':')).toString('base64') },
  });
  const got = Buffer.from(await res.arrayBuffer());
  out.server_bytes_equal = got.equals(png);
  out.server_content_type = res.headers.get('content-type');

  // Added on the server with a raw PUT, pulled to a fresh client.
  const doc = (await http(`${url}/step-1`, auth)).body;
  const log = Buffer.from('VDA registration log\n'.repeat(100));
  const put = await http(`${url}/step-1/log.txt?rev=${doc._rev}`, auth, {
    method: 'PUT', body: log, headers: { 'Content-Type': 'text/plain' },
  });
  out.put_status = put.status;
  await replicate(server, b);
  const pulledPng = await b.getAttachment('step-1', 'screen.png');
  const pulledLog = await b.getAttachment('step-1', 'log.txt');
  out.client_png_equal = Buffer.from(pulledPng).equals(png);
  out.client_log_equal = Buffer.from(pulledLog).equals(log);
  const meta = await b.get('step-1');
  out.client_types = Object.fromEntries(
    Object.entries(meta._attachments).map(([k, v]) => [k, v.content_type]));

  // Removed on the client, pushed: gone on the server.
  await b.removeAttachment('step-1', 'screen.png', meta._rev);
  await replicate(b, server);
  out.server_after_remove = (await http(`${url}/step-1/screen.png`, auth)).status;
  out.server_still_has_log = (await http(`${url}/step-1/log.txt`, auth)).status;
  return out;
});
