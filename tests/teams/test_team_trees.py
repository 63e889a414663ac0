"""Team-scoped trees (issue #19 point 3): teams, a tree's teams, and who reaches the tree over
the API and over sync. An engineer outside a tree's teams never receives it or its versions."""

from __future__ import annotations

import copy

from tests.sync.conftest import node_modules, run_node  # noqa: F401  (node_modules is a fixture)
from tests.trees.factories import valid_tree


def _tree(http, tenant, slug: str, title: str) -> str:
    body = copy.deepcopy(valid_tree())
    body["_id"] = f"tree:{slug}"
    body["title"] = title
    r = http.post("/api/v1/trees", headers=tenant.headers, json=body)
    assert r.status_code == 201, r.text
    assert http.post(f"/api/v1/trees/tree:{slug}/publish", headers=tenant.headers, json={}).status_code in (
        200,
        201,
    )
    return f"tree:{slug}"


def _team(http, tenant, name: str, members: list[str]) -> str:
    r = http.post("/api/v1/teams", headers=tenant.headers, json={"name": name, "members": members})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _scope(http, tenant, tree_id: str, teams: dict) -> None:
    r = http.put(f"/api/v1/trees/{tree_id}/teams", headers=tenant.headers, json={"teams": teams})
    assert r.status_code == 200, r.text


def _synced_ids(http, tenant, who) -> dict[str, set[str]]:
    """The trees documents each read path of /sync gives `who`."""
    base = f"/sync/{tenant.id}/trees"
    changes = http.get(f"{base}/_changes", headers=who.headers).json()["results"]
    all_docs = http.get(f"{base}/_all_docs", headers=who.headers).json()["rows"]
    return {"changes": {r["id"] for r in changes}, "all_docs": {r["id"] for r in all_docs}}


def test_teams_crud_with_audit(http, tenant):
    eng = tenant.add_user("engineer")
    team_id = _team(http, tenant, "Citrix crew", [eng.id])
    assert http.get(f"/api/v1/teams/{team_id}", headers=tenant.headers).json()["members"] == [eng.id]
    r = http.patch(f"/api/v1/teams/{team_id}", headers=tenant.headers, json={"name": "Citrix", "members": []})
    assert r.status_code == 200 and r.json()["name"] == "Citrix" and r.json()["members"] == []
    bad = http.post("/api/v1/teams", headers=tenant.headers, json={"name": "X", "members": ["nobody"]})
    assert bad.status_code == 400 and "No user nobody" in bad.json()["reason"]
    assert http.get("/api/v1/teams", headers=eng.headers).status_code == 403
    assert http.delete(f"/api/v1/teams/{team_id}", headers=tenant.headers).status_code == 200
    assert http.get(f"/api/v1/teams/{team_id}", headers=tenant.headers).status_code == 404
    actions = [e["action"] for e in http.get("/api/v1/audit", headers=tenant.headers).json()["items"]]
    assert {"team.created", "team.updated", "team.deleted"} <= set(actions)


def test_an_outsider_never_receives_a_scoped_tree_over_sync(http, tenant):
    insider, outsider = tenant.add_user("engineer"), tenant.add_user("engineer")
    secret = _tree(http, tenant, "vpn-secret", "VPN secret runbook")
    _tree(http, tenant, "open-one", "Open runbook")
    team_id = _team(http, tenant, "Network", [insider.id])
    _scope(http, tenant, secret, {team_id: ["run"]})

    for path, ids in _synced_ids(http, tenant, outsider).items():
        assert "tree:open-one" in ids, path
        assert not {i for i in ids if "vpn-secret" in i}, (path, ids)
    for path, ids in _synced_ids(http, tenant, insider).items():
        assert {"tree:vpn-secret", "treever:vpn-secret:1"} <= ids, path
    base = f"/sync/{tenant.id}/trees"
    assert http.get(f"{base}/treever:vpn-secret:1", headers=outsider.headers).status_code in (403, 404)
    bulk = http.post(
        f"{base}/_bulk_get", headers=outsider.headers, json={"docs": [{"id": "tree:vpn-secret"}]}
    )
    assert "VPN secret runbook" not in bulk.text
    owner_ids = _synced_ids(http, tenant, tenant)["changes"]
    assert "treever:vpn-secret:1" in owner_ids  # owners and admins see every tree


