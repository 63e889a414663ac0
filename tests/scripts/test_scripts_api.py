"""Scripts over the API: drafts with `_rev`, publishing, versions, roles, rendering, validation,
import/export, the audit log, and the `scripts` database over sync.

A real server per module (tests/conftest.py), a fresh tenant per test.
"""

from __future__ import annotations

import httpx
import pytest

from tests.audit.test_audit_api import entries

from .factories import small_script


def create(http: httpx.Client, who, body: dict | None = None, publish: bool = False) -> str:
    r = http.post("/api/v1/scripts", headers=who.headers, json=body or small_script())
    assert r.status_code == 201, r.text
    script_id = r.json()["id"]
    if publish:
        r = http.post(
            f"/api/v1/scripts/{script_id}/publish", headers=who.headers, json={"change_note": "First"}
        )
        assert r.status_code == 201, r.text
    return script_id


def assert_error(r: httpx.Response, status: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "reason"}, body
    for word in words:
        assert word in body["reason"], body["reason"]
    return body


def test_authors_write_drafts_and_engineers_see_only_what_was_published(http, tenant):
    engineer = tenant.add_user("engineer")
    script_id = create(http, tenant, small_script(name="Check a VPN peer"))
    assert script_id == "script:check-a-vpn-peer"

    listed = http.get("/api/v1/scripts", headers=engineer.headers).json()
    assert listed == {"items": [], "next_cursor": None}
    assert_error(
        http.get(f"/api/v1/scripts/{script_id}", headers=engineer.headers), 404, "no published version"
    )

    http.post(f"/api/v1/scripts/{script_id}/publish", headers=tenant.headers).raise_for_status()
    draft = http.get(f"/api/v1/scripts/{script_id}", headers=tenant.headers).json()
    draft["description"] = "Edited after publishing, not yet published."
    r = http.put(f"/api/v1/scripts/{script_id}", headers=tenant.headers, json=draft)
    assert r.status_code == 200, r.text

    seen = http.get(f"/api/v1/scripts/{script_id}", headers=engineer.headers).json()
    assert seen["version"] == 1 and seen["description"] == "Pings a host and reports."
    [row] = http.get("/api/v1/scripts", headers=engineer.headers).json()["items"]
    assert row["id"] == script_id and row["version"] == 1 and row["risk"] == "low"
    assert (
        http.get(f"/api/v1/scripts/{script_id}", headers=tenant.headers)
        .json()["description"]
        .startswith("Edited")
    )

    http.post(f"/api/v1/scripts/{script_id}/publish", headers=tenant.headers).raise_for_status()
    versions = http.get(f"/api/v1/scripts/{script_id}/versions", headers=engineer.headers).json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert http.get(f"/api/v1/scripts/{script_id}/versions/1", headers=engineer.headers).json()["script"][
        "description"
    ] == ("Pings a host and reports.")


@pytest.mark.parametrize("role", ["engineer", "viewer"])
def test_engineers_and_viewers_change_nothing(http, tenant, role):
    member = tenant.add_user(role)
    script_id = create(http, tenant, publish=True)
    draft = http.get(f"/api/v1/scripts/{script_id}", headers=tenant.headers).json()
    for r in (
        http.post("/api/v1/scripts", headers=member.headers, json=small_script()),
        http.put(f"/api/v1/scripts/{script_id}", headers=member.headers, json=draft),
        http.post(f"/api/v1/scripts/{script_id}/publish", headers=member.headers),
        http.delete(f"/api/v1/scripts/{script_id}", headers=member.headers),
        http.post("/api/v1/scripts/import", headers=member.headers, json=small_script()),
        http.get(f"/api/v1/scripts/{script_id}/export", headers=member.headers),
    ):
        assert_error(r, 403, "roles")
    r = http.post(f"/api/v1/scripts/{script_id}/render", headers=member.headers, json={"draft": True})
    assert_error(r, 404, "draft")


