"""Tenant templates rendered in worker processes, so no template can hurt the server.

Jinja2's sandbox keeps a template away from Python's internals, but not from the CPU: forty
saves of a template with nested loops once held every request thread and the GIL, and every
tenant's sign-in, API and sync timed out. So a tenant's template is compiled and rendered in
a separate process from a small pool:

- Time: a render that has not answered within `render_seconds` is ended by killing its
  process (a Python loop cannot be interrupted any other way); a fresh process replaces it.
- Memory: each process has an address-space limit (`memory_mb`), so a template that builds
  a huge value fails with MemoryError in the worker, never in the server.
- Loops and output: counted inside the render (`templates.render_tenant`).
- Fairness: a tenant renders in at most `per_tenant` processes at once, and at most
  `max_waiting_per_tenant` of its requests wait for one; beyond that, 429. A wait for a
  process is bounded too (429 after it).
- Cancellation: the caller passes an Event (set when the client goes away or the server
  shuts down); the render in flight is killed at once.
- Workers run at a lower CPU priority than the server: request handling goes first.

Processes are started with 'spawn' (a fresh interpreter: nothing of the server's state,
sockets or threads is inherited), when first needed, and all killed by `close()`, which the
application's lifespan calls, so shutdown stays prompt.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson

from sync.errors import TooManyRequests

from . import templates as tpl

log = logging.getLogger("branchline.exports")

_POLL_S = 0.05
_START_TIMEOUT_S = 60.0  # a fresh interpreter on a loaded machine; not a render
# How long a render may wait for a free worker, at least (a worker may be starting, which
# takes a fresh interpreter's import time).
_MIN_WAIT_S = 10.0


@dataclass(frozen=True)
class Limits:
    render_seconds: float = 3.0
    max_output: int = tpl.MAX_OUTPUT_CHARS
    max_loops: int = tpl.MAX_LOOP_ITERATIONS
    memory_mb: int = 512


class SandboxBusy(TooManyRequests):
    """No worker free for this tenant in time (or too many of its renders waiting)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, headers={"Retry-After": "5"})


# --- the worker process ----------------------------------------------------------------------


def _worker_main(conn, memory_mb: int) -> None:
    """Serve render requests on `conn` until it closes. Runs in the child process."""
    # Ctrl+C in a terminal reaches the whole process group: the server ends its workers
    # itself, so a worker does not print a KeyboardInterrupt of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(10)
    except OSError:
        pass
    try:
        import resource  # noqa: PLC0415  (POSIX only)

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        log.warning("template worker: could not limit its memory")
    conn.send_bytes(b"ready")
    while True:
        try:
            request = orjson.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        conn.send_bytes(orjson.dumps(_render_request(request)))


def _render_request(request: dict) -> dict:
    try:
        template = tpl.compile_tenant(request["fmt"], request["source"])
        out = tpl.render_tenant(
            template, request["context"], max_loops=request["max_loops"], max_output=request["max_output"]
        )
        return {"ok": out}
    except tpl.TemplateProblem as exc:
        return {"error": exc.message, "line": exc.line}
    except MemoryError:
        return {"error": "the template needed more memory than a template may use", "line": None}


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        mp = multiprocessing.get_context("spawn")
        self.conn, child = mp.Pipe()
        self.proc = mp.Process(
            target=_worker_main, args=(child, memory_mb), daemon=True, name="branchline-template-worker"
        )
        self.proc.start()
        child.close()
        self._lock = threading.Lock()
        self._killed = False

    def wait_ready(self, timeout: float) -> bool:
        try:
            return self.conn.poll(timeout) and self.conn.recv_bytes() == b"ready"
        except (EOFError, OSError):
            return False

    def kill(self) -> None:
        """Kill the process and close the pipe, once: `close` and a timed-out render may both
        get here, and a second close of the pipe could hit a descriptor already reused."""
        with self._lock:
            if self._killed:
                return
            self._killed = True
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(5)
            self.conn.close()


# --- the pool -------------------------------------------------------------------------------


