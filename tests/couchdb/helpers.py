"""Helpers of the CouchDB-backend tests (imported by tests/couchdb/conftest.py and the tests).

The sync tests' helpers (tests/sync/conftest.py: `SyncServer`, `PouchDBServer`, `run_node`,
`poll`) are imported from there, not copied, so both backends run the same scenarios
through the same Node scripts.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SERVICE_USER = "branchline"


from tests.sync import conftest as sync_helpers  # noqa: E402

poll = sync_helpers.poll
run_node = sync_helpers.run_node


class CouchDBServer(sync_helpers.PouchDBServer):
    """pouchdb-server with Branchline's service account as its admin."""

    user = SERVICE_USER

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.password = "svc-" + secrets.token_hex(8)

    def start(self) -> CouchDBServer:
        super().start()
        r = httpx.put(f"{self.url}/_config/admins/{self.user}", json=self.password, timeout=10)
        assert r.status_code == 200, r.text
        return self

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    def env(self) -> dict[str, str]:
        """Settings of a Branchline instance on this server."""
        return {
            "BRANCHLINE_BACKEND": "couchdb",
            "BRANCHLINE_COUCHDB_URL": self.url,
            "BRANCHLINE_COUCHDB_USER": self.user,
            "BRANCHLINE_COUCHDB_PASSWORD": self.password,
        }


class CouchSyncServer(sync_helpers.SyncServer):
    """The sync tests' app (same principals and policies) over CouchStore."""

    app_dir = HERE
    app = "app_couch:app"

    def __init__(self, data_dir: Path, couch: CouchDBServer, policy: str = "role") -> None:
        super().__init__(data_dir, policy=policy)
        self.env.update(
            {
                "BRANCHLINE_TEST_COUCHDB_URL": couch.url,
                "BRANCHLINE_TEST_COUCHDB_USER": couch.user,
                "BRANCHLINE_TEST_COUCHDB_PASSWORD": couch.password,
            }
        )
