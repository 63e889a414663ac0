"""Shared fixtures: a real Branchline server under uvicorn on a free loopback port.

One server per test module (starting one costs about a second); each test makes its own
tenant, so it gets freshly created databases of its own.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings as hsettings

ROOT = Path(__file__).resolve().parents[1]

hsettings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hsettings.register_profile("dev", max_examples=150, deadline=None)
hsettings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def branchline_cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`branchline ARGS` as the operator runs it (on `env`'s data folder and secret, e.g. a
    running server's `server.env`), its output captured for the test to read."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}" + (f": {last_exc!r}" if last_exc else ""))


# Argon2 at its smallest cost for every server, CLI and in-process app the suite starts (they
# all inherit this environment): at the production cost, hashing and checking the passwords
# of the suite's thousands of accounts took about 40% of its CPU. Hashes carry their own
# parameters, so nothing else changes; tests/auth/test_password_hashing.py checks the default.
os.environ.setdefault("BRANCHLINE_UNSAFE_FAST_PASSWORD_HASHING", "true")

# Every test signs in and registers its own tenant from 127.0.0.1: the per-address limits
# (meant for one client, not a whole test suite) are raised here, not in the defaults.
# Per-user, per-key and per-tenant limits keep their defaults, which normal use stays below.
TEST_LIMITS = {
    "BRANCHLINE_RATE_LIMIT_ADDRESS_PER_MINUTE": "1000000",
    "BRANCHLINE_RATE_LIMIT_REGISTRATIONS_PER_HOUR": "1000000",
    # No test reaches the real Autotask: a server that was not given a fake's address (the
    # Autotask tests give theirs) finds nothing listening here and says so at once.
    "BRANCHLINE_AUTOTASK_ZONE_DISCOVERY_URL": "http://127.0.0.1:9/atservicesrest/",
}


class PortTaken(RuntimeError):
    """The port free_port() gave was taken before the server could bind it."""


def listens_on(pid: int, port: int) -> bool:
    """Whether process `pid` holds a listening TCP socket on `port` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


class ServerProcess:
    """`uvicorn api.app:create_app` in a subprocess, with its own data folder."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, app: str = "api.app:create_app"
    ) -> None:
        self.app = app
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "BRANCHLINE_DATA_DIR": str(data_dir),
            "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
            "BRANCHLINE_LOG_LEVEL": "warning",
            **TEST_LIMITS,
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / "server.log"

    def start(self) -> ServerProcess:
        # free_port() closes its socket before the server binds: another worker's server can
        # take the port in between. Then this one exits ("address already in use") while the
        # other answers /healthz, and the test talked to a stranger (a reset limit of 3 an
        # hour instead of the module's 1,000). So ready means: our process holds the port.
        for _ in range(3):
            try:
                return self._start_once()
            except PortTaken:
                old = self.url
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
                self.env = {k: v.replace(old, self.url) for k, v in self.env.items()}
        return self._start_once()

    def _start_once(self) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                self.app,
                "--http",  # the protocol `branchline serve` runs
                "api.core.http_protocol:HttpProtocol",
                "--loop",  # and its event loop
                "api.core.event_loop:new_event_loop",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "2",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not self._ready():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for the server on {self.url} (log: {self.log_path})")
            time.sleep(0.05)
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            said = self.log_path.read_text()[-3000:]
            if "address already in use" in said.lower():
                raise PortTaken(said)
            raise RuntimeError(f"server exited: {said}")
        if not listens_on(self.proc.pid, self.port):
            return False
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()


@pytest.fixture(scope="session")
def dns():
    """A real DNS server on a loopback port answering TXT records a test publishes
    (tests/sso/dns.py); a module's SERVER_ENV names it to the server (tests/sso/conftest.py)."""
    # Imported here: only the modules that use the fixture need dnslib loaded.
    from tests.sso.dns import TestDns

    server = TestDns().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    env = getattr(request.module, "SERVER_ENV", None)
    if callable(env):  # settings naming a server a fixture starts (tests/sso: the test DNS server)
        env = env(request)
    srv = ServerProcess(tmp_path_factory.mktemp("server"), env=env).start()
    yield srv
    srv.stop()


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


STRONG_PASSWORD = "correct horse battery staple 42"


class Tenant:
    """A freshly registered tenant with its owner signed in."""

    def __init__(self, http: httpx.Client, name: str | None = None, starter_library: bool = False) -> None:
        self.http = http
        self.owner_email = unique_email("owner")
        self.password = STRONG_PASSWORD
        r = http.post(
            "/api/v1/auth/register",
            json={
                "tenant_name": name or f"MSP {secrets.token_hex(3)}",
                "email": self.owner_email,
                "password": self.password,
                "display_name": "Owner",
                "starter_library": starter_library,
            },
        )
        assert r.status_code == 201, r.text
        self.tokens = r.json()
        self.me = http.get("/api/v1/me", headers=self.headers).json()
        self.id = self.me["tenant"]["id"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def add_user(self, role: str, email: str | None = None) -> Member:
        email = email or unique_email(role)
        r = self.http.post(
            "/api/v1/users",
            headers=self.headers,
            json={"email": email, "role": role, "password": STRONG_PASSWORD, "display_name": role.title()},
        )
        assert r.status_code == 201, r.text
        return Member(self.http, r.json(), STRONG_PASSWORD)


class Member:
    def __init__(self, http: httpx.Client, user: dict, password: str) -> None:
        self.http = http
        self.user = user
        self.id = user["id"]
        self.email = user["email"]
        self.password = password
        r = http.post("/api/v1/auth/login", json={"email": self.email, "password": password})
        assert r.status_code == 200, r.text
        self.tokens = r.json()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


@pytest.fixture
def tenant(http):
    return Tenant(http)


@pytest.fixture
def make_tenant(http):
    return lambda **kw: Tenant(http, **kw)


@pytest.fixture
def receiver():
    """A real HTTP receiver on a loopback port (tests/webhooks/receiver.py), stopped after the test."""
    from tests.webhooks.receiver import Receiver

    r = Receiver().start()
    yield r
    r.stop()


def run_async(coro):
    """Run a coroutine to completion on a fresh event loop in its own thread.

    The browser tests' session-wide Playwright keeps an event loop running on the main thread,
    so `asyncio.run` there fails for every later test that drives an ASGI app directly."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def pytest_collection_modifyitems(config, items):
    """With `-n` (pytest-xdist, as `make test` runs), what runs side by side: the browser tests
    one after another on one worker (each drives Chromium against its own server; two at once
    would slow both past their waits), every other test file whole on any worker (its
    module-scoped server is started once). `--dist loadgroup` reads these groups."""
    for item in items:
        path = Path(str(item.fspath)).relative_to(ROOT).as_posix()
        group = "browser" if path.startswith("tests/browser/") else path
        item.add_marker(pytest.mark.xdist_group(group))
