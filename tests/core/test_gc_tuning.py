"""A running app has its start-up objects set aside from the collector and the wider
thresholds (api/core/gc_tuning.py), set once per process however many apps start."""

from __future__ import annotations

import gc

from api.app import create_app
from api.core import gc_tuning
from api.settings import Settings
from tests.conftest import run_async


def test_a_started_app_leaves_its_startup_objects_to_reference_counting(tmp_path) -> None:
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40, backup_enabled=False))

    async def inside() -> None:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == (
                gc_tuning.YOUNG_THRESHOLD,
                gc_tuning.MIDDLE_THRESHOLD,
                gc_tuning.OLD_THRESHOLD,
            )
            assert gc.get_freeze_count() > 10_000  # the code and the app built at start-up
            assert gc_tuning.tune_after_startup() is False  # once per process

    run_async(inside())
