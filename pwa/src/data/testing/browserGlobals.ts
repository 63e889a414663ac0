// What pouchdb-browser expects of a page, for unit tests running in Node: `self`, and an
// in-memory adapter standing in for IndexedDB. Import before using PouchDB.
(globalThis as { self?: unknown }).self ??= globalThis;
