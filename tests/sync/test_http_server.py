"""Server-level endpoints of the tenant root: welcome, _all_dbs, _uuids, _session, auth."""

from __future__ import annotations

import httpx
from app_for_tests import ADMIN, ADMIN_B, TENANT, TENANT_B, VIEWER


def test_welcome_has_a_stable_uuid_per_tenant(client, as_user):
    first = client.get("").json()
    assert first["couchdb"] == "Welcome"
    assert first["version"] == "3.3.3"
    assert first["vendor"] == {"name": "Branchline"}
    assert client.get("").json()["uuid"] == first["uuid"]
    other = as_user(ADMIN_B, tenant=TENANT_B).get("").json()
    assert other["uuid"] != first["uuid"]


def test_root_without_trailing_slash_answers_too(sync_server):
    r = httpx.get(sync_server.tenant_url(), auth=ADMIN)
    assert r.status_code == 200 and r.json()["couchdb"] == "Welcome"


def test_all_dbs_lists_only_this_tenants_databases_by_logical_name(client, as_user, db):
    other = as_user(ADMIN_B, tenant=TENANT_B)
    assert other.put("onlyinb").status_code in (201, 412)
    names = client.get("_all_dbs").json()
    assert db in names
    assert "onlyinb" not in names
    assert all(not n.startswith("t_") for n in names)
    assert "onlyinb" in other.get("_all_dbs").json()
    assert db not in other.get("_all_dbs").json()


def test_uuids_count_and_limit(client):
    uuids = client.get("_uuids", params={"count": 5}).json()["uuids"]
    assert len(uuids) == 5 and len(set(uuids)) == 5
    assert len(client.get("_uuids").json()["uuids"]) == 1
    r = client.get("_uuids", params={"count": 1001})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


def test_session_answers_the_authenticated_user(client, as_user):
    body = client.get("_session").json()
    assert body["ok"] is True
    assert body["userCtx"] == {"name": "admin-a@example.com", "roles": ["admin"]}
    viewer = as_user(bearer="token-viewer-a").get("_session").json()
    assert viewer["userCtx"]["roles"] == ["viewer"]
    assert viewer["info"]["authenticated"] == "jwt"


def test_basic_auth_failure_asks_for_credentials(sync_server):
    r = httpx.get(sync_server.tenant_url() + "/", auth=("admin-a", "wrong"))
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert r.headers["www-authenticate"] == 'Basic realm="Branchline"'


def test_bearer_or_missing_credentials_get_401_without_a_browser_login_prompt(sync_server):
    """PouchDB in the PWA must handle 401 itself; a Basic challenge would pop a dialog."""
    for headers in ({"Authorization": "Bearer not-a-token"}, {}):
        r = httpx.get(sync_server.tenant_url() + "/trees", headers=headers)
        assert r.status_code == 401
        assert "www-authenticate" not in r.headers
        assert r.json()["error"] == "unauthorized"


def test_tenant_isolation_other_tenants_credentials_are_refused(sync_server, client, db):
    client.put(f"{db}/secret", json={"v": 1})
    r = httpx.get(f"{sync_server.tenant_url(TENANT)}/{db}/secret", auth=ADMIN_B)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = httpx.get(f"{sync_server.tenant_url(TENANT)}/_all_dbs", auth=ADMIN_B)
    assert r.status_code == 403
    # The same logical name in the other tenant is a different database.
    r = httpx.get(f"{sync_server.tenant_url(TENANT_B)}/{db}/secret", auth=ADMIN_B)
    assert r.status_code == 404
    other = f"{sync_server.tenant_url(TENANT_B)}/{db}"
    assert httpx.put(other, auth=ADMIN_B).status_code == 201
    try:
        assert httpx.get(f"{other}/_changes", auth=ADMIN_B).json()["results"] == []
        assert httpx.get(f"{other}/_all_docs", auth=ADMIN_B).json()["rows"] == []
        assert httpx.get(f"{other}/secret", auth=ADMIN_B).status_code == 404
    finally:
        httpx.delete(other, auth=ADMIN_B)


def test_unsupported_method_is_405_with_allow(client, db):
    r = client.post("_uuids")
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"
    assert "GET" in r.headers["allow"]
    r = client.request("PATCH", f"{db}/doc")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_viewer_reads_welcome(as_user):
    assert as_user(VIEWER).get("").status_code == 200
    assert TENANT in as_user(VIEWER).base_url.path
