"""The compaction job of the embedded backend: every database on its first run, one failure
isolated, then the databases written since; scheduled on an interval and run by the app."""

from __future__ import annotations

import base64
from types import SimpleNamespace

from apscheduler.triggers.interval import IntervalTrigger

from api.app import create_app
from api.jobs.compaction import compact_written, compaction_job
from api.settings import Settings
from sync.embedded import EmbeddedStore
from sync.errors import NotFound
from tests.conftest import wait_until
from tests.test_app_lifespan import _in_lifespan


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_compaction_reclaims_unused_attachment_content_in_every_database_past_a_damaged_one(tmp_path):
    store = EmbeddedStore(tmp_path)
    for tid in ("aaaaaa", "bbbbbb", "cccccc"):
        db = store.create_db(f"t_{tid}_sessions")
        rev = db.put(
            {
                "_id": "a",
                "_attachments": {
                    "keep": {"content_type": "text/plain", "data": b64(b"keep " + tid.encode())},
                    "drop": {"content_type": "text/plain", "data": b64(b"drop " + tid.encode())},
                },
            }
        )["rev"]
        db.delete_attachment("a", "drop", rev=rev)
    store.close()
    (tmp_path / "dbs" / "t_bbbbbb_sessions.sqlite").write_bytes(b"not a database" * 100)
    store = EmbeddedStore(tmp_path)
    try:
        report = compact_written(store)
        assert report["databases"] == 3 and report["removed"] == 2
        assert set(report["failed"]) == {"t_bbbbbb_sessions"}
        for tid in ("aaaaaa", "cccccc"):
            assert store.db(f"t_{tid}_sessions").get_attachment("a", "keep")[0] == b"keep " + tid.encode()
        assert compact_written(store) == {"databases": 0, "removed": 0, "failed": {}}
    finally:
        store.close()


def test_compaction_is_scheduled_hourly_on_the_embedded_backend_only(tmp_path):
    store = EmbeddedStore(tmp_path)
    try:
        job = compaction_job(SimpleNamespace(store=store, settings=Settings(data_dir=tmp_path)))
        assert job is not None and job.id == "compact-databases"
        assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval_length == 3600
        off = Settings(data_dir=tmp_path, compact_interval_seconds=0)
        assert compaction_job(SimpleNamespace(store=store, settings=off)) is None
    finally:
        store.close()
    assert compaction_job(SimpleNamespace(store=object(), settings=Settings(data_dir=tmp_path))) is None


def test_the_app_compacts_written_databases_while_it_runs(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        secret_key="x" * 40,
        backup_enabled=False,
        compact_interval_seconds=1,
        scheduler_lease_seconds=0.3,
    )
    app = create_app(settings)
    store = app.state.ctx.store

    def write_then_wait() -> None:
        db = store.create_db("t_abcdef123_sessions")
        first = db.put({"_id": "note", "step": 1})["rev"]
        db.put({"_id": "note", "_rev": first, "step": 2})

        def compacted() -> bool:
            try:
                db.get("note", rev=first)
            except NotFound:
                return True
            return False

        wait_until(compacted, timeout=30, message="the scheduled compaction")

    _in_lifespan(app, write_then_wait)
