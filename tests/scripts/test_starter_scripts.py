"""The starter scripts (seeds/scripts): valid, rendering for their parameters, parsing cleanly,
read-only unless `-Fix` is given, and loaded for new tenants with the starter library."""

from __future__ import annotations

import json
import re

import pytest

from api.scripts.models import check_script
from api.scripts.render import render
from api.scripts.starter import SEEDS_DIR
from tests.conftest import Tenant

from .powershell import problems

SEEDS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SEEDS_DIR.glob("*.json"))}
SAMPLE = {
    "string": "jdoe",
    "secret": "example",
    "hostname": "dc01.contoso.local",
    "ip": "203.0.113.10",
    "int": 5,
}
# Commands that change a machine: each must sit behind the Fix switch.
CHANGES = re.compile(
    r"\b(Restart-Service|Stop-Service|Start-Service|Remove-Item|Remove-CimInstance|Rename-Item)\b"
)


def sample_values(script: dict) -> dict:
    values = {}
    for p in script["parameters"]:
        if p.get("required"):
            values[p["name"]] = SAMPLE[p["type"]] if p["type"] != "enum" else p["choices"][0]
    return values


def test_there_are_at_least_eight_including_the_five_the_roadmap_names():
    assert len(SEEDS) >= 8
    assert {
        "restart-citrix-vda-services",
        "clear-fslogix-cache",
        "test-ad-replication",
        "vpn-tunnel-diagnostics",
        "network-connectivity-test",
    } <= set(SEEDS)


@pytest.mark.parametrize("name", list(SEEDS))
def test_each_starter_script_is_valid_and_documented(name):
    script = check_script(SEEDS[name])
    assert script["_id"] == f"script:{name}"
    assert script["description"] and script["links"], "each names the vendor documentation it follows"
    assert all(link["url"].startswith("https://") for link in script["links"])


@pytest.mark.parametrize("name", list(SEEDS))
@pytest.mark.parametrize("fix", [False, True])
def test_each_starter_script_renders_and_parses(name, fix):
    script = check_script(SEEDS[name])
    values = sample_values(script)
    if any(p["name"] == "Fix" for p in script["parameters"]):
        values["Fix"] = fix
    text = render(script, values)
    assert problems(text) == [], text


@pytest.mark.parametrize("name", list(SEEDS))
def test_changes_wait_for_fix_and_changing_scripts_are_not_low_risk(name):
    script = check_script(SEEDS[name])
    if not CHANGES.search(script["body"]):
        return
    fix = [p for p in script["parameters"] if p["name"] == "Fix"]
    assert fix and fix[0]["type"] == "bool" and fix[0].get("default") is False
    assert script["risk"] in ("medium", "high")
    assert "if (-not $Fix)" in script["body"], "the report comes first; the change only with -Fix"
    before_fix = script["body"].split("if (-not $Fix)")[0]
    assert not CHANGES.search(before_fix), "nothing changes before the -Fix check"


def test_scripts_that_remove_data_are_marked_high():
    for name in ("clear-fslogix-cache", "reset-windows-update"):
        assert SEEDS[name]["risk"] == "high"


def test_new_tenants_with_the_starter_library_get_them_published(http):
    owner = Tenant(http, starter_library=True)
    engineer = owner.add_user("engineer")
    items = http.get("/api/v1/scripts?limit=200", headers=engineer.headers).json()["items"]
    assert {i["id"] for i in items} == {f"script:{n}" for n in SEEDS}
    assert all(i["version"] == 1 and i["starter"] for i in items)
    r = http.post(
        "/api/v1/scripts/script:test-ad-replication/render",
        headers=engineer.headers,
        json={"parameters": {"DomainController": "dc01.contoso.local"}},
    )
    assert r.status_code == 200 and "[string]$DomainController = 'dc01.contoso.local'" in r.json()["script"]
    me = http.get("/api/v1/me", headers=engineer.headers).json()
    assert me["sync"]["databases"]["scripts"].endswith(f"/sync/{owner.id}/scripts")


def test_tenants_without_the_starter_library_get_none(http, tenant):
    assert http.get("/api/v1/scripts", headers=tenant.headers).json()["items"] == []
