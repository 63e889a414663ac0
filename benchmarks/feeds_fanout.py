"""What a write costs with many idle `_changes` feeds open (issue 22, point 2).

Starts the real server, registers a tenant with a writer engineer and a few other
engineers, then for each feed count: opens that many longpoll feeds on `sessions` held
by the other engineers (raw sockets, no client library work while they wait), measures the
server's CPU while they sit idle, then has the writer post notes to a session of its own,
one after the other, and prints the answer time p50/p99 and the server's CPU per write.
None of the feeds may read the writer's session, so ideally none of them costs anything.

    .venv/bin/python benchmarks/feeds_fanout.py [--feeds 10 1000] [--writes 200]

The machine is shared: the load average and the generator's own CPU are printed with the
figures; compare runs made in the same conditions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serve import cpu_seconds, serve_command  # noqa: E402

from tests.conftest import Member, Tenant, free_port, wait_until  # noqa: E402
from tests.sessions.test_sessions_api import publish_tree, start  # noqa: E402

IDLE_ENGINEERS = 5
IDLE_WINDOW_S = 5.0


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Feeds:
    """N longpoll `_changes` requests held open on an event loop of their own."""

    def __init__(self, port: int, path: str, tokens: list[str], n: int) -> None:
        self.port, self.path, self.tokens, self.n = port, path, tokens, n
        self.answered = 0
        self.opened = 0
        self.loop = asyncio.new_event_loop()
        self._writers: list[asyncio.StreamWriter] = []
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open_all(), self.loop).result(120)

    async def _open_all(self) -> None:
        for i in range(self.n):
            await self._open(self.tokens[i % len(self.tokens)])

    async def _open(self, token: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(
            (f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
        )
        await writer.drain()
        self._writers.append(writer)
        self.opened += 1
        self.loop.create_task(self._watch(reader))

    async def _watch(self, reader: asyncio.StreamReader) -> None:
        if await reader.read(1):
            self.answered += 1

    def close(self) -> None:
        async def close_all() -> None:
            for w in self._writers:
                w.close()

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def settle(pid: int, quiet_cpu_s: float = 0.02, window_s: float = 0.5, timeout: float = 60) -> None:
    """Wait until the server uses less than `quiet_cpu_s` in a window (the feeds are parked)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(window_s)
        if cpu_seconds(pid) - before < quiet_cpu_s:
            return


def run_case(
    http: httpx.Client,
    pid: int,
    port: int,
    tenant_id: str,
    writer: Member,
    others: list[Member],
    sid: str,
    node_id: str,
    n_feeds: int,
    writes: int,
) -> dict[str, float]:
    path = f"/sync/{tenant_id}/sessions/_changes?feed=longpoll&since=now&timeout=600000"
    feeds = Feeds(port, path, [m.tokens["access_token"] for m in others], n_feeds)
    try:
        settle(pid)
        idle0 = cpu_seconds(pid)
        t0 = time.monotonic()
        wait_until(lambda: time.monotonic() - t0 >= IDLE_WINDOW_S, timeout=IDLE_WINDOW_S + 5, interval=0.25)
        idle_cpu = cpu_seconds(pid) - idle0
        cpu0, gen0 = cpu_seconds(pid), own_cpu_s()
        latencies = []
        for i in range(writes):
            began = time.perf_counter()
            r = http.post(
                f"/api/v1/sessions/{sid}/events",
                headers=writer.headers,
                json={"type": "note", "node_id": node_id, "text": f"note {i}"},
            )
            latencies.append((time.perf_counter() - began) * 1000)
            assert r.status_code == 201, r.text
        settle(pid)
        cpu = cpu_seconds(pid) - cpu0
        gen = own_cpu_s() - gen0
        latencies.sort()
        return {
            "feeds": n_feeds,
            "idle_cpu_s": idle_cpu,
            "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "cpu_ms_per_write": cpu * 1000 / writes,
            "gen_cpu_s": gen,
            "answered": feeds.answered,
        }
    finally:
        feeds.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bl-fanout-") as tmp:
        data = Path(tmp)
        port = free_port()
        env = {
            **os.environ,
            "BRANCHLINE_DATA_DIR": str(data),
            "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
            "BRANCHLINE_RATE_LIMIT_ADDRESS_PER_MINUTE": "1000000",
            "BRANCHLINE_RATE_LIMIT_USER_PER_MINUTE": "1000000",
        }
        with open(data / "server.log", "w") as log:
            proc = subprocess.Popen(
                serve_command(port, access_log=True, graceful_s=2),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200, timeout=60)
            with httpx.Client(base_url=url, timeout=120) as http:
                tenant = Tenant(http)
                tree_id = publish_tree(http, tenant)
                writer = tenant.add_user("engineer")
                others = [tenant.add_user("engineer") for _ in range(IDLE_ENGINEERS)]
                session = start(http, writer, tree_id)
                sid, node_id = session["session_id"], session["current_node"]
                rows = [
                    run_case(http, proc.pid, port, tenant.id, writer, others, sid, node_id, n, args.writes)
                    for n in args.feeds
                ]
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    print(
        f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {args.writes} sequential REST "
        f"note writes per case, by an engineer none of the feeds may read"
    )
    print(
        f"{'feeds':>6} {'idle CPU/5s':>12} {'write p50':>10} {'write p99':>10} {'server CPU/write':>17} "
        f"{'generator CPU':>14} {'feeds answered':>15}"
    )
    for r in rows:
        print(
            f"{r['feeds']:>6} {r['idle_cpu_s']:>11.2f}s {r['p50_ms']:>8.1f}ms {r['p99_ms']:>8.1f}ms "
            f"{r['cpu_ms_per_write']:>15.2f}ms {r['gen_cpu_s']:>13.2f}s {r['answered']:>15}"
        )


if __name__ == "__main__":
    main()