class SandboxPool:
    """A few template workers shared by all tenants; see the module docstring."""

    def __init__(
        self,
        size: int = 2,
        limits: Limits | None = None,
        *,
        per_tenant: int = 1,
        max_waiting_per_tenant: int = 4,
        max_waiting: int = 16,
    ) -> None:
        self.size = size
        self.limits = limits or Limits()
        self.per_tenant = per_tenant
        self.max_waiting_per_tenant = max_waiting_per_tenant
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        # Rendering now: only their render's thread kills them (it polls their pipe), so the
        # pipe is never closed under a thread waiting on it.
        self._busy: set[_Worker] = set()
        self._live = 0  # starting + idle + busy
        # Threads starting a worker: `close` waits for them, so no worker process or thread
        # of the pool outlives it. A starting worker is in none of the sets above until ready.
        self._starters: set[threading.Thread] = set()
        self._starting: set[_Worker] = set()  # spawned, not ready yet: `close` kills them
        self._active: dict[str, int] = {}
        self._waiting: dict[str, int] = {}
        self._closed = False

    # -- public

    def render(
        self,
        fmt: str,
        source: str,
        context: dict[str, Any],
        *,
        tenant_id: str = "",
        cancel: threading.Event | None = None,
    ) -> str:
        """The template's output; raises `templates.TemplateProblem` when it fails, runs too
        long or is cancelled, and `SandboxBusy` (429) when this tenant must wait its turn."""
        images = context.get("images") or {}
        logo = (context.get("brand") or {}).get("logo")
        payload = orjson.dumps(
            {
                "fmt": fmt,
                "source": source,
                "context": context,
                "max_loops": self.limits.max_loops,
                # Embedded images are the page's own bytes: the budget is for what the template adds.
                "max_output": self.limits.max_output
                + sum(len(v) for v in images.values() if isinstance(v, str))
                + (len(logo) if isinstance(logo, str) else 0),
            }
        )
        worker = self._take(tenant_id, cancel)
        keep = False
        try:
            answer, keep = self._run(worker, payload, cancel)
        finally:
            self._give_back(tenant_id, worker, keep)
        if "ok" in answer:
            return answer["ok"]
        raise tpl.TemplateProblem(answer["error"], answer.get("line"))

    def close(self) -> None:
        """Kill every worker; renders in flight and waiting end with a TemplateProblem."""
        with self._cond:
            self._closed = True
            workers = [w for w in self._all if w not in self._busy]  # busy ones end in `_run`
            self._idle.clear()
            starters = list(self._starters)
            starting = list(self._starting)
            self._cond.notify_all()
        for worker in workers:
            worker.kill()
        # A starting worker's process only: its starter, waiting on the pipe, then sees it
        # end and closes the pipe itself. A starter still spawning sees `_closed` after.
        for worker in starting:
            worker.proc.kill()
        for starter in starters:
            starter.join(_START_TIMEOUT_S)

    # -- internals

    def _take(self, tenant_id: str, cancel: threading.Event | None) -> _Worker:
        deadline = time.monotonic() + max(_MIN_WAIT_S, 3 * self.limits.render_seconds)
        with self._cond:
            if self._closed:
                raise tpl.TemplateProblem("the server is shutting down", None)
            if (
                self._waiting.get(tenant_id, 0) >= self.max_waiting_per_tenant
                or sum(self._waiting.values()) >= self.max_waiting
            ):
                raise SandboxBusy(
                    "Too many exports with this team's own templates are running at once; "
                    "try again in a few seconds."
                )
            self._waiting[tenant_id] = self._waiting.get(tenant_id, 0) + 1
            try:
                while True:
                    if self._closed:
                        raise tpl.TemplateProblem("the server is shutting down", None)
                    if cancel is not None and cancel.is_set():
                        raise tpl.TemplateProblem("the request was cancelled", None)
                    if self._active.get(tenant_id, 0) < self.per_tenant:
                        if self._idle:
                            worker = self._idle.pop()
                            break
                        # One start per waiter: a start outlasting this wait is not doubled.
                        if self._live < self.size and len(self._starters) < sum(self._waiting.values()):
                            self._live += 1
                            starter = threading.Thread(
                                target=self._start_worker, daemon=True, name="template-worker-start"
                            )
                            self._starters.add(starter)
                            try:
                                starter.start()
                            except RuntimeError:  # no thread to be had
                                self._starters.discard(starter)
                                self._live -= 1
                                raise SandboxBusy(
                                    "The server cannot start a template worker now; try again shortly."
                                ) from None
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise SandboxBusy(
                            "The template workers are busy with other exports; try again in a few seconds."
                        )
                    self._cond.wait(min(remaining, _POLL_S * 2))
                self._active[tenant_id] = self._active.get(tenant_id, 0) + 1
                self._busy.add(worker)
                return worker
            finally:
                self._waiting[tenant_id] -= 1
                if not self._waiting[tenant_id]:
                    del self._waiting[tenant_id]

    def _start_worker(self) -> None:
        worker = None
        ready = False
        try:
            worker = _Worker(self.limits.memory_mb)
            with self._cond:
                closed = self._closed
                if not closed:
                    self._starting.add(worker)
            if not closed:
                ready = worker.wait_ready(_START_TIMEOUT_S)
                if not ready and not self._closed:
                    log.error("template worker did not start within %g s", _START_TIMEOUT_S)
        except Exception:
            log.exception("template worker failed to start")
        with self._cond:
            self._starters.discard(threading.current_thread())
            if worker is not None:
                self._starting.discard(worker)
            keep = worker is not None and ready and not self._closed
            if worker is not None and keep:
                self._all.add(worker)
                self._idle.append(worker)
            else:
                self._live -= 1
            self._cond.notify_all()
        if not keep and worker is not None:
            worker.kill()

    def _run(self, worker: _Worker, payload: bytes, cancel: threading.Event | None) -> tuple[dict, bool]:
        """Send one render to `worker` and wait for it; the bool says whether the worker may
        be reused (False: it was killed)."""
        deadline = time.monotonic() + self.limits.render_seconds
        try:
            worker.conn.send_bytes(payload)
            while not worker.conn.poll(_POLL_S):
                if self._closed:
                    return self._end(worker, "the server is shutting down")
                if cancel is not None and cancel.is_set():
                    return self._end(worker, "the request was cancelled")
                if time.monotonic() >= deadline:
                    return self._end(
                        worker,
                        f"the template took longer than {self.limits.render_seconds:g} seconds to render",
                    )
            return orjson.loads(worker.conn.recv_bytes()), True
        except (EOFError, OSError, ValueError):
            # The process died (its memory limit, or `close`) or the pipe broke.
            return self._end(worker, "the template worker stopped (the template may need too much memory)")

    def _end(self, worker: _Worker, reason: str) -> tuple[dict, bool]:
        worker.kill()
        return {"error": reason, "line": None}, False

    def _give_back(self, tenant_id: str, worker: _Worker, keep: bool) -> None:
        with self._cond:
            self._busy.discard(worker)
            self._active[tenant_id] -= 1
            if not self._active[tenant_id]:
                del self._active[tenant_id]
            keep = keep and not self._closed
            if keep:
                self._idle.append(worker)
            else:
                self._live -= 1
                self._all.discard(worker)
            self._cond.notify_all()
        if not keep:
            worker.kill()  # outside the lock: it may wait for the process to end


def pool_for(ctx: Any) -> SandboxPool:
    """The application's pool (made on first use; closed by the lifespan at shutdown)."""
    pool = ctx.template_pool
    if pool is None:
        with _POOL_LOCK:
            pool = ctx.template_pool
            if pool is None:
                s = ctx.settings
                pool = ctx.template_pool = SandboxPool(
                    s.template_workers,
                    Limits(
                        render_seconds=s.template_render_seconds,
                        max_output=s.template_max_output_chars,
                        max_loops=s.template_max_loop_iterations,
                        memory_mb=s.template_memory_mb,
                    ),
                    per_tenant=max(1, s.template_workers // 2),
                )
    return pool


def close_pool(ctx: Any) -> None:
    pool, ctx.template_pool = ctx.template_pool, None
    if pool is not None:
        pool.close()


_POOL_LOCK = threading.Lock()
