"""Issue 15, point 1: a tenant's export template cannot take the server down.

The attack that once made every tenant's health check, sign-in, API and sync time out (and
the server ignore SIGTERM): forty concurrent saves of a template with nested
`range(100000)` loops. Each test here replays it against a real server and measures what
the other tenants notice.
"""

from __future__ import annotations

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, Tenant, wait_until

SERVER_ENV = {"BRANCHLINE_TEMPLATE_RENDER_SECONDS": "2"}

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}"
# No loop at all, and still about half a second of CPU per line.
SLOW = "\n".join(['{{ range(100000)|map("string")|join|length }}'] * 40)
HUGE = "{{ ''.ljust(300000000) }}"
GOOD = "<h1>{{ m.title }}</h1>{% for s in m.steps %}<p>{{ s.sentence }}</p>{% endfor %}"


def _flood(url: str, headers: dict, source: str, count: int = 40) -> tuple[ThreadPoolExecutor, list]:
    pool = ThreadPoolExecutor(count)

    def put():
        with httpx.Client(base_url=url, timeout=120) as client:
            return client.put("/api/v1/export-templates/html", headers=headers, json={"source": source})

    return pool, [pool.submit(put) for _ in range(count)]


# 3 s, not 1: what this catches (a flood holding the server for each bad template's 2 s, 40 at
# once) stalls the others for tens of seconds, while a build machine busy with browser tests
# once took just over 1 s to answer /healthz with nothing wrong.
def _quick(client: httpx.Client, method: str, path: str, within: float = 3.0, **kw) -> float:
    """Seconds a request took, which must succeed within `within` seconds."""
    started = time.monotonic()
    r = client.request(method, path, timeout=within, **kw)
    elapsed = time.monotonic() - started
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    assert elapsed < within, f"{method} {path} took {elapsed:.2f} s during the flood"
    return elapsed


def _login(client: httpx.Client, victim: Tenant, within: float) -> float:
    return _quick(
        client,
        "POST",
        "/api/v1/auth/login",
        within,
        json={"email": victim.owner_email, "password": victim.password},
    )


def _others_answer_while(futures, server_url: str, victim: Tenant, login_baseline: float) -> int:
    """Probe /healthz and another tenant's API and sync (each within 3 s) and sign-in (within
    1 s plus three times what it took before the flood) until the flood is over; returns how
    many rounds of probes ran during it."""
    rounds = 0
    with httpx.Client(base_url=server_url) as client:
        sync_root = victim.me["sync"]["databases"]["trees"]
        while not all(f.done() for f in futures) or rounds == 0:
            _quick(client, "GET", "/healthz")
            _quick(client, "GET", "/api/v1/trees", headers=victim.headers)
            _quick(client, "GET", sync_root, headers=victim.headers)
            _login(client, victim, 3 * login_baseline + 1.0)
            rounds += 1
    return rounds


# What the loop budget stops in a fraction of a second may still hit the time limit on a
# machine this busy; either refusal is right.
@pytest.mark.parametrize(
    "source, refusals",
    [(NESTED_LOOPS, ("loop iterations", "longer than 2 seconds")), (SLOW, ("longer than 2 seconds",))],
    ids=["nested-range-loops", "slow-without-loops"],
)
def test_a_flood_of_bad_templates_never_slows_other_tenants(server, http, source, refusals):
    attacker, victim = Tenant(http), Tenant(http)
    login_baseline = max(_login(http, victim, 30.0) for _ in range(3))
    pool, futures = _flood(server.url, attacker.headers, source)
    try:
        rounds = _others_answer_while(futures, server.url, victim, login_baseline)
        answers = [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True)
    assert rounds >= 1
    statuses = sorted({r.status_code for r in answers})
    assert set(statuses) <= {400, 429}, statuses
    refused = [r.json() for r in answers if r.status_code == 400]
    assert refused and all(any(r in body["reason"] for r in refusals) for body in refused), refused[:2]
    for busy in (r for r in answers if r.status_code == 429):
        assert busy.json()["error"] == "too_many_requests" and busy.headers["Retry-After"]
    assert http.get("/api/v1/export-templates/html", headers=attacker.headers).json()["custom"] is False
    # Afterwards both tenants' good templates save as before.
    for tenant in (attacker, victim):
        r = http.put("/api/v1/export-templates/html", headers=tenant.headers, json={"source": GOOD})
        assert r.status_code == 200, r.text


