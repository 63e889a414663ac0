"""The API tests' fixtures with the server on the couchdb backend (pouchdb-server behind it).

Modules here import other features' tests unchanged; `server` (tests/conftest.py's fixture,
overridden) is a real Branchline on `BRANCHLINE_BACKEND=couchdb`.
"""

from __future__ import annotations

import pytest

from tests.conftest import ServerProcess


@pytest.fixture(scope="module")
def server(couchdb, tmp_path_factory, request):
    env = {**(getattr(request.module, "SERVER_ENV", None) or {}), **couchdb.env()}
    srv = ServerProcess(tmp_path_factory.mktemp("couch-server"), env=env).start()
    yield srv
    srv.stop()
