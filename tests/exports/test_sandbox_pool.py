"""The template workers' pool at shutdown: a render in flight ends cleanly, each worker once."""

from __future__ import annotations

import threading

import pytest

from api.exports import templates as tpl
from api.exports.sandbox import Limits, SandboxPool, _Worker
from tests.conftest import wait_until

# Long enough to be rendering when the pool closes, far from any limit.
SLOW = "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}done"


def test_closing_the_pool_mid_render_ends_the_render_as_a_shutdown_and_kills_its_worker():
    pool = SandboxPool(1, Limits(render_seconds=120, max_loops=10**8))
    outcome: dict[str, BaseException | str] = {}

    def render() -> None:
        try:
            outcome["answer"] = pool.render("html", SLOW, {}, tenant_id="t1")
        except BaseException as exc:  # the test reads what the caller would get
            outcome["error"] = exc

    thread = threading.Thread(target=render)
    thread.start()
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