def test_a_template_that_builds_a_huge_string_is_refused_at_save(http, tenant):
    r = http.put("/api/v1/export-templates/html", headers=tenant.headers, json={"source": HUGE})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_request" and "300000000" in r.json()["reason"]
    r = http.put(
        "/api/v1/export-templates/pdf",
        headers=tenant.headers,
        json={"source": '{{ "%*d"|format(300000000, 1) }}'},
    )
    assert r.status_code == 400, r.text
    assert http.get("/api/v1/export-templates/html", headers=tenant.headers).json()["custom"] is False


def _family(pid: int) -> set[int]:
    """A process and its live descendants."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    family = {pid}
    while grown := {p for p, ppid in parents.items() if ppid in family} - family:
        family |= grown
    return family


def _runnable_threads(pids: set[int]) -> int:
    count = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                count += (task / "stat").read_text().rsplit(")", 1)[1].split()[0] == "R"
            except OSError:
                continue
    return count


def _idle(pid: int) -> bool:
    """True when, over one second, the server and its workers almost never had a thread
    running or waiting for a CPU (a render burning CPU is runnable all the time, however
    busy the machine)."""
    busy = 0
    for _ in range(20):
        busy += _runnable_threads(_family(pid)) > 0
        time.sleep(0.05)  # sampling interval of a measurement, not a wait for a state
    return busy <= 3


def test_a_render_stops_when_its_client_goes_away(tmp_path):
    # One worker, and a long time limit: only cancelling the abandoned render stops the CPU
    # it burns and frees the worker for the tenant's next save in time.
    srv = ServerProcess(
        tmp_path / "srv", env={"BRANCHLINE_TEMPLATE_RENDER_SECONDS": "60", "BRANCHLINE_TEMPLATE_WORKERS": "1"}
    ).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            owner = Tenant(http)
            with pytest.raises(httpx.ReadTimeout):
                http.put(
                    "/api/v1/export-templates/html",
                    headers=owner.headers,
                    json={"source": SLOW * 10},
                    timeout=2.0,
                )
            wait_until(lambda: _idle(srv.proc.pid), timeout=20, message="the abandoned render to stop")
            started = time.monotonic()
            r = http.put(
                "/api/v1/export-templates/html", headers=owner.headers, json={"source": GOOD}, timeout=15.0
            )
            assert r.status_code == 200, r.text
            assert time.monotonic() - started < 15.0
    finally:
        srv.stop()


def test_sigterm_during_a_flood_stops_the_server_promptly(tmp_path):
    srv = ServerProcess(tmp_path / "srv", env={"BRANCHLINE_TEMPLATE_RENDER_SECONDS": "60"}).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            tenants = [Tenant(http), Tenant(http)]
        # The original attack, from two teams, plus a few renders that would run for minutes.
        floods = [
            flood
            for t in tenants
            for flood in (
                _flood(srv.url, t.headers, NESTED_LOOPS, count=20),
                _flood(srv.url, t.headers, SLOW * 10, count=2),
            )
        ]
        wait_until(
            lambda: _runnable_threads(_family(srv.proc.pid)) >= 2,
            timeout=30,
            message="the flood to be rendering",
        )
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            srv.proc.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail("the server ignored SIGTERM for 10 s during a template flood")
        assert time.monotonic() - started < 10
        for pool, _futures in floods:
            pool.shutdown(wait=True)
    finally:
        srv.kill()


def test_a_template_that_only_misbehaves_on_a_real_session_is_stopped_at_export(http, tenant):
    # Harmless on the sample sessions it is tried on when saved; on this ticket it would loop
    # for hours. The export is still answered in time, with the built-in template.
    from tests.sessions.test_sessions_api import publish_tree, start

    source = (
        '{% if m.ticket == "T-LOOP" %}'
        + NESTED_LOOPS
        + "{% endif %}"
        + SLOW.replace("{{", '{% if m.ticket == "T-SLOW" %}{{').replace("}}", "}}{% endif %}")
    )
    r = http.put("/api/v1/export-templates/html", headers=tenant.headers, json={"source": source})
    assert r.status_code == 200, r.text
    tree_id = publish_tree(http, tenant)
    for ticket in ("T-LOOP", "T-SLOW"):
        sid = start(http, tenant, tree_id, ticket=ticket)["session_id"]
        started = time.monotonic()
        r = http.get(f"/api/v1/sessions/{sid}/export", headers=tenant.headers, params={"format": "html"})
        assert r.status_code == 200, r.text
        assert r.headers["X-Branchline-Template"].startswith("built-in"), ticket
        assert ticket in r.text and time.monotonic() - started < 10
