"""The PSA worker wakes on a team's session writes only when the team has a connector that
pushes completed sessions on its own. Every step of every engineer is a session write; a
wake for a team with nothing to push cost the busy server a tenth of its steps per second
(benchmarks/load_team.py --closed-loop)."""

from __future__ import annotations

from pathlib import Path

from api.core.context import AppContext
from api.integrations import repository as repo
from api.integrations.service import save_config
from api.integrations.worker import PsaWorker
from api.settings import Settings
from sync.access import Principal
from sync.naming import physical_name

TENANT = "abcdef123456"


def test_only_a_team_with_auto_push_wakes_the_worker_on_its_session_writes(tmp_path: Path):
    ctx = AppContext.create(Settings(data_dir=tmp_path, secret_key="k" * 40, webhook_allow_private=True))
    admin = Principal(tenant_id=TENANT, user_id="admin1", role="owner")

    def configure(auto_push: bool) -> None:
        body = {
            "site_url": "https://127.0.0.1:9",
            "company_id": "contoso",
            "public_key": "pub",
            "private_key": "priv",
            "client_id": "00000000-0000-0000-0000-000000000000",
            "board": "Service Desk",
            "status": "New",
            "company": "Contoso",
            "auto_push": auto_push,
        }
        save_config(ctx, admin, "connectwise", body)

    try:
        worker = PsaWorker(ctx, "test-instance")
        sessions = physical_name(TENANT, "sessions")
        ctx.store.create_db(sessions)

        assert worker.run_tenant(TENANT) is None  # no connector at all
        worker._wake.clear()
        worker._on_write(sessions)
        assert not worker._wake.is_set()

        configure(auto_push=False)
        worker._on_write(physical_name(TENANT, repo.DB_NAME))  # a connector's settings: wakes
        assert worker._wake.is_set()
        worker.run_tenant(TENANT)
        worker._wake.clear()
        worker._on_write(sessions)
        assert not worker._wake.is_set()  # a connector that only pushes when asked

        configure(auto_push=True)
        worker.run_tenant(TENANT)
        worker._wake.clear()
        worker._on_write(sessions)
        assert worker._wake.is_set()  # a completion there must reach the PSA promptly

        configure(auto_push=False)
        worker.run_tenant(TENANT)
        worker._wake.clear()
        worker._on_write(sessions)
        assert not worker._wake.is_set()
    finally:
        ctx.store.close()
