function (newDoc, oldDoc, userCtx, secObj) {
  // Defence in depth behind Branchline's own checks (the API's validation and the sync
  // endpoints' access policy): refuse tree drafts and session events that are malformed,
  // whoever writes them, so a bug or a hand-made write cannot store what the fold and the
  // exports could not read. Deliberately narrow: a draft may still be *incomplete* (an
  // editor saves work in progress); only its shape is checked here.
  // Keep in step with api/trees/models.py and api/sessions/service.py (EVENT_TYPES).
  var NODE_TYPES = ['question', 'choice', 'action', 'input', 'resolution'];
  var EVENT_TYPES = ['answered', 'note', 'back', 'custom_step', 'input_value',
    'attachment_added', 'completed', 'reopened', 'abandoned'];
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
    if (!has(EVENT_TYPES, newDoc.type)) {
      refuse('unknown event type ' + JSON.stringify(newDoc.type) + '; use one of ' +
        EVENT_TYPES.join(', ') + '.');
    }
    if (newDoc.session_id !== undefined && newDoc.session_id !== event[1]) {
      refuse('session_id ' + JSON.stringify(newDoc.session_id) + ' does not match the id.');
    }
    if (typeof newDoc.ts !== 'number' || newDoc.ts < 0 || Math.floor(newDoc.ts) !== newDoc.ts) {
      refuse('ts must be UTC milliseconds (a non-negative integer).');
    }
    if (!isString(newDoc.user_id) || !newDoc.user_id) { refuse('user_id must be a user id.'); }
    if (newDoc.device_id !== undefined && !isString(newDoc.device_id)) {
      refuse('device_id must be a string.');
    }
    if (newDoc.node_id !== undefined && newDoc.node_id !== null && !isString(newDoc.node_id)) {
      refuse('node_id must be a string.');
    }
  }
}
