"""ConnectWise configuration: secrets write-only and encrypted at rest, roles, tenant isolation."""

from __future__ import annotations

from tests.integrations.helpers import configure, connectwise, push
from tests.integrations.test_connectwise_push import SERVER_ENV, completed_session
from tests.sessions.test_sessions_api import publish_tree

__all__ = ["SERVER_ENV"]  # the fake listens on loopback


def test_the_private_key_is_never_answered_and_is_kept_when_left_out(http, tenant, cw):
    saved = configure(http, tenant, cw.config())
    assert saved["private_key_set"] is True and "private_key" not in saved
    assert cw.private_key not in http.get("/api/v1/integrations", headers=tenant.headers).text

    body = cw.config(board="Projects")
    del body["private_key"]
    again = configure(http, tenant, body)

    assert again["board"] == "Projects" and again["private_key_set"] is True
    status = connectwise(http, tenant)
    assert status["configured"] is True and status["config"]["board"] == "Projects"


def test_the_first_configuration_needs_the_private_key(http, tenant, cw):
    body = cw.config()
    del body["private_key"]
    r = http.put("/api/v1/integrations/connectwise", headers=tenant.headers, json=body)
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request" and "private_key is required" in r.json()["reason"]


def test_the_private_key_is_stored_encrypted_not_in_plain_text(http, server, tenant, cw):
    secret = "privKEY-" + tenant.id + "-plain"
    configure(http, tenant, cw.config(private_key=secret))

    stored = b"".join(p.read_bytes() for p in server.data_dir.rglob("*") if p.is_file())
    assert secret.encode() not in stored
    audit = http.get("/api/v1/audit", params={"action": "integration.configured"}, headers=tenant.headers)
    [entry] = audit.json()["items"]
    assert secret not in audit.text and "private_key" in entry["details"]["changed"]


def test_only_owners_and_admins_configure_while_engineers_push_their_own_sessions(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    engineer, other, admin = (
        tenant.add_user("engineer"),
        tenant.add_user("engineer"),
        tenant.add_user("admin"),
    )
    for member in (engineer, tenant.add_user("author")):
        r = http.put("/api/v1/integrations/connectwise", headers=member.headers, json=cw.config())
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert http.get("/api/v1/integrations", headers=member.headers).status_code == 403
    configure(http, admin, cw.config())

    mine = completed_session(http, engineer, tree_id)
    assert push(http, engineer, mine, create_ticket=True)["session_id"] == mine
    theirs = completed_session(http, other, tree_id)
    r = http.post(f"/api/v1/sessions/{theirs}/psa", headers=engineer.headers, json={"system": "connectwise"})
    assert r.status_code in (403, 404) and r.json()["error"] in ("forbidden", "not_found")


def test_tenants_see_and_push_only_their_own(http, make_tenant, cw):
    a, b = make_tenant(), make_tenant()
    tree_id = publish_tree(http, a)
    configure(http, a, cw.config())
    sid = completed_session(http, a, tree_id)

    assert connectwise(http, b)["configured"] is False and connectwise(http, b)["config"] is None
    r = http.post(f"/api/v1/sessions/{sid}/psa", headers=b.headers, json={"system": "connectwise"})
    assert r.status_code == 404
    own = completed_session(http, b, publish_tree(http, b))
    r = http.post(f"/api/v1/sessions/{own}/psa", headers=b.headers, json={"system": "connectwise"})
    assert r.status_code == 409 and "not configured" in r.json()["reason"]


def test_the_integrations_database_is_closed_to_sync(http, tenant, cw):
    configure(http, tenant, cw.config())
    r = http.get(f"/sync/{tenant.id}/integrations/_all_docs", headers=tenant.headers)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_test_connection_calls_connectwise_with_the_keys_and_a_refusal_is_the_last_error(http, tenant, cw):
    configure(http, tenant, cw.config())
    ok = http.post("/api/v1/integrations/connectwise/test", headers=tenant.headers)
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["version"] == "v2026.1.12345"
    assert len(cw.calls("GET", "system/info")) == 1

    configure(http, tenant, cw.config(private_key="wrong"))
    refused = http.post("/api/v1/integrations/connectwise/test", headers=tenant.headers)
    assert refused.status_code == 502 and refused.json()["error"] == "bad_gateway"
    assert "ConnectWise refused the keys" in refused.json()["reason"]
    assert connectwise(http, tenant)["last_error"]["reason"].startswith("ConnectWise refused the keys")
