"""GET /api/v1/trees/{id}/checklist over HTTP: the printable page and its layout, for every
role that reads trees; 404 for a tree never published; another tenant's tree is not found."""

from __future__ import annotations

from tests.sessions.test_sessions_api import publish_tree
from tests.trees.factories import valid_tree


def test_the_checklist_of_a_published_tree_as_html_and_json(http, tenant):
    tree_id = publish_tree(http, tenant)
    viewer = tenant.add_user("viewer")
    r = http.get(f"/api/v1/trees/{tree_id}/checklist", headers=viewer.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src" not in r.headers["content-security-policy"]
    assert "break-before: page" in r.text and "Citrix VDA Not Registering" in r.text
    assert "Checklist, version 1" in r.text

    layout = http.get(
        f"/api/v1/trees/{tree_id}/checklist", headers=viewer.headers, params={"format": "json", "version": 1}
    ).json()
    assert layout["tree_id"] == tree_id and layout["version"] == 1
    steps = [s for p in layout["pages"] for s in p["steps"]]
    # Every step of the tree printed once, numbered 1..n in page order.
    assert [s["number"] for s in steps] == list(range(1, len(steps) + 1))
    assert sorted(s["node_id"] for s in steps) == sorted(valid_tree()["nodes"])
    assert layout["pages"][0]["title"] == "Start" and len(layout["pages"]) >= 2
    # Every answer names a printed step.
    numbers = {s["number"] for s in steps}
    assert all(a["to"]["step"] in numbers for s in steps for a in s["answers"])


def test_unpublished_unknown_and_bad_requests(http, tenant, make_tenant):
    r = http.post("/api/v1/trees", headers=tenant.headers, json=valid_tree())
    draft_id = r.json()["id"]
    r = http.get(f"/api/v1/trees/{draft_id}/checklist", headers=tenant.headers)
    assert r.status_code == 404 and "publish it first" in r.json()["reason"]
    tree_id = publish_tree(http, make_tenant())
    assert http.get(f"/api/v1/trees/{tree_id}/checklist", headers=tenant.headers).status_code == 404
    r = http.get(f"/api/v1/trees/{draft_id}/checklist", headers=tenant.headers, params={"format": "pdf"})
    assert r.status_code == 400 and "format" in r.text
    assert http.get(f"/api/v1/trees/{draft_id}/checklist").status_code == 401
