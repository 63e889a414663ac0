"""An action step may name a published script with its parameter values (issue 18 point 3):
`POST /trees/validate` and publishing check the reference against the team's library, and the
tree format checks its form (tests/trees/test_validation.py has the pure cases)."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant
from tests.trees.factories import valid_tree

SCRIPT = {
    "_id": "script:restart-service",
    "name": "Restart a service",
    "body": "Restart-Service -Name $Service -ComputerName $Computer",
    "risk": "low",
    "parameters": [
        {"name": "Computer", "type": "hostname", "required": True},
        {"name": "Service", "type": "string", "required": True, "default": "BrokerAgent"},
        {"name": "Password", "type": "secret"},
    ],
}


@pytest.fixture
def published(http, tenant):
    r = http.post("/api/v1/scripts", headers=tenant.headers, json=SCRIPT)
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/scripts/script:restart-service/publish", headers=tenant.headers, json={})
    assert r.status_code in (200, 201), r.text


def tree_with(script: dict) -> dict:
    tree = valid_tree()
    tree["nodes"]["service"]["script"] = script
    return tree


def problems(http, tenant, tree) -> list[tuple[str | None, str, str]]:
    r = http.post("/api/v1/trees/validate", headers=tenant.headers, json=tree)
    assert r.status_code == 200, r.text
    return [(p["node_id"], p["code"], p["message"]) for p in r.json()["problems"]]


def test_a_step_mapping_a_published_scripts_parameters_is_valid(http, tenant, published):
    tree = tree_with({"id": "script:restart-service", "parameters": {"Computer": "{{input.vda_name}}"}})
    assert problems(http, tenant, tree) == []


def test_an_unknown_script_is_a_problem_publishing_refuses(http, tenant, published):
    tree = tree_with({"id": "script:not-there", "parameters": {}})
    [(node, code, message)] = problems(http, tenant, tree)
    assert (node, code) == ("service", "unknown_script")
    assert '"script:not-there" is not published' in message
    r = http.post("/api/v1/trees", headers=tenant.headers, json=tree)
    assert r.status_code == 201, r.text
    r = http.post(f"/api/v1/trees/{r.json()['id']}/publish", headers=tenant.headers, json={})
    assert r.status_code == 422 and r.json()["error"] == "invalid_tree", r.text


def test_parameters_must_be_the_scripts_own_and_required_ones_filled(http, tenant, published):
    tree = tree_with(
        {"id": "script:restart-service", "parameters": {"Computr": "CTX-07", "Password": "hunter2"}}
    )
    found = {(code, message.split(".")[0]) for _, code, message in problems(http, tenant, tree)}
    assert found == {
        ("unknown_script_parameter", 'The script "Restart a service" has no parameter "Computr"'),
        ("secret_script_parameter", "Password is a secret: a tree never stores one"),
        ("missing_script_parameter", "The script's required parameter Computer has no value"),
    }


def test_the_form_of_a_reference_is_checked_without_the_library(http, tenant):
    tree = tree_with(
        {
            "id": "Restart service",
            "parameters": {"1st": "x", "Computer": "{{input.vda_name", "Service": "{{input.nope}}"},
        }
    )
    codes = sorted(code for _, code, _ in problems(http, tenant, tree))
    assert codes == [
        "invalid_script_ref",
        "invalid_script_ref",
        "malformed_placeholder",
        "unknown_script",
        "unknown_variable",
    ]


def test_a_parameter_value_that_is_not_text_cannot_be_saved(http, tenant):
    tree = tree_with({"id": "script:restart-service", "parameters": {"Port": 389}})
    r = http.post("/api/v1/trees", headers=tenant.headers, json=tree)
    assert r.status_code == 400 and "script.parameters.Port" in r.json()["reason"], r.text


def test_another_teams_script_is_unknown_here(http, tenant, published):
    """Tenant isolation: a step may name only its own team's scripts."""
    other = Tenant(http)
    tree = tree_with({"id": "script:restart-service", "parameters": {"Computer": "CTX-07"}})
    assert problems(http, tenant, tree) == []
    assert [code for _, code, _ in problems(http, other, tree)] == ["unknown_script"]
