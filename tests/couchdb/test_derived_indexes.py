"""Derived indexes on two instances: each follows CouchDB's `_changes` into its own index.

The tree library's search index (and the usage counts beside it) is per instance, in its
data folder, fed from the feeds of the shared CouchDB. A tree published through one
instance is found by a search on the other, and an edit made there reaches the first.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.conftest import ServerProcess, Tenant
from tests.sessions.test_sessions_api import publish_tree, start
from tests.trees.factories import valid_tree


@pytest.fixture(scope="module")
def pair(couchdb, tmp_path_factory):
    env = {**couchdb.env(), "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40)}
    a = ServerProcess(tmp_path_factory.mktemp("index-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("index-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def search(http: httpx.Client, tenant: Tenant, **params: str) -> list[dict]:
    r = http.get("/api/v1/trees", headers=tenant.headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_tree_published_through_one_instance_is_found_by_a_search_on_the_other(pair):
    a, b = pair
    with (
        httpx.Client(base_url=a.url, timeout=30) as http_a,
        httpx.Client(base_url=b.url, timeout=30) as http_b,
    ):
        tenant = Tenant(http_a)
        word, other_word = f"quokka{secrets.token_hex(3)}", f"wombat{secrets.token_hex(3)}"
        # Both instances have built their index and are current before the tree exists.
        assert search(http_a, tenant, q=word) == [] and search(http_b, tenant, q=word) == []

        tree = valid_tree()
        tree.update(_id="tree:spooler", title=f"Print spooler {word} stalls", tags=["printing"])
        tree_id = publish_tree(http_a, tenant, tree)
        found = search(http_b, tenant, q=word)
        assert [t["id"] for t in found] == [tree_id], found
        assert found[0]["latest_version"] == 1 and found[0]["tags"] == ["printing"]

        # Retitled and republished through B: A's search finds the new title, not the old one.
        draft = http_b.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()
        draft["title"] = f"Print spooler {other_word} stalls"
        saved = http_b.put(f"/api/v1/trees/{tree_id}", headers=tenant.headers, json=draft)
        assert saved.status_code == 200, saved.text
        published = http_b.post(
            f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={"change_note": "v2"}
        )
        assert published.status_code in (200, 201), published.text
        assert [t["id"] for t in search(http_a, tenant, q=other_word)] == [tree_id]
        assert search(http_a, tenant, q=word) == []
        assert search(http_a, tenant, q=other_word)[0]["latest_version"] == 2

        # Usage counts come from the sessions feed: a session started on A counts on B.
        start(http_a, tenant, tree_id, title="usage on the other instance")
        assert search(http_b, tenant, q=other_word)[0]["usage"] == 1
