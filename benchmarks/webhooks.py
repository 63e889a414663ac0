"""Webhook deliveries: 10,000 events from the changes feed to a local receiver.

Sessions arrive as devices sync them (`_bulk_docs` of session headers on /sync, 100 a
request), each one a `session.started` event for one subscription. A light receiver (raw
HTTP on asyncio, keep-alive, answering 200 at once) notes when each `webhook-id` arrived.
The queue delay of a message is its arrival minus its outbox document's creation (both
clocks are this machine's), read back from the delivery log afterwards.

Two runs, each on a fresh tenant:
- burst: every event at once (a team's phones coming back online together). The figure is
  deliveries/s; its p99 delay is mostly time spent waiting behind the rest of the burst.
- paced: events at `--rate` a second, the steady flow of a busy installation. The figure
  is the p99 queue delay.

    .venv/bin/python benchmarks/webhooks.py [--events 10000] [--rate 200] [--only burst|paced]

Targets: more than 200 deliveries/s; p99 queue delay under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serve import bench_env, cpu_seconds, serve_command  # noqa: E402

from api.sessions.ids import ulid  # noqa: E402
from tests.conftest import Tenant, free_port, wait_until  # noqa: E402
from tests.trees.factories import valid_tree  # noqa: E402

BATCH = 100


class Receiver:
    """HTTP/1.1 with keep-alive on asyncio in its own thread; records arrival per webhook-id."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrived: dict[str, float] = {}
        self.duplicates = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Receiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, msg_id = 0, ""
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"webhook-id":
                        msg_id = value.strip().decode()
                await reader.readexactly(length)
                if msg_id in self.arrived:
                    self.duplicates += 1
                else:
                    self.arrived[msg_id] = time.time() * 1000
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def headers_batch(owner: str, tree_id: str, count: int) -> list[dict]:
    now = int(time.time() * 1000)
    return [
        {
            "_id": f"session:{ulid()}",
            "type": "session",
            "schema_version": 1,
            "tree_id": tree_id,
            "tree_version": 1,
            "title": "bench",
            "owner_id": owner,
            "shared_with": [],
            "status": "in_progress",
            "created_at": now,
            "updated_at": now,
            "device_id": "bench",
        }
        for _ in range(count)
    ]


def one_run(url: str, receiver: Receiver, events: int, rate: float | None, pid: int) -> dict:
    with httpx.Client(base_url=url, timeout=120) as http:
        tenant = Tenant(http)
        tree_id = http.post("/api/v1/trees", headers=tenant.headers, json=valid_tree()).json()["id"]
        http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={}).raise_for_status()
        r = http.post(
            "/api/v1/webhooks",
            headers=tenant.headers,
            json={"url": f"http://127.0.0.1:{receiver.port}/hook", "events": ["session.started"]},
        )
        r.raise_for_status()
        hook = r.json()["id"]
        owner = tenant.me["user"]["id"]
        receiver.arrived.clear()
        receiver.duplicates = 0
        cpu_before = cpu_seconds(pid)
        began = time.monotonic()
        sent = 0
        while sent < events:
            count = min(BATCH, events - sent)
            if rate:
                wait = began + sent / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            r = http.post(
                f"/sync/{tenant.id}/sessions/_bulk_docs",
                headers=tenant.headers,
                json={"docs": headers_batch(owner, tree_id, count)},
            )
            r.raise_for_status()
            sent += count
        wait_until(lambda: len(receiver.arrived) >= events, timeout=events / 20 + 60, interval=0.1)
        wall = time.monotonic() - began
        cpu = cpu_seconds(pid) - cpu_before
        created: dict[str, float] = {}
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = http.get(
                f"/api/v1/webhooks/{hook}/deliveries", headers=tenant.headers, params=params
            ).json()
            for item in page["items"]:
                stamp = item["created_at"].replace("Z", "+00:00")
                created[item["msg_id"]] = datetime.fromisoformat(stamp).timestamp() * 1000
            cursor = page["next_cursor"]
            if not cursor:
                break
    delays = [(receiver.arrived[m] - created[m]) / 1000 for m in created if m in receiver.arrived]
    return {
        "events": events,
        "wall": wall,
        "per_s": events / wall,
        "p50": percentile(delays, 0.5),
        "p99": percentile(delays, 0.99),
        "max": max(delays),
        "duplicates": receiver.duplicates,
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second in the paced run")
    parser.add_argument("--only", choices=("burst", "paced"))
    args = parser.parse_args()
    receiver = Receiver().start()
    with tempfile.TemporaryDirectory(prefix="bl-webhooks-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = bench_env(tmp, BRANCHLINE_WEBHOOK_ALLOW_PRIVATE="true")
        proc = subprocess.Popen(
            serve_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        results = {}
        try:
            wait_until(lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200, timeout=60)
            load = os.getloadavg()
            for mode in ("burst", "paced"):
                if args.only in (None, mode):
                    results[mode] = one_run(
                        url, receiver, args.events, args.rate if mode == "paced" else None, proc.pid
                    )
            load_after = os.getloadavg()
        finally:
            proc.terminate()
            proc.wait(10)
            receiver.stop()
    print(f"load average before {load[0]:.2f}, after {load_after[0]:.2f} (1 min; {os.cpu_count()} cores)")
    for mode, r in results.items():
        offered = "all at once" if mode == "burst" else f"{args.rate:.0f}/s offered"
        per_event_ms = 1000 * r["cpu"] / r["events"]
        print(
            f"{mode:5s} {r['events']} events ({offered}): {r['per_s']:.0f} deliveries/s "
            f"over {r['wall']:.1f} s; queue delay p50 {r['p50']:.3f} s, p99 {r['p99']:.3f} s, "
            f"max {r['max']:.3f} s; duplicates {r['duplicates']}; "
            f"server CPU {r['cpu']:.1f} s ({per_event_ms:.2f} ms/event)"
        )


if __name__ == "__main__":
    main()
