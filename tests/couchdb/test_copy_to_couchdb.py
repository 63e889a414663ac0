"""Moving an embedded install to CouchDB: `branchline copy-to-couchdb`, then serve from it.

Every database, every leaf revision with its history and attachments, and the devices'
`_security` objects arrive; users sign in on the CouchDB-backed server with the same
passwords and refresh tokens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from sync.couchdb import CouchStore
from sync.embedded import EmbeddedStore
from tests.conftest import ROOT, ServerProcess, Tenant
from tests.sessions.test_sessions_api import event, publish_tree, start
from tests.trees.factories import valid_tree


def dump(store) -> dict:
    out = {}
    for name in store.list_dbs():
        db = store.db(name)
        docs = {}
        for row in db.changes(style="all_docs")["results"]:
            leaves = db.get_open_revs(row["id"], "all", revs=True, attachments=True)
            docs[row["id"]] = sorted((e["ok"] for e in leaves), key=lambda d: d["_rev"])
            for leaf in docs[row["id"]]:
                for att in (leaf.get("_attachments") or {}).values():
                    att.pop("revpos", None)
                    if "data" in att:
                        att.pop("length", None)  # CouchDB leaves it out beside inline data
        out[name] = docs
    return out


def test_copy_an_embedded_install_into_couchdb_and_serve_from_it(tmp_path, couchdb):
    secret = {"BRANCHLINE_SECRET_KEY": "k" * 48}
    embedded = ServerProcess(tmp_path / "embedded", env=secret).start()
    try:
        with httpx.Client(base_url=embedded.url, timeout=30) as http:
            tenant = Tenant(http)
            tree_id = publish_tree(http, tenant, valid_tree())
            sid = start(http, tenant, tree_id, title="moved")["session_id"]
            event(
                http,
                tenant,
                sid,
                {"type": "note", "node_id": "scope", "note_id": "n1", "text": "before the move"},
            )
            clients = f"/sync/{tenant.id}/clients"
            r = http.put(
                f"{clients}/client:acme",
                headers=tenant.headers,
                json={
                    "type": "client",
                    "schema_version": 1,
                    "name": "Acme",
                    "values": {},
                    "_attachments": {"logo.png": {"content_type": "image/png", "data": "iVBORw0KGgo="}},
                },
            )
            assert r.status_code == 201, r.text
            http.post(
                f"{clients}/_bulk_docs",
                headers=tenant.headers,
                json={
                    "new_edits": False,
                    "docs": [
                        {
                            "_id": "client:acme",
                            "_rev": "1-ffff",
                            "type": "client",
                            "schema_version": 1,
                            "name": "Acme (offline)",
                            "values": {},
                        }
                    ],
                },
            )
            r = http.put(
                f"{clients}/_security",
                headers=tenant.headers,
                json={"admins": {"names": [], "roles": []}, "members": {"names": [], "roles": ["engineer"]}},
            )
            assert r.status_code == 200, r.text
            before = http.get(f"/api/v1/sessions/{sid}", headers=tenant.headers).json()
    finally:
        embedded.stop()

    env = {
        **os.environ,
        "BRANCHLINE_DATA_DIR": str(embedded.data_dir),
        **couchdb.env(),
        "BRANCHLINE_BACKEND": "embedded",
    }
    for _ in range(2):  # running it again changes nothing
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", "copy-to-couchdb"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr

    source = EmbeddedStore(embedded.data_dir)
    target = CouchStore(couchdb.url, couchdb.user, couchdb.password)
    try:
        theirs, ours = dump(source), dump(target)
        assert ours.keys() >= theirs.keys()
        for name in theirs:
            assert json.dumps(ours[name], sort_keys=True, indent=1) == json.dumps(
                theirs[name], sort_keys=True, indent=1
            ), name
        security = target.db(f"t_{tenant.id}_clients").get_local("_local/_branchline_security")
        assert security["security"]["members"]["roles"] == ["engineer"]
    finally:
        source.close()
        target.close()

    served = ServerProcess(tmp_path / "couch-instance", env={**couchdb.env(), **secret}).start()
    try:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            r = http.post("/api/v1/auth/refresh", json={"refresh_token": tenant.tokens["refresh_token"]})
            assert r.status_code == 200, r.text
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            after = http.get(f"/api/v1/sessions/{sid}", headers=headers).json()
            assert after["notes"] == before["notes"] and after["header"]["title"] == "moved"
            login = http.post(
                "/api/v1/auth/login", json={"email": tenant.owner_email, "password": tenant.password}
            )
            assert login.status_code == 200
    finally:
        served.stop()
