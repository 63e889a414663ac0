"""Conformance: the real PouchDB client (Node, memory adapter) replicating with our server.

Each test runs one script under tests/node (see its header for the scenario) against a
fresh database and asserts on what the script reports and on the server's own answers.
Needs `npm ci --prefix tests/node`.
"""

from __future__ import annotations

import httpx
from app_for_tests import ADMIN

BASIC = {"basic": list(ADMIN)}


def db_url(sync_server, db):
    return f"{sync_server.tenant_url()}/{db}"


def test_push_and_pull_1000_documents(sync_server, db, node, client):
    out = node("push_pull.js", {"url": db_url(sync_server, db), "auth": BASIC, "n": 1000})
    assert out["push_ok"] and out["pull_ok"]
    assert out["push_written"] == 1000 and out["pull_written"] == 1000
    assert out["server_doc_count"] == 1000 and out["client_b_count"] == 1000
    assert out["identical"], "the pulled documents differ from the pushed ones"
    assert out["second_pull_written"] == 0, "a repeated pull re-sent documents: checkpoint lost"
    assert client.get(f"{db}/doc-000999").json()["n"] == 999


def test_push_and_pull_with_a_bearer_token(sync_server, db, node):
    out = node("push_pull.js", {"url": db_url(sync_server, db), "auth": {"bearer": "token-admin-a"}, "n": 50})
    assert out["push_written"] == 50 and out["identical"]


def test_live_two_way_sync(sync_server, db, node):
    out = node("live_sync.js", {"url": db_url(sync_server, db), "auth": BASIC})
    assert out["b_text"] == "from A"
    assert out["deletion_reached_b"] is True
    assert out["converged_docs"] == 100
    # Longpoll wakes on the write: far below PouchDB's 10 s heartbeat.
    assert out["a_to_b_ms"] < 5000 and out["b_to_a_ms"] < 5000, out
    assert out["errors"] == []


def test_offline_edits_on_two_clients_converge_like_pouchdb_server(sync_server, db, node, pouchdb_server):
    ref = f"{pouchdb_server.url}/ref-{db}"
    out = node("conflicts.js", {"url": db_url(sync_server, db), "auth": BASIC, "ref": ref})
    for docid, views in out.items():
        ours, reference, a, b = views["ours"], views["ref"], views["a"], views["b"]
        assert ours["winner"] == reference["winner"], f"{docid}: winner differs from pouchdb-server"
        assert a["winner"] == b["winner"] == ours["winner"], f"{docid}: replicas disagree"
        assert ours["conflicts"] == reference["conflicts"] == a["conflicts"] == b["conflicts"], docid
        if docid == "delete-vs-edit":
            # The deleted branch is not a conflict; the edit wins.
            assert ours["body"]["text"].startswith("B")
            assert ours["conflicts"] == []
            continue
        assert ours["conflicts"], f"{docid}: the losing revision is not in _conflicts"
        texts = sorted(d["text"][0] for d in ours["open_revs"])
        assert texts == ["A", "B"], f"{docid}: open_revs=all does not return both bodies"
        assert sorted(d["_rev"] for d in ours["open_revs"]) == sorted([ours["winner"], *ours["conflicts"]])
    assert out["deeper"]["ours"]["body"]["text"] == "B #3"


def test_deletions_and_recreations(sync_server, db, node):
    out = node("delete_recreate.js", {"url": db_url(sync_server, db), "auth": BASIC})
    assert out["server_after_delete"] == {"error": "not_found", "reason": "deleted"}
    assert out["b_after_delete"] == "deleted"
    assert out["server_after_recreate"]["v"] == 2
    assert int(out["server_after_recreate"]["_rev"].split("-")[0]) == 3
    assert out["a_after_recreate"]["v"] == 2
    assert out["a_after_server_delete"] == "deleted"
    assert out["a_after_server_recreate"]["v"] == 3
    rows = [r for r in out["changes"]["results"] if r["id"] == "doc"]
    assert len(rows) == 1 and "deleted" not in rows[0]


def test_attachments_both_ways(sync_server, db, node):
    out = node("attachments.js", {"url": db_url(sync_server, db), "auth": BASIC})
    assert out["server_bytes_equal"] is True
    assert out["server_content_type"] == "image/png"
    assert out["put_status"] == 201
    assert out["client_png_equal"] is True and out["client_log_equal"] is True
    assert out["client_types"] == {"screen.png": "image/png", "log.txt": "text/plain"}
    assert out["server_after_remove"] == 404
    assert out["server_still_has_log"] == 200


def test_stemming_with_a_small_revs_limit(sync_server, db, node, client):
    out = node("stemming.js", {"url": db_url(sync_server, db), "auth": BASIC, "limit": 5, "edits": 20})
    assert out["stored_revisions"]["start"] == 20
    assert len(out["stored_revisions"]["ids"]) <= 5
    assert out["server_rev"] == out["client_rev"] and out["server_rev"].startswith("21-")
    assert out["server_conflicts"] == [], "stemmed history did not join up: spurious conflict"
    assert len(out["after_revisions"]["ids"]) <= 5
    assert out["pulled_rev"] == out["server_rev"] and out["pulled_n"] == 20
    assert client.get(f"{db}/_revs_limit").json() == 5


def test_server_welcome_uuid_names_the_checkpoint(sync_server, db, node, client):
    """PouchDB derives its replication id from the server uuid: a stable uuid means a
    second replication resumes from the checkpoint instead of starting over."""
    node("push_pull.js", {"url": db_url(sync_server, db), "auth": BASIC, "n": 10})
    r = httpx.get(f"{sync_server.tenant_url()}/{db}/_all_docs", auth=ADMIN)
    assert r.json()["total_rows"] == 10
    uuid = client.get("").json()["uuid"]
    assert uuid == client.get("").json()["uuid"]


def test_filtered_replication_doc_ids_and_selector(sync_server, db, node):
    out = node("filtered.js", {"url": db_url(sync_server, db), "auth": BASIC})
    assert out["doc_ids"] == ["item-01", "item-07", "item-29"]
    assert out["selector"] == [f"item-{i:02d}" for i in range(0, 30, 3)]
    # A filter of a design document that does not exist: PouchDB gets CouchDB's 404 (with
    # the design document, the filter runs: see test_couch_js_filters), the server lives on.
    assert out["ddoc_error"] is not None and out["ddoc_error"]["status"] == 404, out["ddoc_error"]
    assert out["server_alive"] == 30
