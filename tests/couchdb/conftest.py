"""Fixtures of the CouchDB-backend tests: pouchdb-server as the CouchDB-compatible server.

`couchdb` is one `pouchdb-server --in-memory` per test module, run from a scratch folder,
with a server admin (`branchline`) configured right after start: Branchline's service
account. Every request Branchline makes carries those credentials (pouchdb-server crashes
on an anonymous `PUT /newdb` once an admin exists; Branchline never sends one).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess

import pytest

from tests.couchdb.helpers import ROOT, CouchDBServer, run_node, sync_helpers


@pytest.fixture(scope="session")
def node_modules():
    """tests/node/node_modules (installed by `npm ci` there when missing, as the sync tests do)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for the CouchDB-backend tests")
    node_dir = ROOT / "tests" / "node"
    if not sync_helpers._node_ready():
        proc = subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=node_dir,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0 or not sync_helpers._node_ready():
            pytest.fail(f"`npm ci` in tests/node failed:\n{proc.stderr[-3000:]}")
    return node_dir / "node_modules"


@pytest.fixture(scope="module")
def couchdb(node_modules, tmp_path_factory):
    srv = CouchDBServer(tmp_path_factory.mktemp("couchdb")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def reference(node_modules, tmp_path_factory):
    """A second, plain pouchdb-server: the reference the conflicts scenario compares with."""
    srv = sync_helpers.PouchDBServer(tmp_path_factory.mktemp("reference")).start()
    yield srv
    srv.stop()


@pytest.fixture
def node(node_modules):
    return run_node


@pytest.fixture
def couch_store(couchdb):
    from sync.couchdb import CouchStore

    store = CouchStore(couchdb.url, couchdb.user, couchdb.password)
    yield store
    store.close()


@pytest.fixture
def fresh_name():
    return lambda prefix="db": f"{prefix}-{secrets.token_hex(6)}"
