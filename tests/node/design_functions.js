'use strict';
// Design-document JavaScript as a CouchDB client uses it with PouchDB: `query` against a
// remote view (map + built-in reduce), and a pull filtered by a design-document filter
// function with query parameters, and by a view (filter=_view).
// args: {url, auth, view, options, filter, query_params, filter_view}
const { local, remote, replicate, main } = require('./lib');

main(async ({ url, auth, view, options, filter, query_params: queryParams, filter_view: filterView }) => {
  const server = remote(url, auth);
  const out = {};
  if (view) {
    const res = await server.query(view, options || {});
    out.rows = res.rows;
  }
  const ids = async (db) => (await db.allDocs()).rows.map((r) => r.id);
  if (filter) {
    const target = local('ddoc-filter');
    await replicate(server, target, { filter, query_params: queryParams || {} });
    out.filtered = await ids(target);
  }
  if (filterView) {
    const target = local('view-filter');
    await replicate(server, target, { filter: '_view', view: filterView });
    out.by_view = await ids(target);
  }
  return out;
});