def test_a_stale_rev_is_a_conflict(http, tenant):
    script_id = create(http, tenant)
    draft = http.get(f"/api/v1/scripts/{script_id}", headers=tenant.headers).json()
    assert http.put(f"/api/v1/scripts/{script_id}", headers=tenant.headers, json=draft).status_code == 200
    assert_error(http.put(f"/api/v1/scripts/{script_id}", headers=tenant.headers, json=draft), 409, "stale")
    del draft["_rev"]
    assert_error(http.put(f"/api/v1/scripts/{script_id}", headers=tenant.headers, json=draft), 400, "_rev")


BAD_SCRIPTS = {
    "not an object": ([1, 2], "dictionary"),
    "no risk": ({"name": "x", "body": "Get-Date"}, "risk"),
    "unknown risk": ({"name": "x", "body": "Get-Date", "risk": "extreme"}, "risk"),
    "shell": ({"name": "x", "body": "ls", "risk": "low", "shell": "bash"}, "shell"),
    "unknown field": ({**small_script(), "nxt": 1}, "nxt"),
    "own param block": ({**small_script(), "body": "# check\nparam($Target)\nGet-Date"}, "param block"),
    "using statement": ({**small_script(), "body": "using namespace System.Net\nGet-Date"}, "using"),
    "NUL in body": ({**small_script(), "body": "Get-Date\x00"}, "NUL"),
    "name with a line break": ({**small_script(), "name": "a\nb"}, "line breaks"),
    "plain http link": ({**small_script(), "links": [{"title": "x", "url": "http://example.com"}]}, "links"),
    "unknown type": ({**small_script(), "parameters": [{"name": "P", "type": "float"}]}, "type"),
    "bad name": ({**small_script(), "parameters": [{"name": "1x", "type": "string"}]}, "name"),
    "automatic variable": (
        {**small_script(), "parameters": [{"name": "host", "type": "string"}]},
        "automatic",
    ),
    "repeated name": (
        {**small_script(), "parameters": [{"name": "P", "type": "string"}, {"name": "p", "type": "int"}]},
        "unique",
    ),
    "secret default": (
        {**small_script(), "parameters": [{"name": "P", "type": "secret", "default": "hunter2"}]},
        "secret",
    ),
    "enum without choices": ({**small_script(), "parameters": [{"name": "P", "type": "enum"}]}, "choices"),
    "choices on a string": (
        {**small_script(), "parameters": [{"name": "P", "type": "string", "choices": ["a"]}]},
        "choices",
    ),
    "bad pattern": (
        {**small_script(), "parameters": [{"name": "P", "type": "string", "pattern": "(["}]},
        "pattern",
    ),
    "pattern on an int": (
        {**small_script(), "parameters": [{"name": "P", "type": "int", "pattern": "1"}]},
        "pattern",
    ),
    "min above max": (
        {**small_script(), "parameters": [{"name": "P", "type": "int", "min": 5, "max": 1}]},
        "min",
    ),
    "default of the wrong type": (
        {**small_script(), "parameters": [{"name": "P", "type": "int", "default": "five"}]},
        "default",
    ),
    "default outside its range": (
        {**small_script(), "parameters": [{"name": "P", "type": "int", "max": 3, "default": 9}]},
        "outside",
    ),
    "default not a choice": (
        {**small_script(), "parameters": [{"name": "P", "type": "enum", "choices": ["a"], "default": "b"}]},
        "not one of",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SCRIPTS))
def test_a_bad_script_is_refused_with_400_naming_what_is_wrong(http, tenant, case):
    body, word = BAD_SCRIPTS[case]
    body = assert_error(http.post("/api/v1/scripts", headers=tenant.headers, json=body), 400, word)
    assert body["error"] == "bad_request"


