"""The application's composition root and lifespan: built in one place, every background
worker started with the app and stopped with it."""

from __future__ import annotations

import base64
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from api.app import create_app
from api.settings import Settings
from tests.conftest import wait_until

# A 1x1 PNG: enough for the PDF image pool to start preparing it.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _ours(before: set[threading.Thread]) -> list[str]:
    """Threads started since `before` that are the app's, not the test runner's."""
    return sorted(
        t.name
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.name.startswith("AnyIO worker")
    )


def _in_lifespan(app, inside) -> None:
    async def go() -> None:
        async with app.router.lifespan_context(app):
            await anyio.to_thread.run_sync(inside)

    # A thread of its own: the browser tests keep an event loop running in the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, go).result()


def test_after_shutdown_no_worker_thread_or_process_of_ours_is_alive(tmp_path):
    from api.exports.formats import close_image_pool, warm_image
    from api.exports.sandbox import pool_for

    # An export test earlier in this process (a pytest-xdist worker runs many files) may have
    # started the PDF image pool outside any app: this test must see this app start its own.
    close_image_pool()
    before = set(threading.enumerate())
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40, backup_enabled=True))
    ctx = app.state.ctx
    seen: list[str] = []

    def use_every_worker() -> None:
        # A write to a sessions database wakes the header merger; an image warms the PDF
        # pool; a tenant template render starts a sandbox worker process.
        db = ctx.store.create_db("t_abcdef123_sessions")
        db.put({"_id": "session:01", "type": "session"})
        warm_image(PNG)
        assert pool_for(ctx).render("html", "<p>{{ 1 + 1 }}</p>", {}, tenant_id="abcdef123") == "<p>2</p>"
        wait_until(lambda: "session-header-merger" in _ours(before), message="the header merger running")
        seen.extend(_ours(before))

    _in_lifespan(app, use_every_worker)
    # The merger, the PDF image pool and the scheduled jobs' thread at least were running.
    assert any(name.startswith("pdf-images") for name in seen) and len(seen) >= 3, seen
    assert _ours(before) == [], "still running after shutdown"
    assert multiprocessing.active_children() == []


def test_a_worker_registered_by_a_feature_runs_only_while_the_app_does(tmp_path):
    from api.core.workers import CallbackWorker

    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40, backup_enabled=False))
    events: list[str] = []
    app.state.ctx.workers.add(
        CallbackWorker("probe", lambda: events.append("start"), lambda: events.append("stop"))
    )
    assert events == []
    _in_lifespan(app, lambda: events.append("serving"))
    assert events == ["start", "serving", "stop"]
    with pytest.raises(ValueError, match="probe"):
        app.state.ctx.workers.add(CallbackWorker("probe", lambda: None, lambda: None))
