// Unit tests of design_docs/couchdb/branchline-validate/validate_doc_update.js, run the way
// CouchDB runs it: the file's source evaluated as one function, called with
// (newDoc, oldDoc, userCtx, secObj); a refusal is a thrown {forbidden: "..."}.
// Run: node --test tests/couchdb/node/  (tests/couchdb/test_design_docs_node.py does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = readFileSync(
  path.join(here, '..', '..', '..', 'design_docs', 'couchdb', 'branchline-validate', 'validate_doc_update.js'),
  'utf8');
// eslint-disable-next-line no-eval
const validate = (0, eval)(`(${source})`);
const user = { name: 'branchline', roles: ['_admin'], db: 't_abc123_sessions' };
const SID = '01JD3Z8Q6V9R1W0K2M4N5P7S8T';
const EV = `session:${SID}:ev:01JD3Z8Q6V9R1W0K2M4N5P7S9A`;

function refused(newDoc, oldDoc = null) {
  try {
    validate(newDoc, oldDoc, user, {});
  } catch (e) {
    assert.ok(e && typeof e.forbidden === 'string', `threw something else: ${JSON.stringify(e)}`);
    return e.forbidden;
  }
  return null;
}

const event = (extra = {}) => ({
  _id: EV, type: 'note', schema_version: 1, session_id: SID, ts: 1795651200000,
  device_id: 'dev-1', user_id: 'u1', node_id: 'scope', note_id: 'n1', text: 'checked', ...extra,
});
const tree = (extra = {}) => ({
  _id: 'tree:citrix', type: 'tree', schema_version: 1, title: 'Citrix', start: 'scope',
  nodes: { scope: { type: 'question', title: 'One VDA?', next: { yes: 'done', no: 'done' } },
    done: { type: 'resolution', outcome: 'resolved', title: 'Done', summary: 'ok' } },
  ...extra,
});

// One well-formed event of each type, with the fields the PWA writes.
const FIELDS = {
  answered: { node_id: 'scope', answer: 'yes' },
  note: { node_id: 'scope', note_id: 'n1', text: 'checked' },
  back: {},
  custom_step: { node_id: 'scope', text: 'Cleared the cache', answer: 'done', note: 'stale' },
  input_value: { node_id: 'vda', value: 'CTX-W11-0' },
  attachment_added: { node_id: 'scope', attachment_id: 'a1', name: 'shot.png', content_type: 'image/png',
    size: 10, sha256: '0'.repeat(64) },
  completed: { outcome: 'resolved', summary: '' },
  reopened: {},
  abandoned: { reason: 'customer left' },
};
const typed = (type) => {
  const { node_id: _n, note_id: _i, text: _t, ...common } = event();
  return { ...common, type, ...FIELDS[type] };
};

test('well-formed events and trees pass', () => {
  assert.equal(refused(event()), null);
  for (const type of Object.keys(FIELDS)) {
    assert.equal(refused(typed(type)), null, type);
  }
  assert.equal(refused(tree()), null);
  assert.equal(refused(tree({ nodes: {}, start: null })), null, 'an empty draft is work in progress');
});

test('other documents are not this validator\'s business', () => {
  assert.equal(refused({ _id: 'treemeta:citrix', anything: [1, 2] }), null);
  assert.equal(refused({ _id: '_local/x', whatever: true }), null);
});

test('session headers and client contexts are typed', () => {
  assert.equal(refused({ _id: `session:${SID}`, type: 'session' }), null);
  assert.match(refused({ _id: `session:${SID}`, type: 'session', status: 'paused' }), /`status`/);
  assert.match(refused({ _id: `session:${SID}`, type: 'session', tree_version: '3' }), /`tree_version`/);
  assert.equal(refused({ _id: 'client:contoso', type: 'client', name: 'Contoso' }), null);
  assert.match(refused({ _id: 'client:contoso', anything: [1, 2] }), /`type`/);
  assert.match(refused({ _id: 'client:contoso', type: 'client', name: 'C', anything: 1 }), /anything/);
});

test('malformed session events are refused', () => {
  assert.match(refused(event({ type: 'teleported' })), /Unknown event type "teleported"/);
  assert.match(refused(event({ type: undefined })), /Unknown event type/);
  assert.match(refused(event({ session_id: '01JD3Z8Q6V9R1W0K2M4N5P7S8X' })), /does not match/);
  assert.match(refused(event({ ts: '2026-11-26' })), /`ts` of a note event must be a time in UTC milliseconds/);
  assert.match(refused(event({ ts: 1.5 })), /`ts`/);
  assert.match(refused(event({ user_id: undefined })), /user_id/);
  assert.match(refused(event({ user_id: '' })), /user_id/);
  assert.match(refused(event({ device_id: 7 })), /device_id/);
  assert.match(refused(event({ node_id: ['x'] })), /node_id/);
  assert.equal(refused(typed('back')), null);
  assert.match(refused({ ...typed('back'), node_id: 'scope' }), /no field\(s\) node_id/);
  assert.match(refused({ ...typed('custom_step'), answer: 'maybe' }), /`answer`.*done, failed, skipped/);
});

test('events are immutable: no edit, no deletion', () => {
  assert.match(refused(event({ text: 'changed' }), event()), /never edited/);
  assert.match(refused({ _id: EV, _deleted: true }, event()), /never deleted/);
  assert.equal(refused(event(), { _id: EV, _deleted: true }), null, 'writing over a tombstone');
});

test('malformed trees are refused', () => {
  assert.match(refused(tree({ type: 'draft' })), /type "tree"/);
  assert.match(refused(tree({ schema_version: '1' })), /schema_version/);
  assert.match(refused(tree({ schema_version: true })), /schema_version/);
  assert.match(refused(tree({ schema_version: 0 })), /schema_version/);
  assert.match(refused(tree({ nodes: [] })), /nodes must be an object/);
  assert.match(refused(tree({ nodes: { a: 'question' } })), /node a must be an object/);
  assert.match(refused(tree({ nodes: { a: { type: 'teleport' } } })), /unknown type "teleport"/);
  assert.match(refused(tree({ start: 3 })), /start/);
  assert.match(refused(tree({ tags: 'citrix' })), /tags/);
});

test('deleting a tree draft is allowed', () => {
  assert.equal(refused({ _id: 'tree:citrix', _deleted: true }, tree()), null);
});

test('the refusal names the document', () => {
  assert.ok(refused(event({ type: 'x' })).startsWith(EV + ': '));
});