def test_joining_the_team_makes_the_tree_arrive_and_leaving_stops_new_versions(http, tenant):
    eng = tenant.add_user("engineer")
    secret = _tree(http, tenant, "san-secret", "SAN runbook")
    team_id = _team(http, tenant, "Storage", [])
    _scope(http, tenant, secret, {team_id: ["run"]})
    base = f"/sync/{tenant.id}/trees"
    first = http.get(f"{base}/_changes", headers=eng.headers).json()
    assert not [r for r in first["results"] if "san-secret" in r["id"]]

    http.patch(f"/api/v1/teams/{team_id}", headers=tenant.headers, json={"members": [eng.id]})
    later = http.get(f"{base}/_changes", headers=eng.headers, params={"since": first["last_seq"]}).json()
    assert {"tree:san-secret", "treever:san-secret:1"} <= {r["id"] for r in later["results"]}

    http.patch(f"/api/v1/teams/{team_id}", headers=tenant.headers, json={"members": []})
    assert http.post(f"/api/v1/trees/{secret}/publish", headers=tenant.headers, json={}).status_code in (
        200,
        201,
    )
    after = http.get(f"{base}/_changes", headers=eng.headers, params={"since": later["last_seq"]}).json()
    assert not [r for r in after["results"] if "san-secret" in r["id"]]


def test_library_search_sessions_and_analytics_respect_teams(http, tenant):
    insider, outsider = tenant.add_user("engineer"), tenant.add_user("engineer")
    secret = _tree(http, tenant, "fw-secret", "Firewall secret runbook")
    team_id = _team(http, tenant, "Security", [insider.id])
    _scope(http, tenant, secret, {team_id: ["run"]})

    def library(who, **params) -> set[str]:
        return {
            t["id"] for t in http.get("/api/v1/trees", headers=who.headers, params=params).json()["items"]
        }

    assert secret not in library(outsider) and secret not in library(outsider, q="firewall")
    assert secret in library(insider, q="firewall") and secret in library(tenant)

    def categories(who) -> dict:
        items = http.get("/api/v1/trees/categories", headers=who.headers).json()["items"]
        return {c["category"]: c["count"] for c in items}

    assert categories(insider) == {"Citrix": 1} and categories(outsider) == {}
    assert http.get(f"/api/v1/trees/{secret}", headers=outsider.headers).status_code == 403
    assert http.get(f"/api/v1/analytics/trees/{secret}", headers=outsider.headers).status_code == 403
    r = http.post("/api/v1/sessions", headers=outsider.headers, json={"tree_id": secret})
    assert r.status_code == 403 and "teams you are not in" in r.json()["reason"]
    r = http.post("/api/v1/sessions", headers=insider.headers, json={"tree_id": secret})
    assert r.status_code == 201, r.text


def test_authors_edit_and_publish_only_with_their_teams_permissions(http, tenant):
    runner, editor = tenant.add_user("author"), tenant.add_user("author")
    secret = _tree(http, tenant, "ad-secret", "AD runbook")
    runners, editors = (
        _team(http, tenant, "Runners", [runner.id]),
        _team(http, tenant, "Editors", [editor.id]),
    )
    _scope(http, tenant, secret, {runners: ["run"], editors: ["run", "edit"]})
    draft = http.get(f"/api/v1/trees/{secret}", headers=runner.headers).json()
    refused = http.put(f"/api/v1/trees/{secret}", headers=runner.headers, json={**draft, "title": "Changed"})
    assert refused.status_code == 403 and "'edit'" in refused.json()["reason"]
    sync_put = http.put(
        f"/sync/{tenant.id}/trees/{secret}", headers=runner.headers, json={**draft, "title": "Changed"}
    )
    assert sync_put.status_code == 403
    ok = http.put(f"/api/v1/trees/{secret}", headers=editor.headers, json={**draft, "title": "Changed"})
    assert ok.status_code == 200, ok.text
    publish = http.post(f"/api/v1/trees/{secret}/publish", headers=editor.headers, json={})
    assert publish.status_code == 403 and "'publish'" in publish.json()["reason"]


def test_a_pouchdb_device_receives_a_scoped_tree_only_while_its_user_is_in_the_team(
    server,
    http,
    tenant,
    node_modules,  # noqa: F811
):
    eng = tenant.add_user("engineer")
    secret = _tree(http, tenant, "dr-secret", "DR runbook")
    _tree(http, tenant, "open-two", "Open runbook two")
    team_id = _team(http, tenant, "DR", [])
    _scope(http, tenant, secret, {team_id: ["run"]})
    result = run_node(
        "tree_teams.js",
        {
            "url": f"{server.url}/sync/{tenant.id}/trees",
            "auth": {"bearer": eng.tokens["access_token"]},
            "owner": {"bearer": tenant.tokens["access_token"]},
            "team_url": f"{server.url}/api/v1/teams/{team_id}",
            "member_id": eng.id,
            "publish_url": f"{server.url}/api/v1/trees/{secret}/publish",
        },
    )
    assert result["statuses"] == [200, 200, 201]
    assert "tree:open-two" in result["outside"]
    assert not [i for i in result["outside"] if "dr-secret" in i]
    assert {"tree:dr-secret", "treever:dr-secret:1"} <= set(result["inside"])
    # Removed from the team: version 2 never arrives; version 1 stays on the device.
    assert "treever:dr-secret:2" not in result["after"]
    assert "treever:dr-secret:1" in result["after"]
