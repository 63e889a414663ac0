"""The nightly attachment compaction of the embedded backend: every database, one failure isolated."""
from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest

from api.jobs.compaction import compact_all, compaction_job
from api.settings import Settings, SettingsError
from sync.embedded import EmbeddedStore


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_compaction_reclaims_unused_attachment_content_in_every_database_past_a_damaged_one(tmp_path):
    store = EmbeddedStore(tmp_path)
    for tid in ("aaaaaa", "bbbbbb", "cccccc"):
        db = store.create_db(f"t_{tid}_sessions")
        rev = db.put({"_id": "a", "_attachments": {
            "keep": {"content_type": "text/plain", "data": b64(b"keep " + tid.encode())},
            "drop": {"content_type": "text/plain", "data": b64(b"drop " + tid.encode())}}})["rev"]
        db.delete_attachment("a", "drop", rev=rev)
    store.close()
    (tmp_path / "dbs" / "t_bbbbbb_sessions.sqlite").write_bytes(b"not a database" * 100)
    store = EmbeddedStore(tmp_path)
    try:
        report = compact_all(store)
        assert report["removed"] == 2 and set(report["failed"]) == {"t_bbbbbb_sessions"}
        for tid in ("aaaaaa", "cccccc"):
            assert store.db(f"t_{tid}_sessions").get_attachment("a", "keep")[0] == b"keep " + tid.encode()
        assert compact_all(store)["removed"] == 0
    finally:
        store.close()


def test_compaction_is_scheduled_on_the_embedded_backend_only(tmp_path):
    store = EmbeddedStore(tmp_path)
    try:
        job = compaction_job(SimpleNamespace(store=store, settings=Settings(data_dir=tmp_path)))
        assert job is not None and job.id == "compact-attachments"
    finally:
        store.close()
    assert compaction_job(SimpleNamespace(store=object(), settings=Settings(data_dir=tmp_path))) is None
    with pytest.raises(SettingsError, match="BRANCHLINE_COMPACT_CRON"):
        Settings(data_dir=tmp_path, compact_cron="nightly")
