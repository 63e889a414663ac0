"""View indexes persist in a side SQLite file per database, on the embedded backend: after
a restart a view answers from its index (`update=false` reads it without mapping anything).
The index files are private to the service user."""

from __future__ import annotations


def test_a_view_index_survives_a_restart(sync_server, client, db):
    docs = [{"_id": f"d{i}", "n": i} for i in range(5)]
    assert client.post(f"{db}/_bulk_docs", json={"docs": docs}).status_code == 201
    assert (
        client.put(
            f"{db}/_design/app",
            json={"views": {"n": {"map": "function (doc) { emit(doc.n, null); }", "reduce": "_count"}}},
        ).status_code
        == 201
    )
    assert client.get(f"{db}/_design/app/_view/n").json()["rows"] == [{"key": None, "value": 5}]
    index_files = [p for p in (sync_server.data_dir / "views").iterdir() if p.name.endswith(f"{db}.sqlite")]
    assert index_files
    # Private to the service user, as the databases are.
    assert [p.stat().st_mode & 0o777 for p in index_files] == [0o600]
    assert (sync_server.data_dir / "views").stat().st_mode & 0o777 == 0o700
    sync_server.stop()
    sync_server.start()
    r = client.get(f"{db}/_design/app/_view/n", params={"update": "false"})
    assert r.status_code == 200 and r.json()["rows"] == [{"key": None, "value": 5}]
    # Deleting the database drops its index with it.
    assert client.delete(db).status_code == 200
    assert not [p for p in (sync_server.data_dir / "views").iterdir() if p.name.endswith(f"{db}.sqlite")]
    assert client.put(db).status_code == 201
