"""The operator's per-tenant quota (`branchline tenant quota`) against a running server: it
replaces the default for that team only, the server enforces it on the next write, the
refusal names it and says what to do, the usage answer shows it with the 80% warning, and
owners cannot set it over the API."""

from __future__ import annotations

import subprocess

import pytest

from api.usage.sizes import format_size
from tests.conftest import branchline_cli

KB = 1024
# Measured afresh on every write, so the command's change holds at the next request.
SERVER_ENV = {"BRANCHLINE_TENANT_QUOTA_CACHE_SECONDS": "0"}


def branchline(server, *args: str) -> subprocess.CompletedProcess:
    """`branchline ...` on the server's data folder, as the operator runs it beside the server."""
    return branchline_cli({**server.env, "BRANCHLINE_TENANT_QUOTA_CACHE_SECONDS": "30"}, *args)


def _usage(http, who) -> dict:
    r = http.get("/api/v1/tenant/usage", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _client(name: str, kb: int) -> dict:
    return {"type": "client", "schema_version": 1, "name": name, "values": {"inventory": "q" * (kb * KB)}}


def test_the_operators_quota_is_enforced_for_that_team_only(server, http, make_tenant):
    team, neighbour = make_tenant(), make_tenant()
    used = _usage(http, team)["storage"]["used_bytes"]
    quota = used + 256 * KB
    done = branchline(server, "tenant", "quota", team.id, "--storage", str(quota))
    assert done.returncode == 0, done.stderr
    assert f"Workspace {team.id} now has a storage quota of" in done.stdout
    assert "set for this workspace by the operator" in done.stdout

    storage = _usage(http, team)["storage"]
    assert storage["quota_bytes"] == quota and storage["quota_source"] == "operator"
    limit = {row["key"]: row for row in _usage(http, team)["limits"]}["storage_quota"]
    assert limit["value"] == quota and "set by the operator" in limit["label"]

    # Under the quota a write succeeds (this one takes the team past it)...
    r = http.put(f"/sync/{team.id}/clients/client:big", headers=team.headers, json=_client("Big", 600))
    assert r.status_code == 201, r.text
    # ...then the next is refused, on sync and over the API, saying whose quota and what to do.
    r = http.put(f"/sync/{team.id}/clients/client:more", headers=team.headers, json=_client("More", 1))
    assert r.status_code == 413, r.text
    refusal = r.json()
    assert refusal["error"] == "quota_exceeded"
    reason = refusal["reason"]
    assert f"of its {format_size(quota)} quota" in reason
    assert "the instance operator set for your team" in reason and "branchline tenant quota" in reason
    assert "Delete" in reason and "Usage" in reason
    r = http.post("/api/v1/clients", headers=team.headers, json={"name": "One more"})
    assert r.status_code == 413 and r.json()["error"] == "quota_exceeded", r.text
    usage = _usage(http, team)
    assert usage["storage"]["percent"] >= 100
    assert [w["code"] for w in usage["warnings"]] == ["storage_full"]

    # The other team keeps the default quota.
    assert _usage(http, neighbour)["storage"]["quota_source"] == "default"
    r = http.put(
        f"/sync/{neighbour.id}/clients/client:big", headers=neighbour.headers, json=_client("Big", 600)
    )
    assert r.status_code == 201, r.text

    # Raised again by the operator: the team writes at once.
    assert branchline(server, "tenant", "quota", team.id, "--storage", "1GiB").returncode == 0
    r = http.post("/api/v1/clients", headers=team.headers, json={"name": "One more"})
    assert r.status_code == 201, r.text
    assert _usage(http, team)["storage"]["quota_bytes"] == 1024**3

    # The team's audit log tells who changed its quota: the system, from the command line.
    r = http.get("/api/v1/audit", headers=team.headers, params={"action": "tenant.quota_changed"})
    changes = r.json()["items"]
    assert [c["details"]["storage_bytes"] for c in changes] == [
        {"from": quota, "to": 1024**3},
        {"from": None, "to": quota},
    ]
    assert changes[0]["actor"]["type"] == "system" and changes[0]["target"] == {
        "type": "tenant",
        "id": team.id,
    }
    r = http.get("/api/v1/audit", headers=neighbour.headers, params={"action": "tenant.quota_changed"})
    assert r.json()["items"] == []

    # --reset: back to the instance's default.
    done = branchline(server, "tenant", "quota", team.id, "--reset")
    assert done.returncode == 0 and "follows the default quota again" in done.stdout, done.stderr
    storage = _usage(http, team)["storage"]
    assert storage["quota_source"] == "default" and storage["quota_bytes"] == 5 * 1024**3


def test_past_80_percent_the_answer_warns(server, http, tenant):
    used = _usage(http, tenant)["storage"]["used_bytes"]
    quota = int(used / 0.85)
    assert branchline(server, "tenant", "quota", tenant.id, "--storage", str(quota)).returncode == 0
    usage = _usage(http, tenant)
    assert 80 <= usage["storage"]["percent"] < 100
    (warning,) = usage["warnings"]
    assert warning["code"] == "storage_high" and warning["level"] == "warning"
    assert f"{usage['storage']['percent']:.0f}% full" in warning["message"]
    # The notice above every admin page asks only for the warnings: the same ones.
    r = http.get("/api/v1/tenant/usage/warnings", headers=tenant.headers)
    assert r.status_code == 200 and r.json() == {"warnings": usage["warnings"]}, r.text
    # A warning is no refusal: writes still succeed below 100%.
    r = http.post("/api/v1/clients", headers=tenant.headers, json={"name": "Still fine"})
    assert r.status_code == 201, r.text


def test_show_prints_quota_and_usage_and_bad_input_is_explained(server, http, tenant):
    shown = branchline(server, "tenant", "quota", tenant.id)
    assert shown.returncode == 0, shown.stderr
    assert f"(id {tenant.id})" in shown.stdout
    assert "5.0 GB" in shown.stdout and "the default of BRANCHLINE_TENANT_QUOTA_BYTES" in shown.stdout
    assert "used:" in shown.stdout
    assert branchline(server, "tenant", "quota", tenant.id, "--show").stdout == shown.stdout

    bad = branchline(server, "tenant", "quota", tenant.id, "--storage", "ten gigs")
    assert bad.returncode == 2 and "is not a size" in bad.stderr and "10GiB" in bad.stderr
    unknown = branchline(server, "tenant", "quota", "nosuchteam")
    assert unknown.returncode == 1 and "No workspace 'nosuchteam'" in unknown.stderr
    # Nothing was changed by the refused commands.
    assert _usage(http, tenant)["storage"]["quota_source"] == "default"


@pytest.mark.parametrize(
    "method,path",
    [("PUT", "/api/v1/tenant/usage"), ("PATCH", "/api/v1/tenant/usage"), ("PUT", "/api/v1/tenant/quota")],
)
def test_owners_cannot_set_their_own_quota_over_the_api(http, tenant, method, path):
    r = http.request(method, path, headers=tenant.headers, json={"quota_bytes": 10 * 1024**4})
    assert r.status_code in (404, 405), r.text
    assert set(r.json()) >= {"error", "reason"}
    r = http.patch("/api/v1/tenant", headers=tenant.headers, json={"settings": {"quota_bytes": 1}})
    assert r.status_code == 400, r.text
    assert _usage(http, tenant)["storage"]["quota_source"] == "default"
