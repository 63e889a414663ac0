function (doc) {
  // Documents whose revision tree still has more than one live leaf. CouchDB hands map
  // functions the winning revision with `_conflicts`; the reduce (`_count`) gives the total
  // an admin sees in /healthz.
  if (doc._conflicts && doc._conflicts.length) {
    emit(doc._id, doc._conflicts.length);
  }
}
