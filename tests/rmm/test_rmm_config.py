"""RMM connector settings: secrets write-only and sealed, addresses checked, the connection
test, the dashboard entries, and a client's devices through each RMM's paging."""

from __future__ import annotations

from tests.rmm.helpers import configure, rmm_status
from tests.rmm.test_script_runs import SERVER_ENV as SERVER_ENV


def test_secrets_are_write_only_and_kept_when_left_out(http, tenant, ninja, server):
    public = configure(http, tenant, "ninjaone", ninja.config())
    assert public["client_secret_set"] is True and "client_secret" not in public
    assert ninja.client_secret not in http.get("/api/v1/rmm", headers=tenant.headers).text
    body = {k: v for k, v in ninja.config(timeout_seconds=120).items() if k != "client_secret"}
    again = configure(http, tenant, "ninjaone", body)
    assert again["timeout_seconds"] == 120 and again["client_secret_set"] is True
    # Sealed at rest: the data folder never holds the secret in clear.
    stored = b"".join(
        p.read_bytes() for p in server.data_dir.rglob("*") if p.is_file() and p.suffix != ".log"
    )
    assert ninja.client_secret.encode() not in stored
    r = http.post("/api/v1/rmm/ninjaone/test", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["ok"] is True, r.text


def test_a_first_save_needs_the_secret_and_bad_values_are_refused(http, tenant, datto):
    body = {k: v for k, v in datto.config().items() if k != "api_secret"}
    r = http.put("/api/v1/rmm/datto", headers=tenant.headers, json=body)
    assert r.status_code == 400 and "api_secret is required the first time" in r.json()["reason"]
    r = http.put("/api/v1/rmm/datto", headers=tenant.headers, json={**datto.config(), "timeout_seconds": 1})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = http.put("/api/v1/rmm/kaseya", headers=tenant.headers, json=datto.config())
    assert r.status_code in (404, 405)


def test_only_owners_and_admins_configure_and_see_the_dashboard(http, tenant, ninja):
    engineer = tenant.add_user("engineer")
    r = http.put("/api/v1/rmm/ninjaone", headers=engineer.headers, json=ninja.config())
    assert r.status_code == 403
    assert http.get("/api/v1/rmm", headers=engineer.headers).status_code == 403


def test_a_failed_connection_test_answers_502_and_becomes_the_last_error(http, tenant, datto):
    configure(http, tenant, "datto", {**datto.config(), "api_secret": "wrong"})
    r = http.post("/api/v1/rmm/datto/test", headers=tenant.headers)
    assert r.status_code == 502 and r.json()["error"] == "bad_gateway"
    assert "refused the API key and secret" in r.json()["reason"]
    entry = rmm_status(http, tenant, "datto")
    assert entry["configured"] is True and entry["last_check"]["ok"] is False
    assert "refused the API key" in entry["last_error"]["reason"]
    configure(http, tenant, "datto", datto.config())
    r = http.post("/api/v1/rmm/datto/test", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["account"] == "Branchline MSP"
    assert rmm_status(http, tenant, "ninjaone")["configured"] is False


def test_a_clients_devices_come_from_its_organization_or_site_across_pages(http, tenant, ninja, datto):
    configure(http, tenant, "ninjaone", ninja.config())
    configure(http, tenant, "datto", datto.config())
    r = http.post(
        "/api/v1/clients",
        headers=tenant.headers,
        json={"name": "Contoso", "values": {"ninjaone_organization": "2", "datto_site": "site-a"}},
    )
    assert r.status_code == 201, r.text
    client_id = r.json()["id"] if "id" in r.json() else r.json()["_id"]
    engineer = tenant.add_user("engineer")

    r = http.get("/api/v1/rmm/ninjaone/devices", headers=engineer.headers, params={"client_id": client_id})
    assert r.status_code == 200, r.text
    names = [d["name"] for d in r.json()["items"]]
    assert len(names) == 65 and names[:2] == ["CTX-VDA-01", "CTX-VDA-03"]  # organization 2 only
    assert [c.query["df"] for c in ninja.calls("GET", "/v2/devices")] == ["org=2"]
    r = http.get("/api/v1/rmm/ninjaone/devices", headers=engineer.headers)
    assert len(r.json()["items"]) == 130  # two pages of 100, the second asked for after the first's last id
    assert [c.query.get("after") for c in ninja.calls("GET", "/v2/devices")][1:] == [None, "1100"]

    r = http.get(
        "/api/v1/rmm/datto/devices", headers=engineer.headers, params={"client_id": client_id, "q": "fs-0"}
    )
    assert [d["name"] for d in r.json()["items"]] == ["FS-01", "FS-03", "FS-05", "FS-07", "FS-09"]
    r = http.get("/api/v1/rmm/datto/devices", headers=engineer.headers)
    assert len(r.json()["items"]) == 300  # two pages of 250, until nextPageUrl is null
    assert [c.query["page"] for c in datto.calls("GET", "/api/v2/account/devices")] == ["0", "1"]
