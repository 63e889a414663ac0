"""The template workers' pool at shutdown: a render in flight ends cleanly, each worker once."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import pytest

from api.exports import templates as tpl
from api.exports.sandbox import Limits, SandboxPool, _Worker
from tests.conftest import wait_until


def _render_in_thread(pool: SandboxPool, source: str) -> tuple[threading.Thread, dict[str, Any]]:
    """A render started on a thread of its own; `outcome` gets its "answer" or its "error"
    (what the caller would get) once it ends."""
    outcome: dict[str, Any] = {}

    def render() -> None:
        try:
            outcome["answer"] = pool.render("html", source, {}, tenant_id="t1")
        except BaseException as exc:  # the test reads what the caller would get
            outcome["error"] = exc

    thread = threading.Thread(target=render)
    thread.start()
    return thread, outcome


def _worker_processes() -> list[Any]:
    return [p for p in multiprocessing.active_children() if p.name == "branchline-template-worker"]


# Long enough to be rendering when the pool closes, far from any limit.
SLOW = "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}done"


def test_closing_the_pool_mid_render_ends_the_render_as_a_shutdown_and_kills_its_worker():
    pool = SandboxPool(1, Limits(render_seconds=120, max_loops=10**8))
    thread, outcome = _render_in_thread(pool, SLOW)
    wait_until(lambda: pool._active and pool._all, timeout=60, message="the render to reach a worker")
    (worker,) = pool._all
    pool.close()
    thread.join(30)
    assert not thread.is_alive()
    error = outcome.get("error")
    # Before: close() closed the busy worker's pipe under the render's thread, which then read
    # a broken pipe and reported that the template may need too much memory.
    assert isinstance(error, tpl.TemplateProblem), outcome
    assert "shutting down" in error.message
    wait_until(lambda: not worker.proc.is_alive(), message="the worker process to end")
    assert worker.conn.closed


def test_killing_a_worker_twice_at_once_is_harmless():
    worker = _Worker(256)
    assert worker.wait_ready(60)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def kill() -> None:
        barrier.wait()
        try:
            worker.kill()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=kill) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert not worker.proc.is_alive() and worker.conn.closed


@pytest.mark.parametrize("keep", [True, False])
def test_a_render_after_close_is_refused_and_leaves_no_process(keep):
    pool = SandboxPool(1)
    assert pool.render("html", "<p>{{ 2 * 3 }}</p>", {}, tenant_id="t1") == "<p>6</p>"
    (worker,) = pool._all
    if not keep:
        worker.kill()  # a worker that died while idle
    pool.close()
    with pytest.raises(tpl.TemplateProblem, match="shutting down"):
        pool.render("html", "x", {}, tenant_id="t1")
    wait_until(lambda: not worker.proc.is_alive(), message="the idle worker to end")


@pytest.fixture
def slow_start(monkeypatch) -> list[int]:
    """Worker interpreters that take a second to start, as on a loaded machine; lists starts."""
    started: list[int] = []
    real_init = _Worker.__init__

    def slow_init(self, memory_mb):
        started.append(1)
        time.sleep(1)
        real_init(self, memory_mb)

    monkeypatch.setattr(_Worker, "__init__", slow_init)
    return started


def test_closing_the_pool_while_a_worker_starts_leaves_no_thread_or_process_behind(slow_start):
    # CI caught the app's shutdown leaving a "template-worker-start" thread alive: close()
    # did not wait for a worker still starting, whose thread then outlived the pool.
    pool = SandboxPool(2, Limits(render_seconds=30))
    thread, outcome = _render_in_thread(pool, "<p>{{ 1 + 1 }}</p>")
    wait_until(_starting, message="a worker starting")
    pool.close()
    assert not _starting()
    assert _worker_processes() == []
    thread.join(30)
    error = outcome.get("error")
    assert isinstance(error, tpl.TemplateProblem) and "shutting down" in error.message, outcome


def _starting() -> bool:
    return any(t.name == "template-worker-start" for t in threading.enumerate())


def test_one_render_waiting_on_a_slow_start_starts_one_worker(slow_start):
    pool = SandboxPool(2, Limits(render_seconds=30))
    try:
        assert pool.render("html", "<p>{{ 1 + 1 }}</p>", {}, tenant_id="t1") == "<p>2</p>"
        # Before: every 0.1 s of waiting for the first worker's interpreter started another.
        wait_until(lambda: not _starting(), message="starts to finish")
        assert len(slow_start) == 1 and len(pool._all) == 1
    finally:
        pool.close()


def test_closing_the_pool_kills_a_worker_that_never_says_it_is_ready(monkeypatch):
    # Found in review: close() waited for such a worker's starter as long as the starter
    # waited for the worker (a minute), and the starter outlived it.
    import api.exports.sandbox as sandbox

    monkeypatch.setattr(sandbox, "_START_TIMEOUT_S", 30.0)
    # An interpreter that never answers: the starter waits until its process ends.
    monkeypatch.setattr(_Worker, "wait_ready", lambda self, timeout: self.proc.join(timeout) or False)
    pool = SandboxPool(1, Limits(render_seconds=30))
    thread, outcome = _render_in_thread(pool, "<p>{{ 1 }}</p>")
    wait_until(
        _worker_processes,
        timeout=30,
        message="a worker spawned and starting",
    )
    began = time.monotonic()
    pool.close()
    assert time.monotonic() - began < 10
    assert not _starting()
    assert _worker_processes() == []
    thread.join(30)
    assert isinstance(outcome.get("error"), tpl.TemplateProblem), outcome
