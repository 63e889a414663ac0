"""`/healthz` details for admins: documents with conflicts, on both backends."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ServerProcess, Tenant


@pytest.fixture(scope="module", params=["embedded", "couchdb"])
def server(request, couchdb, tmp_path_factory):
    env = couchdb.env() if request.param == "couchdb" else {}
    srv = ServerProcess(tmp_path_factory.mktemp(f"health-{request.param}"), env=env).start()
    yield srv
    srv.stop()


def test_admins_see_conflict_counts_others_do_not(server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        tenant = Tenant(http)
        clients = f"/sync/{tenant.id}/clients"
        http.put(
            f"{clients}/client:a",
            headers=tenant.headers,
            json={"type": "client", "schema_version": 1, "name": "A", "values": {}},
        )
        r = http.post(
            f"{clients}/_bulk_docs",
            headers=tenant.headers,
            json={
                "new_edits": False,
                "docs": [
                    {
                        "_id": "client:a",
                        "_rev": "1-ffff",
                        "type": "client",
                        "schema_version": 1,
                        "name": "A offline",
                        "values": {},
                    }
                ],
            },
        )
        assert r.status_code == 201, r.text
        public = http.get("/healthz").json()
        assert public["status"] == "ok" and "details" not in public
        details = http.get("/healthz", headers=tenant.headers).json()["details"]
        assert details["tenant_id"] == tenant.id
        assert details["conflicts"] == {"trees": 0, "sessions": 0, "clients": 1}
        engineer = tenant.add_user("engineer")
        assert "details" not in http.get("/healthz", headers=engineer.headers).json()
        assert "details" not in http.get("/healthz", headers={"Authorization": "Bearer nope"}).json()
