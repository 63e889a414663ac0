"""Autotask configuration: the secret write-only and encrypted at rest, one error shape for a
bad field, roles, tenant isolation, and "test connection" (zone discovery and a cheap call)."""

from __future__ import annotations

from tests.integrations.helpers import configure, integration
from tests.integrations.test_autotask_push import SERVER_ENV, autotask, setup
from tests.integrations.test_connectwise_push import completed_session
from tests.sessions.test_sessions_api import publish_tree

__all__ = ["SERVER_ENV"]  # the fake listens on loopback


def test_the_secret_is_never_answered_and_is_kept_when_left_out(http, tenant, at):
    saved = configure(http, tenant, at.config(), system="autotask")
    assert saved["secret_set"] is True and "secret" not in saved
    assert at.secret not in http.get("/api/v1/integrations", headers=tenant.headers).text

    body = at.config(queue_id=29682833, note_publish="all")
    del body["secret"]
    again = configure(http, tenant, body, system="autotask")

    assert again["queue_id"] == 29682833 and again["note_publish"] == "all" and again["secret_set"] is True
    status = autotask(http, tenant)
    assert status["configured"] is True and status["config"]["api_user"] == at.api_user
    # Both connectors can be set up side by side; ConnectWise stays unconfigured here.
    assert integration(http, tenant, "connectwise")["configured"] is False


def test_the_first_configuration_needs_the_secret(http, tenant, at):
    body = at.config()
    del body["secret"]
    r = http.put("/api/v1/integrations/autotask", headers=tenant.headers, json=body)
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "reason": r.json()["reason"]}
    assert "secret is required the first time" in r.json()["reason"]


def test_a_bad_field_answers_400_in_the_one_error_shape_and_says_how_to_fix_it(http, tenant, at):
    not_a_number = http.put(
        "/api/v1/integrations/autotask", headers=tenant.headers, json=at.config(queue_id="Tier 1")
    )
    zero = http.put("/api/v1/integrations/autotask", headers=tenant.headers, json=at.config(company=0))
    missing = http.put(
        "/api/v1/integrations/autotask", headers=tenant.headers, json={**at.config(), "integration_code": " "}
    )
    unknown = http.put(
        "/api/v1/integrations/autotask", headers=tenant.headers, json=at.config(zone="webservices5")
    )

    for r in (not_a_number, zero, missing, unknown):
        assert r.status_code == 400 and r.json()["error"] == "bad_request", r.text
    assert not_a_number.json()["reason"].startswith("queue_id:")
    assert (
        zero.json()["reason"]
        == "company must be a whole number from 1 to 2147483647, the id Autotask shows for it."
    )
    assert "integration_code is required: the API user's API tracking identifier" in missing.json()["reason"]
    assert unknown.json()["reason"].startswith("zone:")
    assert autotask(http, tenant)["configured"] is False


def test_the_secret_is_stored_encrypted_not_in_plain_text(http, server, tenant, at):
    secret = "atSECRET-" + tenant.id + "-plain"
    setup(http, tenant, at, secret=secret)

    stored = b"".join(p.read_bytes() for p in server.data_dir.rglob("*") if p.is_file())
    assert secret.encode() not in stored
    audit = http.get("/api/v1/audit", params={"action": "integration.configured"}, headers=tenant.headers)
    [entry] = audit.json()["items"]
    assert entry["target"]["id"] == "autotask" and "secret" in entry["details"]["changed"]
    assert secret not in audit.text


def test_test_connection_discovers_the_zone_and_calls_autotask_with_the_api_user(http, tenant, at):
    setup(http, tenant, at)

    r = http.post("/api/v1/integrations/autotask/test", headers=tenant.headers)

    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["zone"]["url"] == at.zone_url()
    assert r.json()["hourly_threshold"] == 10000
    assert [d.query for d in at.discoveries()] == [{"user": at.api_user}]
    [call] = at.calls("GET", "ThresholdInformation")
    assert call.status == 200 and call.headers["username"] == at.api_user
    status = autotask(http, tenant)
    assert status["last_check"]["ok"] is True and status["zone"]["url"] == at.zone_url()


def test_a_failed_connection_test_answers_502_and_shows_as_the_last_error(http, tenant, at):
    setup(http, tenant, at, secret="not-the-secret")

    r = http.post("/api/v1/integrations/autotask/test", headers=tenant.headers)

    assert r.status_code == 502 and r.json()["error"] == "bad_gateway"
    assert r.json()["reason"].startswith("The connection test failed: Autotask refused the API user")
    status = autotask(http, tenant)
    assert status["last_check"]["ok"] is False
    assert status["last_error"]["reason"].startswith("Autotask refused the API user")

    setup(http, tenant, at, api_user="someone-else@contoso.example", secret=at.secret)
    r = http.post("/api/v1/integrations/autotask/test", headers=tenant.headers)
    assert r.status_code == 502
    assert "Autotask knows no zone for the API user 'someone-else@contoso.example'" in r.json()["reason"]


def test_only_owners_and_admins_configure_and_test(http, tenant, at):
    for member in (tenant.add_user("engineer"), tenant.add_user("author")):
        r = http.put("/api/v1/integrations/autotask", headers=member.headers, json=at.config())
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        r = http.post("/api/v1/integrations/autotask/test", headers=member.headers)
        assert r.status_code == 403
    configure(http, tenant.add_user("admin"), at.config(), system="autotask")
    assert autotask(http, tenant)["configured"] is True


def test_tenants_see_and_push_only_their_own(http, make_tenant, at):
    a, b = make_tenant(), make_tenant()
    setup(http, a, at)
    sid = completed_session(http, a, publish_tree(http, a))

    assert autotask(http, b)["configured"] is False and autotask(http, b)["config"] is None
    r = http.post(f"/api/v1/sessions/{sid}/psa", headers=b.headers, json={"system": "autotask"})
    assert r.status_code == 404
    own = completed_session(http, b, publish_tree(http, b))
    r = http.post(f"/api/v1/sessions/{own}/psa", headers=b.headers, json={"system": "autotask"})
    assert r.status_code == 409 and "not configured" in r.json()["reason"]
    r = http.post("/api/v1/integrations/autotask/test", headers=b.headers)
    assert r.status_code == 409 and "save its connection first" in r.json()["reason"]


def test_any_member_sees_which_psas_are_configured_and_nothing_of_their_settings(http, make_tenant, at):
    a, b = make_tenant(), make_tenant()
    setup(http, a, at)
    engineer = a.add_user("engineer")

    r = http.get("/api/v1/integrations/systems", headers=engineer.headers)

    assert r.status_code == 200 and r.json() == {
        "items": [{"system": "autotask", "name": "Autotask"}],
        "next_cursor": None,
    }
    assert http.get("/api/v1/integrations/systems", headers=b.headers).json()["items"] == []
