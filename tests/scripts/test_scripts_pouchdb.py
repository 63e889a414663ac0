"""A real PouchDB (Node) replicating a tenant's `scripts` database as an engineer: it receives
the published copies and sidecars, never a draft, keeps its checkpoint, and an edit it pushes
back is refused without changing the server's copy."""

from __future__ import annotations

from tests.sync.conftest import node_modules, run_node  # noqa: F401  (node_modules is a fixture)

from .factories import small_script


def engineer_key(http, tenant) -> str:
    r = http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": "Device", "role": "engineer"})
    assert r.status_code == 201, r.text
    return r.json()["key"]


def test_an_engineers_pouchdb_gets_published_scripts_only_and_cannot_push(server, http, tenant, node_modules):  # noqa: F811
    for name, publish in (("Published one", True), ("Draft only", False)):
        r = http.post("/api/v1/scripts", headers=tenant.headers, json=small_script(name=name))
        assert r.status_code == 201, r.text
        if publish:
            assert (
                http.post(f"/api/v1/scripts/{r.json()['id']}/publish", headers=tenant.headers).status_code
                == 201
            )
    result = run_node(
        "read_only_pull.js",
        {
            "url": f"{server.url}/sync/{tenant.id}/scripts",
            "auth": {"bearer": engineer_key(http, tenant)},
            "edit_id": "scriptver:published-one:1",
        },
    )
    assert result["pull_ok"] is True
    assert result["ids"] == ["scriptmeta:draft-only", "scriptmeta:published-one", "scriptver:published-one:1"]
    assert result["second_pull_written"] == 0
    assert result["pushed"]["ok"] is False and result["pushed"]["written"] == 0
    assert result["pushed"]["status"] == 403 and "may not write" in result["pushed"]["reason"]
    assert result["server_risk"] == "low"
