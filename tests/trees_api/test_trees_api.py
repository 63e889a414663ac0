"""Trees over the API: drafts with `_rev`, publishing, versions, archive, import/export, library."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import ROOT

SEED = json.loads((ROOT / "seeds/trees/citrix-vda-registration.json").read_text())


def small_tree(title: str = "Printer offline", **extra) -> dict:
    return {
        "type": "tree",
        "schema_version": 1,
        "title": title,
        "description": "Printer shows offline.",
        "category": "Printing",
        "tags": ["printer", "spooler"],
        "start": "scope",
        "nodes": {
            "scope": {
                "type": "question",
                "title": "Is only one user affected?",
                "next": {"yes": "restart", "no": "escalate"},
                "log": {"yes": "Scoped to one user.", "no": "Several users affected."},
            },
            "restart": {
                "type": "action",
                "title": "Restart the spooler",
                "commands": [{"language": "powershell", "text": "Restart-Service Spooler"}],
                "next": {"done": "fixed", "failed": "escalate"},
                "log": {"done": "Restarted the spooler.", "failed": "The spooler would not restart."},
            },
            "fixed": {
                "type": "resolution",
                "outcome": "resolved",
                "title": "Printing again",
                "summary": "Spooler restart fixed printing; test page printed.",
                "root_cause": "Stuck spooler.",
                "handover": None,
            },
            "escalate": {
                "type": "resolution",
                "outcome": "escalated",
                "title": "Escalated",
                "summary": "Escalated to the print team.",
                "handover": "Spooler logs attached.",
            },
        },
        **extra,
    }


def test_create_edit_with_rev_and_stale_rev_is_409(http, tenant):
    author = tenant.add_user("author")
    r = http.post("/api/v1/trees", headers=author.headers, json=small_tree())
    assert r.status_code == 201, r.text
    tree_id, rev = r.json()["id"], r.json()["rev"]
    assert tree_id == "tree:printer-offline"
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
    assert draft["_rev"] == rev and draft["title"] == "Printer offline"
    draft["title"] = "Printer shows offline"
    r = http.put(f"/api/v1/trees/{tree_id}", headers=author.headers, json=draft)
    assert r.status_code == 200, r.text
    # The same stale _rev again: refused, and the first edit is kept.
    draft["title"] = "Overwrite attempt"
    r = http.put(f"/api/v1/trees/{tree_id}", headers=author.headers, json=draft)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert (
        http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()["title"]
        == "Printer shows offline"
    )
    # A second tree with the same title gets its own id.
    assert (
        http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]
        == "tree:printer-offline-2"
    )


def test_drafts_may_be_invalid_but_not_garbage(http, tenant):
    incomplete = small_tree()
    incomplete["nodes"]["restart"]["next"]["done"] = "nowhere"
    r = http.post("/api/v1/trees", headers=tenant.headers, json=incomplete)
    assert r.status_code == 201
    garbage = small_tree()
    garbage["nodes"]["scope"]["nxt"] = {}
    r = http.post("/api/v1/trees", headers=tenant.headers, json=garbage)
    assert r.status_code == 400 and "nxt" in r.text
    r = http.post("/api/v1/trees", headers=tenant.headers, json=[1, 2])
    assert r.status_code == 400


def test_publish_requires_a_valid_tree_and_lists_every_problem(http, tenant):
    broken = small_tree(title="Broken")
    broken["nodes"]["restart"]["next"]["done"] = "nowhere"
    broken["nodes"]["scope"]["log"]["no"] = ""
    tree_id = http.post("/api/v1/trees", headers=tenant.headers, json=broken).json()["id"]
    r = http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={"change_note": "first"})
    assert r.status_code == 422, r.text
    codes = {(p["node_id"], p["code"]) for p in r.json()["details"]}
    assert ("restart", "dangling_next") in codes and ("scope", "empty_log") in codes
    v = http.post("/api/v1/trees/validate", headers=tenant.headers, json=broken).json()
    assert v["valid"] is False and {(p["node_id"], p["code"]) for p in v["problems"]} == codes
    assert http.get(f"/api/v1/trees/{tree_id}/versions", headers=tenant.headers).json()["items"] == []


def test_versions_are_immutable_copies_and_sessions_can_read_archived_ones(http, tenant):
    tree_id = http.post("/api/v1/trees", headers=tenant.headers, json=small_tree(title="Versioned")).json()[
        "id"
    ]
    r = http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={"change_note": "v1"})
    assert r.status_code == 201 and r.json()["version"] == 1
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()
    draft["nodes"]["fixed"]["summary"] = "Spooler restart fixed it; verified with a test page."
    http.put(f"/api/v1/trees/{tree_id}", headers=tenant.headers, json=draft)
    assert (
        http.post(
            f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={"change_note": "v2"}
        ).json()["version"]
        == 2
    )
    versions = http.get(f"/api/v1/trees/{tree_id}/versions", headers=tenant.headers).json()["items"]
    assert [(v["version"], v["change_note"]) for v in versions] == [(2, "v2"), (1, "v1")]
    v1 = http.get(f"/api/v1/trees/{tree_id}/versions/1", headers=tenant.headers).json()
    assert v1["tree"]["nodes"]["fixed"]["summary"] == "Spooler restart fixed printing; test page printed."
    # Version documents cannot be edited through sync by anyone.
    sync = tenant.me["sync"]["databases"]["trees"]
    r = http.put(
        f"{sync}/treever:versioned:1", headers=tenant.headers, json={**v1, "change_note": "rewritten"}
    )
    assert r.status_code in (403, 409)
    # Archive: gone from the library, versions still readable.
    assert http.delete(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()["archived"] is True
    listed = [t["id"] for t in http.get("/api/v1/trees", headers=tenant.headers).json()["items"]]
    assert tree_id not in listed
    assert tree_id in [
        t["id"]
        for t in http.get(
            "/api/v1/trees", headers=tenant.headers, params={"include_archived": "true"}
        ).json()["items"]
    ]
    assert http.get(f"/api/v1/trees/{tree_id}/versions/2", headers=tenant.headers).status_code == 200


def test_engineers_and_viewers_cannot_write_trees(http, tenant):
    for role in ("engineer", "viewer"):
        m = tenant.add_user(role)
        assert http.post("/api/v1/trees", headers=m.headers, json=small_tree()).status_code == 403
        assert http.get("/api/v1/trees", headers=m.headers).status_code == 200


def test_export_then_import_round_trips_exactly(http, make_tenant):
    a, b = make_tenant(), make_tenant()
    seed = copy.deepcopy(SEED)
    r = http.post("/api/v1/trees/import", headers=a.headers, json=seed)
    assert r.status_code == 201, r.text
    exported = http.get(f"/api/v1/trees/{seed['_id']}/export", headers=a.headers)
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.json() == seed
    r = http.post("/api/v1/trees/import", headers=b.headers, json=exported.json())
    assert r.status_code == 201
    again = http.get(f"/api/v1/trees/{seed['_id']}/export", headers=b.headers).json()
    assert again == exported.json()
    # Importing over an existing id needs an explicit replace.
    assert http.post("/api/v1/trees/import", headers=b.headers, json=exported.json()).status_code == 409
    assert (
        http.post(
            "/api/v1/trees/import", headers=b.headers, params={"replace": "true"}, json=exported.json()
        ).status_code
        == 201
    )


def test_library_filters_sorts_and_searches(http, make_tenant):
    t = make_tenant()
    specs = [
        ("Zebra printer jams", "Printing", ["printer"]),
        ("Azure AD sync stalled", "Identity", ["entra"]),
        ("Mailbox full", "Microsoft 365", ["exchange", "mailbox"]),
    ]
    for title, category, tags in specs:
        body = small_tree(title=title)
        body.update(category=category, tags=tags)
        assert http.post("/api/v1/trees", headers=t.headers, json=body).status_code == 201
    get = lambda **p: http.get("/api/v1/trees", headers=t.headers, params=p).json()["items"]  # noqa: E731
    assert [x["title"] for x in get(sort="name")] == [
        "Azure AD sync stalled",
        "Mailbox full",
        "Zebra printer jams",
    ]
    assert [x["title"] for x in get(category="identity")] == ["Azure AD sync stalled"]
    assert [x["title"] for x in get(tag="Mailbox")] == ["Mailbox full"]
    # Search is ranked: a title match beats a match only in node text.
    hits = get(q="mailbox")
    assert hits[0]["title"] == "Mailbox full"
    assert [x["title"] for x in get(q="spool")] != []  # node text ("Restart the spooler") is searched
    assert get(q="nonexistentword") == []
    assert get(q="zeb")[0]["title"] == "Zebra printer jams"  # prefixes match while typing
    cats = http.get("/api/v1/trees/categories", headers=t.headers).json()["items"]
    assert {c["category"] for c in cats} == {"Printing", "Identity", "Microsoft 365"}
    # Paging with a cursor walks the whole list once.
    seen, cursor = [], None
    while True:
        page = http.get(
            "/api/v1/trees",
            headers=t.headers,
            params={"limit": 2, "sort": "name", **({"cursor": cursor} if cursor else {})},
        ).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 3 == len(set(seen))


def test_library_search_sees_a_new_tree_immediately(http, tenant):
    http.post("/api/v1/trees", headers=tenant.headers, json=small_tree(title="Quokka scanner fails"))
    assert [
        x["title"]
        for x in http.get("/api/v1/trees", headers=tenant.headers, params={"q": "quokka"}).json()["items"]
    ] == ["Quokka scanner fails"]


@pytest.mark.parametrize(
    "bad", ["/api/v1/trees/..%2Fx", "/api/v1/trees/tree:NOPE", "/api/v1/trees/tree:missing"]
)
def test_missing_trees_answer_404(http, tenant, bad):
    r = http.get(bad, headers=tenant.headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
