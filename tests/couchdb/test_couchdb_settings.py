"""Settings of the couchdb backend fail fast with a message that says what to set."""

from __future__ import annotations

import pytest

from api.settings import Settings, SettingsError


def test_couchdb_backend_needs_a_url_and_a_shared_secret(tmp_path):
    with pytest.raises(SettingsError, match="BRANCHLINE_COUCHDB_URL"):
        Settings(backend="couchdb", data_dir=tmp_path, secret_key="k" * 40)
    with pytest.raises(SettingsError, match="same on every instance"):
        Settings(backend="couchdb", couchdb_url="http://couchdb:5984", data_dir=tmp_path)
    ok = Settings(
        backend="couchdb", couchdb_url="http://couchdb:5984", data_dir=tmp_path, secret_key="k" * 40
    )
    assert ok.backend == "couchdb"


def test_backup_schedule_must_be_a_crontab(tmp_path):
    with pytest.raises(SettingsError, match="BRANCHLINE_BACKUP_CRON"):
        Settings(data_dir=tmp_path, backup_cron="every night")
    assert Settings(data_dir=tmp_path).resolved_backup_dir() == tmp_path / "backups"