BAD_VALUES = {
    "missing required": ({}, "Target", "required"),
    "unknown name": ({"Target": "srv01", "Tagret": "x"}, "Tagret", "Unknown"),
    "host with a semicolon": ({"Target": "srv01; calc"}, "Target", "host name"),
    "host with a quote": ({"Target": "srv01'"}, "Target", "host name"),
    "NUL": ({"Target": "srv01\x00"}, "Target", "NUL"),
    "int as words": ({"Target": "srv01", "Port": "443; calc"}, "Port", "whole number"),
    "int out of range": ({"Target": "srv01", "Port": 70000}, "Port", "outside"),
    "bool as text": ({"Target": "srv01", "Fix": "yes please"}, "Fix", "true or false"),
    "object value": ({"Target": {"$(calc)": 1}}, "Target", "expected text"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_render_refuses_values_that_fail_their_type(http, tenant, case):
    values, name, word = BAD_VALUES[case]
    script_id = create(http, tenant, publish=True)
    r = http.post(f"/api/v1/scripts/{script_id}/render", headers=tenant.headers, json={"parameters": values})
    body = assert_error(r, 400, name, word)
    assert body["error"] == "bad_request"


def test_render_binds_values_in_a_param_block_for_every_role(http, tenant):
    engineer = tenant.add_user("engineer")
    script_id = create(http, tenant, publish=True)
    r = http.post(
        f"/api/v1/scripts/{script_id}/render",
        headers=engineer.headers,
        json={"parameters": {"Target": "srv01.contoso.local", "Fix": "true"}},
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["version"] == 1 and answer["risk"] == "low" and answer["script_id"] == script_id
    text = answer["script"]
    assert "[string]$Target = 'srv01.contoso.local'" in text
    assert "[int]$Port = 443" in text and "[switch]$Fix = $true" in text
    assert text.rstrip().endswith("if ($Fix) { Write-Output 'fix' }")


def test_secret_values_are_rendered_but_never_stored_or_audited(http, tenant):
    body = small_script(
        parameters=[
            {"name": "Target", "type": "hostname"},
            {"name": "Password", "type": "secret", "required": True},
        ]
    )
    script_id = create(http, tenant, body, publish=True)
    secret = "s3cr3t-'-\u2019-value"
    r = http.post(
        f"/api/v1/scripts/{script_id}/render",
        headers=tenant.headers,
        json={"parameters": {"Password": secret}},
    )
    assert r.status_code == 200, r.text
    assert "[string]$Password = 's3cr3t-''-\u2019\u2019-value'" in r.json()["script"]
    everything = [
        http.get(f"/api/v1/scripts/{script_id}", headers=tenant.headers).text,
        http.get(f"/api/v1/scripts/{script_id}/versions/1", headers=tenant.headers).text,
        http.get(f"/sync/{tenant.id}/scripts/_all_docs?include_docs=true", headers=tenant.headers).text,
        http.get("/api/v1/audit", headers=tenant.headers).text,
    ]
    assert not [t for t in everything if "s3cr3t" in t]


def test_every_change_is_in_the_audit_log(http, tenant):
    script_id = create(http, tenant)
    draft = http.get(f"/api/v1/scripts/{script_id}", headers=tenant.headers).json()
    http.put(f"/api/v1/scripts/{script_id}", headers=tenant.headers, json=draft).raise_for_status()
    http.post(f"/api/v1/scripts/{script_id}/publish", headers=tenant.headers).raise_for_status()
    exported = http.get(f"/api/v1/scripts/{script_id}/export", headers=tenant.headers).json()
    http.post("/api/v1/scripts/import?replace=true", headers=tenant.headers, json=exported).raise_for_status()
    http.delete(f"/api/v1/scripts/{script_id}", headers=tenant.headers).raise_for_status()
    found = sorted(
        (e for e in entries(http, tenant) if e["target"] == {"type": "script", "id": script_id}),
        key=lambda e: e["id"],
    )
    assert [e["action"] for e in found] == [
        "script.created",
        "script.updated",
        "script.published",
        "script.imported",
        "script.archived",
    ]
    assert found[2]["details"] == {"version": 1, "risk": "low"}
    assert all(e["actor"]["email"] == tenant.owner_email for e in found)


def test_export_and_import_round_trip_between_tenants(http, tenant, make_tenant):
    script_id = create(http, tenant, small_script(name="Round trip", risk="high"))
    r = http.get(f"/api/v1/scripts/{script_id}/export", headers=tenant.headers)
    assert r.status_code == 200 and 'filename="round-trip.script.json"' in r.headers["content-disposition"]
    exported = r.json()
    assert exported["format"] == "branchline.script" and "_rev" not in exported

    other = make_tenant()
    r = http.post("/api/v1/scripts/import", headers=other.headers, json=exported)
    assert r.status_code == 201, r.text
    imported = http.get(f"/api/v1/scripts/{script_id}", headers=other.headers).json()
    original = http.get(f"/api/v1/scripts/{script_id}", headers=tenant.headers).json()
    assert {k: v for k, v in imported.items() if k != "_rev"} == {
        k: v for k, v in original.items() if k != "_rev"
    }

    assert_error(
        http.post("/api/v1/scripts/import", headers=other.headers, json=exported), 409, "replace=true"
    )
    exported["description"] = "Replaced"
    r = http.post("/api/v1/scripts/import?replace=true", headers=other.headers, json=exported)
    assert r.status_code == 201, r.text
    assert http.get(f"/api/v1/scripts/{script_id}", headers=other.headers).json()["description"] == "Replaced"
    wrong = {**exported, "format": "branchline.tree"}
    assert_error(http.post("/api/v1/scripts/import", headers=other.headers, json=wrong), 400, "format")


def test_archived_scripts_leave_the_library_but_stay_readable(http, tenant):
    engineer = tenant.add_user("engineer")
    script_id = create(http, tenant, publish=True)
    http.delete(f"/api/v1/scripts/{script_id}", headers=tenant.headers).raise_for_status()
    assert http.get("/api/v1/scripts", headers=engineer.headers).json()["items"] == []
    assert http.get("/api/v1/scripts", headers=tenant.headers).json()["items"] == []
    [row] = http.get("/api/v1/scripts?include_archived=true", headers=engineer.headers).json()["items"]
    assert row["archived"] is True
    r = http.post(
        f"/api/v1/scripts/{script_id}/render", headers=engineer.headers, json={"parameters": {"Target": "a"}}
    )
    assert r.status_code == 200, r.text


def test_list_filters_and_pages(http, tenant):
    for n in range(3):
        create(http, tenant, small_script(name=f"Disk report {n}", tags=["storage"], risk="low"))
    create(http, tenant, small_script(name="Reset updates", risk="high"))
    assert [
        i["name"] for i in http.get("/api/v1/scripts?risk=high", headers=tenant.headers).json()["items"]
    ] == ["Reset updates"]
    assert len(http.get("/api/v1/scripts?tag=storage", headers=tenant.headers).json()["items"]) == 3
    assert len(http.get("/api/v1/scripts?q=disk%20report", headers=tenant.headers).json()["items"]) == 3
    first = http.get("/api/v1/scripts?limit=2", headers=tenant.headers).json()
    second = http.get(f"/api/v1/scripts?limit=2&cursor={first['next_cursor']}", headers=tenant.headers).json()
    names = [i["name"] for i in first["items"] + second["items"]]
    assert names == ["Disk report 0", "Disk report 1", "Disk report 2", "Reset updates"]
    assert second["next_cursor"] is None


def test_over_sync_engineers_get_published_copies_and_nobody_writes(http, tenant):
    engineer = tenant.add_user("engineer")
    published = create(http, tenant, small_script(name="Published one"), publish=True)
    create(http, tenant, small_script(name="Draft only"))
    base = f"/sync/{tenant.id}/scripts"

    def ids(who, path: str) -> set[str]:
        r = http.get(f"{base}/{path}", headers=who.headers)
        assert r.status_code == 200, r.text
        return {row["id"] for row in r.json()["rows" if "rows" in r.json() else "results"]}

    engineer_ids = ids(engineer, "_all_docs")
    assert engineer_ids == {"scriptver:published-one:1", "scriptmeta:published-one", "scriptmeta:draft-only"}
    assert ids(engineer, "_changes") == engineer_ids
    assert {"script:published-one", "script:draft-only"} <= ids(tenant, "_all_docs")
    assert_error(http.get(f"{base}/script:draft-only", headers=engineer.headers), 404)
    assert http.get(f"{base}/scriptver:published-one:1", headers=engineer.headers).status_code == 200

    draft = http.get(f"{base}/{published}", headers=tenant.headers).json()
    r = http.put(f"{base}/{published}", headers=tenant.headers, json={**draft, "risk": "high"})
    assert_error(r, 403, "through the API")
    r = http.put(f"{base}/script:new-one", headers=engineer.headers, json=small_script())
    assert r.status_code == 403
