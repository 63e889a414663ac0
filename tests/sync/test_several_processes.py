"""Two server processes on one embedded data folder (`BRANCHLINE_PROCESSES`), as
`branchline serve` runs them to use more than one core.

Each test talks to both processes by their own ports, as a load balancer (or the kernel,
spreading connections over uvicorn's workers) would send a team's requests: what one
process writes must hold at once in the other, whatever either keeps in memory.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.settings import Settings
from tests.conftest import ROOT, ServerProcess, Tenant, wait_until
from tests.sessions.test_sessions_api import event, publish_tree, start

SHARED = {"BRANCHLINE_PROCESSES": "2"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    data = tmp_path_factory.mktemp("shared-data")
    env = {**SHARED, "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40)}
    # The app with the change notifier's counters (`/_test/feeds`), to see a feed parked.
    app = "tests.sync.app_feed_stats:create_app"
    a = ServerProcess(data, env=env, app=app).start()
    b = ServerProcess(data, env=env, app=app).start()
    try:
        yield a, b
    finally:
        b.stop()
        a.stop()


@pytest.fixture
def clients(servers) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    a, b = servers
    with httpx.Client(base_url=a.url, timeout=30) as ha, httpx.Client(base_url=b.url, timeout=30) as hb:
        before = [peers(h) for h in (ha, hb)]
        yield ha, hb
        after = [peers(h) for h in (ha, hb)]
    # Everything above held because each write's message arrived, not because a lost one
    # made a process give up on its caches (which would also keep it correct, more slowly).
    for was, now in zip(before, after, strict=True):
        assert now["dropped"] == was["dropped"] and now["stalls"] == was["stalls"], (was, now)
    assert sum(p["received"] for p in after) > sum(p["received"] for p in before)


def peers(http: httpx.Client) -> dict:
    return http.get("/_test/feeds").json()["peers"]


def test_steps_recorded_through_either_process_follow_the_session(clients):
    """B keeps the session's state after its own step; a step through A moves the session on;
    the next step through B must start from there (B's memory would have it at the old node:
    a 409 "not the current node")."""
    ha, hb = clients
    tenant = Tenant(ha)
    tree_id = publish_tree(ha, tenant)
    sid = start(ha, tenant, tree_id)["session_id"]
    for _ in range(3):  # B's own steps: from now on B holds the session in memory
        event(hb, tenant, sid, {"type": "note", "node_id": "scope", "text": "checked Studio"})
    moved = event(ha, tenant, sid, {"type": "answered", "node_id": "scope", "answer": "yes"})
    assert moved["current_node"] == "vda"
    out = event(hb, tenant, sid, {"type": "answered", "node_id": "vda", "answer": "submitted"})
    assert out["current_node"] == "service"
    assert [step["node_id"] for step in out["path"]][:2] == ["scope", "vda"]
    # And a step for a node the session has left is refused by both.
    for http in (ha, hb):
        r = http.post(
            f"/api/v1/sessions/{sid}/events",
            headers=tenant.headers,
            json={"type": "answered", "node_id": "scope", "answer": "no"},
        )
        assert r.status_code == 409, r.text
        assert r.json()["details"]["current_node"] == "service"


def test_a_feed_on_one_process_wakes_for_a_write_through_the_other(clients):
    ha, hb = clients
    tenant = Tenant(ha)
    tree_id = publish_tree(ha, tenant)
    sid = start(ha, tenant, tree_id)["session_id"]
    base = f"/sync/{tenant.id}/sessions"
    since = ha.get(f"{base}/_changes", headers=tenant.headers, params={"since": "now"}).json()["last_seq"]
    answer: dict = {}

    def wait_on_a() -> None:
        r = ha.get(
            f"{base}/_changes",
            headers=tenant.headers,
            params={"feed": "longpoll", "since": since, "timeout": 60000},
        )
        answer["at"] = time.monotonic()
        answer["body"] = r.json()

    parked = ha.get("/_test/feeds").json()["parked"]
    feed = threading.Thread(target=wait_on_a)
    feed.start()
    wait_until(lambda: ha.get("/_test/feeds").json()["parked"] > parked, message="A's feed parked")
    written_at = time.monotonic()
    event(hb, tenant, sid, {"type": "note", "node_id": "scope", "text": "through B"})
    feed.join(timeout=30)
    assert not feed.is_alive(), "A's feed never woke for B's write"
    ids = [row["id"] for row in answer["body"]["results"]]
    assert any(docid.startswith(f"session:{sid}:ev:") for docid in ids), ids
    # Woken by B's message, not by the 60 s timeout nor a periodic rescan.
    assert answer["at"] - written_at < 5


def test_a_deactivated_engineer_is_refused_by_the_other_process_at_once(clients):
    ha, hb = clients
    tenant = Tenant(ha)
    eng = tenant.add_user("engineer")
    basic = {"Authorization": "Basic " + base64.b64encode(f"{eng.email}:{eng.password}".encode()).decode()}
    base = f"/sync/{tenant.id}/clients"
    for headers in (eng.headers, basic, eng.headers):  # B holds the account in memory
        assert hb.get(base, headers=headers).status_code == 200
    r = ha.patch(f"/api/v1/users/{eng.id}", headers=tenant.headers, json={"active": False})
    assert r.status_code == 200, r.text
    assert hb.get(base, headers=eng.headers).status_code == 401
    assert hb.get(base, headers=basic).status_code == 401


def test_expensive_work_is_counted_across_processes(tmp_path: Path):
    data = tmp_path / "data"
    env = {
        **SHARED,
        "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
        "BRANCHLINE_RATE_LIMIT_REGISTRATIONS_PER_HOUR": "2",
    }
    a = ServerProcess(data, env=env).start()
    b = ServerProcess(data, env=env).start()
    try:
        with httpx.Client(base_url=a.url, timeout=30) as ha, httpx.Client(base_url=b.url, timeout=30) as hb:
            Tenant(ha)
            Tenant(hb)
            r = ha.post(
                "/api/v1/auth/register",
                json={
                    "tenant_name": "Third",
                    "email": f"third-{secrets.token_hex(3)}@example.com",
                    "password": "correct horse battery staple 42",
                    "display_name": "Owner",
                },
            )
            # Two registrations an hour from this address, whichever process took them.
            assert r.status_code == 429, r.text
            assert "Retry-After" in r.headers
    finally:
        b.stop()
        a.stop()


def test_processes_starting_together_generate_one_secret(tmp_path: Path):
    """Without BRANCHLINE_SECRET_KEY (development) the first process to start generates the
    secret into the data folder. Processes starting at the same moment must all end up with
    that one: a half-written file was read as no secret, a lost race raised FileExistsError,
    and two secrets would make each process refuse the other's tokens."""
    for round_ in range(20):
        data = tmp_path / f"data-{round_}"
        data.mkdir()
        together = threading.Barrier(6)
        secrets_seen: list[str] = []
        failures: list[BaseException] = []

        def resolve(
            data: Path = data,
            together: threading.Barrier = together,
            seen: list[str] = secrets_seen,
            failed: list[BaseException] = failures,
        ) -> None:
            together.wait()
            try:
                seen.append(Settings(data_dir=data, secret_key=None).resolve_secret())
            except BaseException as exc:
                failed.append(exc)

        threads = [threading.Thread(target=resolve) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not failures, failures
        assert len(secrets_seen) == 6 and len(set(secrets_seen)) == 1
        assert (data / "secret.key").read_text().strip() == secrets_seen[0]
        assert [p.name for p in data.iterdir()] == ["secret.key"]  # no draft left behind


def test_a_command_run_beside_the_processes_is_in_force_in_them_at_once(servers, clients):
    """`branchline user reset-password` writes the account from a third process: the
    servers' memory of the old password must not outlive it (before, up to a minute)."""
    a, _ = servers
    ha, hb = clients
    tenant = Tenant(ha)
    eng = tenant.add_user("engineer")
    basic = {"Authorization": "Basic " + base64.b64encode(f"{eng.email}:{eng.password}".encode()).decode()}
    base = f"/sync/{tenant.id}/clients"
    for http in (ha, hb, ha, hb):
        assert http.get(base, headers=basic).status_code == 200  # both hold the account
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "user", "reset-password", eng.email],
        cwd=ROOT,
        # As an operator runs it: without BRANCHLINE_PROCESSES; it finds the servers' mailboxes.
        env={k: v for k, v in a.env.items() if k != "BRANCHLINE_PROCESSES"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for http in (ha, hb):
        assert http.get(base, headers=basic).status_code == 401
    # The command left, and took its mailbox with it: only the two servers' remain.
    assert len(list((a.data_dir / "dbs" / ".peers").glob("*.sock"))) == 2
