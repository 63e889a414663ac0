"""CouchStore against a real CouchDB-compatible server (pouchdb-server with an admin).

Each test uses freshly named databases, deleted afterwards.
"""

from __future__ import annotations

import secrets
import threading

import httpx
import pytest

from sync.couchdb import CouchStore
from sync.couchdb_ddocs import CONFLICTS_ID, VALIDATE_ID, conflicts_ddoc, install_design_docs
from sync.errors import Forbidden, NotFound, PreconditionFailed
from tests.couchdb.helpers import poll

EVENT = "session:01JD3Z8Q6V9R1W0K2M4N5P7S8T:ev:01JD3Z8Q6V9R1W0K2M4N5P7S8V"


@pytest.fixture
def tenant_db(couch_store):
    name = f"t_{secrets.token_hex(4)}_sessions"
    db = couch_store.create_db(name)
    yield db
    couch_store.delete_db(name)


def test_tenant_databases_admit_only_the_service_account(couchdb, tenant_db):
    url = f"{couchdb.url}/{tenant_db.name}"
    tenant_db.put({"_id": "doc", "secret": "client notes"})
    assert httpx.get(f"{url}/doc").status_code == 401
    assert httpx.get(f"{url}/doc", auth=("someone", "else")).status_code == 401
    assert httpx.get(f"{url}/doc", auth=couchdb.auth).json()["secret"] == "client notes"
    security = httpx.get(f"{url}/_security", auth=couchdb.auth).json()
    assert security["members"]["names"] == [couchdb.user]
    assert security["admins"]["names"] == [couchdb.user]


def test_create_twice_and_missing_databases(couch_store, tenant_db):
    with pytest.raises(PreconditionFailed) as exc:
        couch_store.create_db(tenant_db.name)
    assert exc.value.error == "file_exists"
    with pytest.raises(NotFound):
        couch_store.db(f"t_{secrets.token_hex(4)}_nothing")
    assert tenant_db.name in couch_store.list_dbs()
    assert not any(n.startswith("_") for n in couch_store.list_dbs())


def test_branchline_design_documents_stay_out_of_sync(couchdb, tenant_db):
    raw = httpx.get(f"{couchdb.url}/{tenant_db.name}/_all_docs", auth=couchdb.auth).json()
    assert CONFLICTS_ID in {r["id"] for r in raw["rows"]}
    tenant_db.put({"_id": "a"})
    assert [r["id"] for r in tenant_db.all_docs()["rows"]] == ["a"]
    assert tenant_db.all_docs()["total_rows"] == 1
    assert [r["id"] for r in tenant_db.changes()["results"]] == ["a"]
    assert tenant_db.info()["doc_count"] == 1
    with pytest.raises(NotFound):
        tenant_db.get(CONFLICTS_ID)
    res = tenant_db.bulk_docs([{"_id": CONFLICTS_ID, "views": {}}])
    assert res[0]["error"] == "forbidden"


def test_a_feed_page_emptied_of_hidden_rows_is_refilled(tenant_db):
    # The design documents were written first: a `limit=2` page from 0 must still carry
    # two user documents, or PouchDB would take the short page for the end of the feed.
    tenant_db.bulk_docs([{"_id": f"d{i}"} for i in range(3)])
    page = tenant_db.changes(since=0, limit=2)
    assert [r["id"] for r in page["results"]] == ["d0", "d1"]
    rest = tenant_db.changes(since=page["last_seq"])
    assert [r["id"] for r in rest["results"]] == ["d2"]


def test_conflicts_view_counts_documents_with_conflicts(couch_store, tenant_db):
    tenant_db.put({"_id": "x", "v": 1})
    tenant_db.bulk_docs(
        [{"_id": "x", "_rev": "1-aaa", "v": 2}, {"_id": "y", "_rev": "1-bbb"}], new_edits=False
    )
    assert tenant_db.get("x", conflicts=True)["_conflicts"]
    assert couch_store.conflicts_count(tenant_db.name) == 1


def test_upgrading_a_view_stages_then_swaps(couchdb, tenant_db):
    url = f"{couchdb.url}/{tenant_db.name}"
    live = httpx.get(f"{url}/{CONFLICTS_ID}", auth=couchdb.auth).json()
    # An older version in place (as a previous release would have left it).
    old = {
        **live,
        "branchline_version": "old",
        "views": {
            "conflicts": {
                "map": "function (doc) { if (doc._conflicts) { emit(doc._id, 0); } }",
                "reduce": "_count",
            }
        },
    }
    assert httpx.put(f"{url}/{CONFLICTS_ID}", json=old, auth=couchdb.auth).status_code == 201
    changed = install_design_docs(tenant_db, validator=False)
    assert CONFLICTS_ID in changed
    now = httpx.get(f"{url}/{CONFLICTS_ID}", auth=couchdb.auth).json()
    assert now["branchline_version"] == conflicts_ddoc()["branchline_version"]
    assert now["views"] == conflicts_ddoc()["views"]
    assert httpx.get(f"{url}/{CONFLICTS_ID}-staging", auth=couchdb.auth).status_code == 404
    assert install_design_docs(tenant_db, validator=False) == []  # unchanged: nothing to do


def test_validator_refuses_malformed_events_and_trees(couchdb, tenant_db):
    # pouchdb-server's validation layer drops replicated writes, so the store leaves the
    # validator out there; installed by hand it checks ordinary writes all the same.
    install_design_docs(tenant_db, validator=True)
    try:
        with pytest.raises(Forbidden) as exc:
            tenant_db.put({"_id": EVENT, "type": "bogus", "ts": 1, "user_id": "u"})
        assert "unknown event type" in exc.value.reason.lower()
        with pytest.raises(Forbidden):
            tenant_db.put(
                {"_id": "tree:x", "type": "tree", "schema_version": 1, "nodes": {"a": {"type": "teleport"}}}
            )
        ok = tenant_db.put(
            {
                "_id": EVENT,
                "type": "note",
                "ts": 1,
                "user_id": "u",
                "session_id": "01JD3Z8Q6V9R1W0K2M4N5P7S8T",
                "node_id": "n",
                "note_id": "1",
                "text": "fine",
            }
        )
        with pytest.raises(Forbidden):
            tenant_db.put({"_id": EVENT, "_rev": ok["rev"], "type": "note", "ts": 2, "user_id": "u"})
    finally:
        install_design_docs(tenant_db, validator=False)
    assert VALIDATE_ID not in {
        r["id"]
        for r in httpx.get(f"{couchdb.url}/{tenant_db.name}/_all_docs", auth=couchdb.auth).json()["rows"]
    }


def test_another_instances_write_wakes_this_ones_listeners(couchdb, tenant_db):
    other = CouchStore(couchdb.url, couchdb.user, couchdb.password)
    seen: list[str] = []
    woke = threading.Event()

    def listener(name, _seq):
        if name == tenant_db.name:
            seen.append(name)
            woke.set()

    try:
        other.add_listener(listener)
        other.db(tenant_db.name)  # this instance follows the database from now on
        poll(lambda: other._watcher is not None, message="watcher")

        # The follower may not have its feed open yet: write until it reports.
        def written_and_seen():
            tenant_db.put({"_id": "w-" + secrets.token_hex(4)})
            return woke.wait(0.5)

        poll(written_and_seen, timeout=15, message="a listener woken by another instance's write")
    finally:
        other.close()
