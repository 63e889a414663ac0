"""Published versions held in memory (api/trees/version_cache.py): each caller gets a copy of its
own, and a write the store reports is read again, never answered from memory."""

from __future__ import annotations

from pathlib import Path

from api.trees import version_cache
from sync.embedded import EmbeddedStore
from sync.naming import physical_name

DOCID = "treever:vpn:1"


def test_each_caller_gets_its_own_copy_and_a_rewrite_is_read_again(tmp_path: Path):
    store = EmbeddedStore(tmp_path)
    try:
        cache = version_cache.make(store)
        assert cache is not None, "the embedded store reports every write"
        db = store.create_db(physical_name("abcdef12", "trees"))
        tree = {"title": "VPN", "nodes": {"a": {"type": "end"}}}
        rev = db.put({"_id": DOCID, "version": 1, "tree": tree})["rev"]
        reads = []

        def read():
            reads.append(1)
            return db.get(DOCID)

        first = version_cache.version_doc(cache, db.name, DOCID, read)
        first["tree"]["nodes"]["a"]["type"] = "changed by a caller"
        second = version_cache.version_doc(cache, db.name, DOCID, read)
        assert second["tree"]["nodes"]["a"]["type"] == "end", "one caller's change reaches nobody else"
        assert len(reads) == 1, "the second caller was answered from memory"

        db.put({"_id": DOCID, "_rev": rev, "version": 1, "tree": {"title": "VPN fixed", "nodes": {}}})
        third = version_cache.version_doc(cache, db.name, DOCID, read)
        assert third["tree"]["title"] == "VPN fixed" and len(reads) == 2

        missing = version_cache.version_doc(cache, db.name, "treever:vpn:2", lambda: None)
        assert missing is None
    finally:
        store.close()


def test_a_large_version_is_read_from_the_store_each_time_not_kept(tmp_path: Path):
    store = EmbeddedStore(tmp_path)
    try:
        cache = version_cache.make(store)
        db = store.create_db(physical_name("abcdef13", "trees"))
        big = {"title": "Large", "nodes": {f"n{i}": {"type": "end", "body": "x" * 200} for i in range(2000)}}
        db.put({"_id": DOCID, "version": 1, "tree": big})
        reads = []

        def read():
            reads.append(1)
            return db.get(DOCID)

        for _ in range(2):
            got = version_cache.version_doc(cache, db.name, DOCID, read)
            assert got is not None and len(got["tree"]["nodes"]) == 2000
        assert len(reads) == 2, "from the store each time"
    finally:
        store.close()
