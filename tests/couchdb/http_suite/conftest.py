"""The sync tests' fixtures with the server swapped: the same app over the CouchDB backend.

The modules of this folder import the sync tests' HTTP test functions unchanged; their
fixtures (`client`, `as_user`, `db`, `node`, `poll`) come from tests/sync/conftest.py, and
only `sync_server` differs: tests/couchdb/app_couch.py on pouchdb-server.
"""

from __future__ import annotations

import pytest

from tests.couchdb.helpers import CouchSyncServer
from tests.sync.conftest import as_user, client, db, node, poll_fixture  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def sync_server(request, couchdb, tmp_path_factory):
    policy = getattr(request.module, "SYNC_POLICY", "role")
    srv = CouchSyncServer(tmp_path_factory.mktemp("couch-sync-server"), couchdb, policy=policy).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def pouchdb_server(reference):
    return reference
