"""View indexes persist in a side SQLite file per database, on the embedded backend: after
a restart a view answers from its index (`update=false` reads it without mapping anything).
The index files are private to the service user."""

from __future__ import annotations

from sync.embedded import EmbeddedStore
from sync.js.views import Views


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


def test_two_processes_building_one_view_index_never_write_an_older_page(tmp_path):
    """Server processes on one data folder share a database's view index file. A process
    whose page of changes was read before another process indexed newer bodies must not
    write its older rows over them (nor move the index's seq back)."""
    store = EmbeddedStore(tmp_path / "data")
    db = store.create_db("t_views_race")
    db.put({"_id": "d1", "n": 1})
    ddoc = {"_id": "_design/app", "views": {"n": {"map": "function (doc) { emit(doc.n, null); }"}}}
    folder = tmp_path / "views"
    mine, other = Views(lambda: folder), Views(lambda: folder)

    class PageReadEarly:
        """The database as process A sees it: right after A read its page, B indexes a newer body."""

        def __init__(self) -> None:
            self.raced = False

        def __getattr__(self, name: str):
            return getattr(db, name)

        def changes(self, **kwargs):
            page = db.changes(**kwargs)
            if not self.raced:
                self.raced = True
                db.put({**db.get("d1"), "n": 2})
                other.refresh(db, ddoc)
            return page

    seq = mine.refresh(PageReadEarly(), ddoc)  # type: ignore[arg-type]
    conn = Views(lambda: folder)._index("t_views_race").conn  # a third look at the file
    assert conn.execute("SELECT key FROM rows WHERE docid = 'd1'").fetchall() == [("2",)]
    assert seq == db.update_seq
    assert conn.execute("SELECT seq FROM indexes").fetchone()[0] == str(db.update_seq)
