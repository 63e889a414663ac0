"""A write wakes only the live feeds that may read it, and idle feeds cost no CPU (issue 22, point 2).

Before: every write to `sessions` woke every longpoll feed of the database, and each read the
changes and judged them, so a write cost work in proportion to the open feeds (200 engineers
with feeds saturated the server); every feed also re-checked its caller every 2 s while idle.
Each test holds raw longpoll feeds (real sockets, real HTTP) on a real server, which exposes
its change notifier's counters at `/_test/feeds` (tests/sync/app_feed_stats.py).
"""

from __future__ import annotations

import os
import selectors
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, Tenant, wait_until
from tests.sessions.test_sessions_api import event, publish_tree, start

IDLE_ENGINEERS = 3
# An idle server with 300 feeds used about 0.37 s of CPU every 5 s when each feed re-checked
# its caller every 2 s; parked feeds should cost nothing, so this bound is generous.
IDLE_CPU_BOUND_S = 0.05


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("fanout"), app="tests.sync.app_feed_stats:create_app").start()
    yield srv
    srv.stop()


class Feeds:
    """Longpoll `_changes` requests held open on raw sockets; which of them the server answered."""

    def __init__(self, server: ServerProcess, tenant_id: str) -> None:
        self.port = server.port
        self.path = f"/sync/{tenant_id}/sessions/_changes?feed=longpoll&since=now&timeout=120000"
        self.selector = selectors.DefaultSelector()
        self.socks: list[socket.socket] = []

    def open(self, token: str) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(
            (f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
        )
        self.selector.register(sock, selectors.EVENT_READ)
        self.socks.append(sock)
        return sock

    def answered(self) -> set[socket.socket]:
        return {key.fileobj for key, _ in self.selector.select(timeout=0)}  # type: ignore[misc]

    def close(self) -> None:
        for sock in self.socks:
            self.selector.unregister(sock)
            sock.close()
        self.selector.close()


def stats(http: httpx.Client) -> dict[str, int]:
    return http.get("/_test/feeds").json()


def server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _one_write_with_idle_feeds(server: ServerProcess, http: httpx.Client, n_idle: int) -> dict[str, int]:
    """Engineer A writes a note to a session shared with B while `n_idle` feeds of other
    engineers wait: A's, B's and the owner's feeds answer, the idle ones do not. Returns
    how many feeds the notifier woke for the write, and in how many shared reads."""
    tenant = Tenant(http)
    tree_id = publish_tree(http, tenant)
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    idle = [tenant.add_user("engineer") for _ in range(IDLE_ENGINEERS)]
    sid = start(http, alice, tree_id, shared_with=[bob.id])["session_id"]
    node = http.get(f"/api/v1/sessions/session:{sid}", headers=alice.headers).json()["current_node"]

    base = stats(http)["waiting"]
    feeds = Feeds(server, tenant.id)
    try:
        readers = [feeds.open(m.tokens["access_token"]) for m in (alice, bob, tenant)]
        others = [feeds.open(idle[i % len(idle)].tokens["access_token"]) for i in range(n_idle)]
        wait_until(
            lambda: stats(http)["parked"] >= base + n_idle + 3,
            timeout=60,
            message=f"{n_idle + 3} feeds to wait",
        )
        before = stats(http)
        event(http, alice, sid, {"type": "note", "node_id": node, "text": "Rebooted the switch."})
        wait_until(
            lambda: set(readers) <= feeds.answered(),
            timeout=15,
            message="the feeds of Alice, Bob (shared) and the owner (admin) to answer",
        )
        wait_until(lambda: stats(http)["dispatching"] == 0, message="the notifier to finish")
        after = stats(http)
        assert not feeds.answered() & set(others), "a feed that may not read the session answered"
        return {"wakes": after["wakes"] - before["wakes"], "reads": after["reads"] - before["reads"]}
    finally:
        feeds.close()


def test_a_write_wakes_only_the_feeds_that_may_read_it_however_many_are_open(server, http):
    one = _one_write_with_idle_feeds(server, http, 1)
    many = _one_write_with_idle_feeds(server, http, 300)
    # The writer's, the sharer's and the admin's feeds, once per shared read of the changes;
    # none of the 300 others.
    assert many["reads"] >= 1 and many["wakes"] <= 3 * many["reads"], many
    assert many["wakes"] == one["wakes"], (one, many)


def test_three_hundred_idle_feeds_cost_the_server_no_cpu(server, http):
    tenant = Tenant(http)
    engineers = [tenant.add_user("engineer") for _ in range(IDLE_ENGINEERS)]
    base = stats(http)["parked"]
    feeds = Feeds(server, tenant.id)
    try:
        for i in range(300):
            feeds.open(engineers[i % len(engineers)].tokens["access_token"])
        wait_until(lambda: stats(http)["parked"] >= base + 300, timeout=60, message="300 feeds to wait")
        assert server.proc is not None
        cpu0, t0 = server_cpu_s(server.proc.pid), time.monotonic()
        # A measuring window, not a wait for something to happen.
        wait_until(lambda: time.monotonic() - t0 >= 5.0, timeout=10, interval=0.5)
        used = server_cpu_s(server.proc.pid) - cpu0
        assert used < IDLE_CPU_BOUND_S, f"300 idle feeds cost the server {used:.3f} s of CPU in 5 s"
        assert not feeds.answered()
    finally:
        feeds.close()
