"""A `since` this database never reached (embedded backend): the client read another history
of it (restored from a backup, its last commits lost to a power cut, or deleted and created
again). As CouchDB does with a seq from a history it does not know, the feed starts over:
otherwise the client would skip every document the database is given until its seqs pass the
client's checkpoint, and devices keep their checkpoints to themselves (api/sync_history.py).

Embedded only: on the couchdb backend CouchDB's own seqs carry their history."""

from __future__ import annotations

import uuid


def test_a_since_past_the_end_reads_the_database_from_the_beginning(client):
    name = "db-" + uuid.uuid4().hex[:12]
    assert client.put(name).status_code == 201
    try:
        client.post(f"{name}/_bulk_docs", json={"docs": [{"_id": f"d{i}", "i": i} for i in range(3)]})
        end = client.get(name).json()["update_seq"]
        body = client.get(f"{name}/_changes", params={"since": end + 50}).json()
        assert [r["id"] for r in body["results"]] == ["d0", "d1", "d2"]
        assert body["last_seq"] == end
        # A longpoll answers them at once: waiting for seq end + 51 would be waiting for ever.
        feed = client.get(
            f"{name}/_changes", params={"since": end + 50, "feed": "longpoll", "timeout": 20000}
        ).json()
        assert [r["id"] for r in feed["results"]] == ["d0", "d1", "d2"]
        # At the end itself, nothing is new: the feed still waits, and times out empty.
        params = {"since": end, "feed": "longpoll", "timeout": 300}
        quiet = client.get(f"{name}/_changes", params=params).json()
        assert quiet["results"] == [] and quiet["last_seq"] == end
    finally:
        client.delete(name)


def test_the_store_itself_answers_a_since_past_its_end_from_the_beginning(store):
    store.create_db("notes")
    db = store.db("notes")
    for i in range(4):
        db.put({"_id": f"n{i}"})
    res = db.changes(since=db.update_seq + 1)
    assert [r["id"] for r in res["results"]] == ["n0", "n1", "n2", "n3"]
    assert db.changes(since=db.update_seq)["results"] == []
