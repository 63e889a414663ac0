function (newDoc, oldDoc, userCtx, secObj) {
  // Defence in depth behind Branchline's own checks (the API's validation and the sync
  // endpoints' access policy): refuse tree drafts, session documents and client contexts
  // that are malformed, whoever writes them, so a bug or a hand-made write cannot store what
  // the fold and the exports could not read. A draft may still be *incomplete* (an editor
  // saves work in progress); only its shape is checked here.
  // The session and client rules mirror api/sessions/events.py (one typed model per event
  // type, the header, the client context); tests/sessions/test_document_schema.py runs both
  // over the same documents and expects the same verdicts. Tree node types follow
  // api/trees/models.py.
  var NODE_TYPES = ['question', 'choice', 'action', 'input', 'resolution'];
  // Per event type, its own fields: [kind, required]. Kinds: see `fits` below.
  var EVENT_FIELDS = {
    answered: { node_id: ['id', true], answer: ['id', true], value: ['text', false] },
    note: { node_id: ['id', true], note_id: ['id', false], text: ['text', true] },
    back: {},
    custom_step: { node_id: ['id', true], text: ['nonempty', true], answer: [['done', 'failed', 'skipped'], true],
      note: ['text', false] },
    input_value: { node_id: ['id', true], value: ['text', true] },
    attachment_added: { node_id: ['id', true], attachment_id: ['id', true], name: ['text', true],
      content_type: ['text', true], size: ['count', true], sha256: ['sha256', true], caption: ['text', false] },
    completed: { outcome: [['resolved', 'escalated', 'unresolved'], false], summary: ['text', false] },
    reopened: {},
    abandoned: { reason: ['text', false] },
    exported: { format: [['markdown', 'text', 'html', 'pdf', 'json', 'connectwise'], true],
      how: [['copy', 'download', 'print'], false] },
    script_run: { node_id: ['id', true], run_id: ['id', true], script_id: ['id', true], script_name: ['text', false],
      parameters: ['object', false], target: ['object', true],
      status: [['succeeded', 'failed', 'timed_out', 'in_doubt'], true], exit_code: ['int', false],
      output: ['text', false], attachment_id: ['id', false] }
  };
  var EVENT_COMMON = { schema_version: [[1], false], session_id: ['sid', false], ts: ['ms', true],
    device_id: ['device', false], user_id: ['id', true] };
  var HEADER_FIELDS = { schema_version: [[1], false], tree_id: ['id', false], tree_version: ['version', false],
    ticket: ['text', false], client_id: ['id', false], title: ['text', false], owner_id: ['id', false],
    shared_with: ['ids', false], status: [['in_progress', 'completed', 'abandoned'], false],
    created_at: ['ms', false], updated_at: ['ms', false], device_id: ['device', false],
    edited: ['times', false], edited_values: ['records', false], history: ['records_list', false] };
  var CLIENT_FIELDS = { schema_version: [[1], false], name: ['name', true], values: ['object', false],
    notes: ['text', false], created_at: ['text', false], updated_at: ['text', false] };
  var MAX_TEXT = 20000;
  var MAX_MS = 9007199254740991;
  var EVENT_TYPES = Object.keys(EVENT_FIELDS);
  var id = newDoc._id || '';

  function refuse(message) {
    throw ({ forbidden: id + ': ' + message });
  }
  function isObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }
  function isString(v) {
    return typeof v === 'string';
  }
  function isVersion(v) {
    return typeof v === 'number' && v >= 1 && Math.floor(v) === v;
  }
  function has(list, v) {
    for (var i = 0; i < list.length; i++) { if (list[i] === v) { return true; } }
    return false;
  }

  function isMs(v) {
    return typeof v === 'number' && Math.floor(v) === v && v >= 0 && v <= MAX_MS;
  }
  function isId(v) {
    return isString(v) && v.length >= 1 && v.length <= 200;
  }
  // Does `v` fit `kind`? A list is the values allowed.
  function fits(kind, v) {
    if (Array.isArray(kind)) { return has(kind, v); }
    switch (kind) {
      case 'id': return isId(v);
      case 'text': return isString(v) && v.length <= MAX_TEXT;
      case 'nonempty': return isString(v) && /\S/.test(v) && v.length <= MAX_TEXT;
      case 'name': return isString(v) && /\S/.test(v) && v.length <= 200;
      case 'int': return typeof v === 'number' && Math.floor(v) === v;
      case 'count': return typeof v === 'number' && Math.floor(v) === v && v >= 0;
      case 'version': return isVersion(v);
      case 'sha256': return isString(v) && /^[0-9a-f]{64}$/.test(v);
      case 'sid': return isString(v) && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(v);
      case 'ms': return isMs(v);
      case 'device': return isString(v) && v.length >= 1 && v.length <= 100;
      case 'ids': return Array.isArray(v) && v.every(isId);
      case 'object': return isObject(v);
      case 'times': return isObject(v) && Object.keys(v).every(function (k) { return isMs(v[k]); });
      case 'records': return isObject(v) && Object.keys(v).every(function (k) { return isObject(v[k]); });
      case 'records_list': return Array.isArray(v) && v.every(isObject);
    }
    return false;
  }
  function describe(kind) {
    if (Array.isArray(kind)) { return 'one of ' + kind.join(', '); }
    if (kind === 'ms') { return 'a time in UTC milliseconds (a whole number, like Date.now())'; }
    return 'a valid ' + kind;
  }
  // Fields of `doc` (CouchDB's own `_` fields aside) against the tables; with `closed`, a
  // field no table names is refused. Optional fields may be null, required ones may not.
  function checkFields(what, doc, tables, closed) {
    var known = {};
    tables.forEach(function (table) {
      for (var name in table) {
        if (!table.hasOwnProperty(name)) { continue; }
        known[name] = true;
        var kind = table[name][0];
        var value = doc[name];
        if (value === undefined || value === null) {
          if (table[name][1]) { refuse('A ' + what + ' needs `' + name + '`.'); }
          continue;
        }
        if (!fits(kind, value)) { refuse('`' + name + '` of a ' + what + ' must be ' + describe(kind) + '.'); }
      }
    });
    if (closed) {
      var extra = Object.keys(doc).filter(function (k) {
        return k !== 'type' && k.charAt(0) !== '_' && !known[k];
      });
      if (extra.length) { refuse('A ' + what + ' has no field(s) ' + extra.join(', ') + '; leave them out.'); }
    }
  }

  var event = /^session:([0-9A-HJKMNP-TV-Z]{26}):ev:[0-9A-Za-z_-]{1,64}$/.exec(id);
  var isTree = /^tree:/.test(id);

  if (newDoc._deleted) {
    if (event && oldDoc && !oldDoc._deleted) {
      refuse('session events are written once and never deleted.');
    }
    return;
  }

  if (isTree) {
    if (newDoc.type !== 'tree') { refuse('a tree document needs type "tree".'); }
    if (!isVersion(newDoc.schema_version)) { refuse('schema_version must be a positive integer.'); }
    if (newDoc.nodes !== undefined && !isObject(newDoc.nodes)) {
      refuse('nodes must be an object keyed by node id.');
    }
    var nodes = newDoc.nodes || {};
    for (var key in nodes) {
      if (!Object.prototype.hasOwnProperty.call(nodes, key)) { continue; }
      var node = nodes[key];
      if (!isObject(node)) { refuse('node ' + key + ' must be an object.'); }
      if (!has(NODE_TYPES, node.type)) {
        refuse('node ' + key + ' has unknown type ' + JSON.stringify(node.type) +
          '; use one of ' + NODE_TYPES.join(', ') + '.');
      }
    }
    if (newDoc.start !== undefined && newDoc.start !== null && !isString(newDoc.start)) {
      refuse('start must be a node id.');
    }
    if (newDoc.tags !== undefined && !Array.isArray(newDoc.tags)) { refuse('tags must be a list.'); }
    return;
  }

  if (event) {
    if (oldDoc && !oldDoc._deleted) {
      refuse('session events are written once and never edited.');
    }
    if (!EVENT_FIELDS.hasOwnProperty(newDoc.type)) {
      refuse('Unknown event type ' + JSON.stringify(newDoc.type) + ' (`type`); use one of ' +
        EVENT_TYPES.join(', ') + '.');
    }
    if (newDoc.session_id !== undefined && newDoc.session_id !== event[1]) {
      refuse('`session_id` ' + JSON.stringify(newDoc.session_id) + ' does not match the id.');
    }
    var own = EVENT_FIELDS[newDoc.type];
    checkFields(newDoc.type + ' event', newDoc, [EVENT_COMMON, own], true);
    return;
  }

  if (/^session:[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) {
    if (newDoc.type !== 'session') { refuse('`type` of a session header must be one of session.'); }
    checkFields('session header', newDoc, [HEADER_FIELDS], false);
    return;
  }

  if (/^client:/.test(id)) {
    if (newDoc.type !== 'client') { refuse('`type` of a client context must be one of client.'); }
    checkFields('client context', newDoc, [CLIENT_FIELDS], true);
  }
}
