"""Per-document size limits, against a real server with the default limits (issue 15:
an engineer stored a 60 MB document in `clients`, a viewer a 60 MB `_local` document)."""

from __future__ import annotations

from tests.trees.factories import chain_tree

MB = 1024 * 1024


def _rich_tree(n: int) -> dict:
    """A tree of `n` nodes with the text a real one carries on each step (body, help, a
    command, a link): about 1.5 KB a node."""
    tree = chain_tree(n)
    for i, node in enumerate(tree["nodes"].values()):
        node["body"] = f"Step {i}: " + "Check the service, the event log and the registry key. " * 12
        node["help"] = "Why this matters: a stale value here keeps the agent from registering. " * 3
        node["commands"] = [
            {"language": "powershell", "text": f"Get-Service BrokerAgent | Restart-Service # {i}"}
        ]
        node["links"] = [{"title": "Vendor article", "url": f"https://support.example.com/article/{i}"}]
    tree["title"] = "Two thousand rich steps"
    return tree


def test_sync_refuses_an_oversized_client_document_and_says_which_limit(http, tenant):
    engineer = tenant.add_user("engineer")
    big = {"type": "client", "schema_version": 1, "name": "Acme", "notes": "x" * (2 * MB)}
    r = http.put(f"/sync/{tenant.id}/clients/client:huge", headers=engineer.headers, json=big)
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["error"] == "too_large"
    assert "clients" in body["reason"] and "1.0 MB" in body["reason"]
    assert "BRANCHLINE_MAX_DOC_BYTES_CLIENTS" in body["reason"]
    assert http.get(f"/sync/{tenant.id}/clients/client:huge", headers=engineer.headers).status_code == 404
    # A client context of normal size is still stored.
    small = {"type": "client", "schema_version": 1, "name": "Acme", "notes": "VPN via FortiClient"}
    assert (
        http.put(f"/sync/{tenant.id}/clients/client:acme", headers=engineer.headers, json=small).status_code
        == 201
    )


def test_sync_refuses_an_oversized_local_document_from_a_viewer(http, tenant):
    viewer = tenant.add_user("viewer")
    r = http.put(
        f"/sync/{tenant.id}/trees/_local/checkpoint",
        headers=viewer.headers,
        json={"last_seq": "1", "padding": "y" * (200 * 1024)},
    )
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "too_large"
    assert "_local" in r.json()["reason"] and "BRANCHLINE_MAX_LOCAL_DOC_BYTES" in r.json()["reason"]
    # A replication checkpoint of the usual size is fine.
    r = http.put(
        f"/sync/{tenant.id}/trees/_local/checkpoint",
        headers=viewer.headers,
        json={"session_id": "abc", "last_seq": "12", "history": [{"last_seq": "12", "session_id": "abc"}]},
    )
    assert r.status_code == 201, r.text


def test_bulk_docs_refuses_only_the_oversized_document(http, tenant):
    engineer = tenant.add_user("engineer")
    docs = [
        {"_id": "client:big", "type": "client", "name": "Big", "blob": "z" * (2 * MB)},
        {"_id": "client:fine", "type": "client", "name": "Fine"},
    ]
    r = http.post(f"/sync/{tenant.id}/clients/_bulk_docs", headers=engineer.headers, json={"docs": docs})
    assert r.status_code == 201, r.text
    results = {row["id"]: row for row in r.json()}
    assert results["client:big"]["error"] == "too_large"
    assert "ok" in results["client:fine"] or "rev" in results["client:fine"]
    assert http.get(f"/sync/{tenant.id}/clients/client:big", headers=engineer.headers).status_code == 404
    assert http.get(f"/sync/{tenant.id}/clients/client:fine", headers=engineer.headers).status_code == 200


def test_a_tree_of_two_thousand_rich_nodes_still_fits(http, tenant):
    author = tenant.add_user("author")
    tree = _rich_tree(2000)
    r = http.post("/api/v1/trees", headers=author.headers, json=tree)
    assert r.status_code == 201, r.text
    # And through sync, as the PWA's editor replicates it.
    tree["_id"] = "tree:rich-sync"
    r = http.put(f"/sync/{tenant.id}/trees/tree:rich-sync", headers=author.headers, json=tree)
    assert r.status_code == 201, r.text


def test_api_writes_follow_the_same_limit(http, tenant):
    """A tree within every field limit but over the trees database's 8 MB is refused by the
    API as by sync (CouchDB's own default document limit is 8 MB too)."""
    author = tenant.add_user("author")
    tree = _rich_tree(2000)
    for node in tree["nodes"].values():
        node["body"] = "Long pasted transcript. " * 180
    tree["title"] = "Too big"
    r = http.post("/api/v1/trees", headers=author.headers, json=tree)
    assert r.status_code == 413, r.text[:300]
    assert r.json()["error"] == "too_large"
    listed = http.get("/api/v1/trees", headers=author.headers, params={"q": "Too big"}).json()["items"]
    assert not [t for t in listed if t.get("title") == "Too big"]
