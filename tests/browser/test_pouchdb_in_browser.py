"""PouchDB in a real browser page syncs with the tenant's `sessions` database, using the URL
and token from `GET /api/v1/me`, exactly as the PWA does."""

from __future__ import annotations

import json

from tests.conftest import ROOT

POUCHDB_JS = ROOT / "tests/node/node_modules/pouchdb/dist/pouchdb.js"

PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>sync probe</title></head><body></body></html>'

SYNC_SCRIPT = """
async ({url, token, docs}) => {
  const authFetch = (u, opts = {}) => {
    opts.headers = opts.headers || new Headers();
    opts.headers.set('Authorization', 'Bearer ' + token);
    return PouchDB.fetch(u, opts);
  };
  const local = new PouchDB('probe-' + Math.random().toString(36).slice(2));
  const remote = new PouchDB(url, {fetch: authFetch, skip_setup: true});
  await local.bulkDocs(docs);
  const push = await local.replicate.to(remote);
  const pull = await local.replicate.from(remote);
  const all = await local.allDocs();
  return {pushed: push.docs_written, push_ok: push.ok, pulled: pull.docs_written, pull_ok: pull.ok,
          ids: all.rows.map(r => r.id), adapter: local.adapter};
}
"""


def test_pouchdb_in_chromium_syncs_the_sessions_database(http, tenant, context, server):
    me = http.get("/api/v1/me", headers=tenant.headers).json()
    url = me["sync"]["databases"]["sessions"]
    # A document another device already wrote, to be pulled by the page.
    r = http.put(
        f"{url}/session:01SERVERSIDE000000000000000",
        headers=tenant.headers,
        json={"type": "session", "title": "written elsewhere"},
    )
    assert r.status_code == 201, r.text

    page = context.new_page()
    # Serve the probe page from the server's own origin, as the PWA is, so no CORS is involved.
    page.route(f"{server.url}/probe.html", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
    page.goto(f"{server.url}/probe.html")
    page.add_script_tag(path=str(POUCHDB_JS))
    docs = [
        {"_id": f"session:01BROWSER{i:017d}", "type": "session", "title": f"from the browser {i}"}
        for i in range(25)
    ]
    result = page.evaluate(SYNC_SCRIPT, {"url": url, "token": tenant.tokens["access_token"], "docs": docs})
    assert result["adapter"] == "idb"  # IndexedDB, as on a phone
    assert result["push_ok"] and result["pushed"] == 25
    assert result["pull_ok"] and result["pulled"] == 1
    assert "session:01SERVERSIDE000000000000000" in result["ids"]
    on_server = http.get(f"{url}/_all_docs", headers=tenant.headers).json()
    assert {d["_id"] for d in docs} <= {row["id"] for row in on_server["rows"]}
    doc = http.get(f"{url}/{docs[3]['_id']}", headers=tenant.headers).json()
    assert doc["title"] == "from the browser 3"
    assert json.dumps(doc)  # a plain JSON document
