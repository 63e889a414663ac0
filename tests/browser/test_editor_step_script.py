"""The editor picks a published script for an action step and maps its parameters (issue 18
point 3): each parameter shows its type and whether it is required; a required one without
a value is a problem, worded as the server's validation words it, until it is mapped to an
input of the tree; a secret cannot be mapped. The saved draft holds the reference."""

from __future__ import annotations

from tests.browser.conftest import app_context, shot
from tests.browser.test_editor_build_publish import node, problem_count, saved, select_node, sign_in
from tests.conftest import Tenant
from tests.trees.factories import valid_tree

SCRIPT = {
    "_id": "script:restart-service",
    "name": "Restart a service",
    "body": "Restart-Service -Name $Service -ComputerName $Computer",
    "risk": "medium",
    "parameters": [
        {"name": "Computer", "type": "hostname", "required": True},
        {"name": "Service", "type": "string", "required": True, "default": "BrokerAgent"},
        {"name": "Password", "type": "secret"},
    ],
}


def test_an_author_picks_a_script_and_maps_its_parameters(browser, http, server):
    tenant = Tenant(http)
    author = tenant.add_user("author")
    r = http.post("/api/v1/scripts", headers=tenant.headers, json=SCRIPT)
    assert r.status_code == 201, r.text
    r = http.post(f"/api/v1/scripts/{SCRIPT['_id']}/publish", headers=tenant.headers, json={})
    assert r.status_code in (200, 201), r.text
    r = http.post("/api/v1/trees", headers=author.headers, json=valid_tree())
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]

    ctx = app_context(browser, {"width": 1360, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, server.url, author.email, author.password)
        page.goto(f"{server.url}/editor/{tree_id}")
        node(page, "service").wait_for()
        assert problem_count(page) == 0
        select_node(page, "service")
        page.wait_for_selector("#f-script >> option:has-text('Restart a service')", state="attached")
        page.select_option("#f-script", SCRIPT["_id"])

        computer = page.locator("[data-testid=script-param-Computer]")
        assert "host name" in computer.text_content() and "required" in computer.text_content()
        assert "default BrokerAgent" in page.text_content("[data-testid=script-param-Service]")
        assert "never stores one" in page.text_content("[data-testid=script-param-Password]")
        assert "Medium risk" in page.text_content("[data-testid=script-section]")
        missing = page.locator("[data-testid=node-problems]", has_text="missing_script_parameter")
        missing.wait_for()
        unmapped = valid_tree()
        unmapped["nodes"]["service"]["script"] = {"id": SCRIPT["_id"], "parameters": {}}
        r = http.post("/api/v1/trees/validate", headers=author.headers, json=unmapped)
        server_problems = r.json()["problems"]
        [server_missing] = [p["message"] for p in server_problems if p["code"] == "missing_script_parameter"]
        assert server_missing in missing.text_content()
        shot(page, "editor-step-script-01-missing")

        page.select_option("#f-script-param-Computer-from", "input:vda_name")
        page.select_option("#f-script-param-Service-from", "text")
        page.fill("#f-script-param-Service", "Spooler")
        missing.wait_for(state="detached")
        assert problem_count(page) == 0
        saved(page)
        shot(page, "editor-step-script-02-mapped")

        r = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers)
        assert r.json()["nodes"]["service"]["script"] == {
            "id": SCRIPT["_id"],
            "parameters": {"Computer": "{{input.vda_name}}", "Service": "Spooler"},
        }
        r = http.post(f"/api/v1/trees/{tree_id}/publish", headers=author.headers, json={})
        assert r.status_code in (200, 201), r.text
    finally:
        ctx.close()
