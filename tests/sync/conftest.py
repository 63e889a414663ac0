"""Fixtures of the sync tests: a real uvicorn serving `app_for_tests` on a free port.

One server per test module (`sync_server`), a freshly named database per test (`db`).
Modules set `SYNC_POLICY = "doc"` to run against the per-document test policy.
Node-driven tests use `node` (runs a script under tests/node and parses its JSON) and
`pouchdb_server` (pouchdb-server --in-memory from a scratch folder, the reference).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
APP_DIR = Path(__file__).resolve().parent

sys.path.insert(0, str(APP_DIR))
from app_for_tests import ADMIN, TENANT  # noqa: E402

from sync.embedded import EmbeddedStore  # noqa: E402

# One implementation of these helpers for the whole suite.
from tests.conftest import free_port, wait_until as poll  # noqa: E402


class SyncServer:
    """uvicorn + the sync router over EmbeddedStore, in a subprocess; restartable in place."""

    # The ASGI app uvicorn loads (subclasses serve the same router over another store).
    app_dir: Path = APP_DIR
    app: str = "app_for_tests:app"

    def __init__(self, data_dir: Path, policy: str = "role", port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "BRANCHLINE_TEST_DATA_DIR": str(data_dir), "BRANCHLINE_TEST_POLICY": policy}
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / "server.log"

    def tenant_url(self, tenant: str = TENANT) -> str:
        return f"{self.url}/sync/{tenant}"

    def start(self) -> SyncServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(self.app_dir),
                    self.app,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    "--timeout-graceful-shutdown",
                    "1",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        poll(self._ready, timeout=30, message=f"sync server on {self.url} (log {self.log_path})")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
        r = httpx.get(self.url + "/_test/stats", timeout=1)
        return r.status_code == 200

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; what a crash or OOM kill does."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def peak_rss_kb(self) -> int:
        """VmHWM of the server process (Linux), in kB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0


def _server_fixture(request, tmp_path_factory) -> SyncServer:
    policy = getattr(request.module, "SYNC_POLICY", "role")
    return SyncServer(tmp_path_factory.mktemp("sync-server"), policy=policy).start()


@pytest.fixture
def store(tmp_path):
    """An embedded store of its own, in the test's folder."""
    s = EmbeddedStore(tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="module")
def sync_server(request, tmp_path_factory):
    srv = _server_fixture(request, tmp_path_factory)
    yield srv
    srv.stop()


@pytest.fixture
def client(sync_server):
    """httpx client on the tenant root of `tenanta1`, signed in as its admin (Basic)."""
    with httpx.Client(base_url=sync_server.tenant_url() + "/", auth=ADMIN, timeout=30) as c:
        yield c


@pytest.fixture
def as_user(sync_server):
    """`as_user(("viewer-a", pw))` or `as_user(bearer="token-x")`: more clients on tenanta1."""
    opened: list[httpx.Client] = []

    def make(
        auth: tuple[str, str] | None = None, *, bearer: str | None = None, tenant: str = TENANT
    ) -> httpx.Client:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        c = httpx.Client(
            base_url=sync_server.tenant_url(tenant) + "/", auth=auth, headers=headers, timeout=30
        )
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def db(client):
    """A freshly created, randomly named database of tenanta1, dropped afterwards."""
    name = "db-" + uuid.uuid4().hex[:12]
    r = client.put(name)
    assert r.status_code == 201, r.text
    yield name
    client.delete(name)


# --- Node: real PouchDB and pouchdb-server --------------------------------------------------
def _node_ready() -> bool:
    return (NODE_DIR / "node_modules" / "pouchdb" / "package.json").exists() and shutil.which(
        "node"
    ) is not None


@pytest.fixture(scope="session")
def node_modules():
    """tests/node/node_modules, installed with `npm ci` from the lockfile when missing.

    tests/node/.npmrc sets ignore-scripts, so pouchdb-server does not compile sqlite3.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for the PouchDB conformance tests")
    if not _node_ready():
        proc = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0 or not _node_ready():
            pytest.fail(f"`npm ci` in tests/node failed:\n{proc.stderr[-3000:]}")
    return NODE_DIR / "node_modules"


def run_node(script: str, args: dict[str, Any], timeout: float = 240) -> dict[str, Any]:
    """Run `node tests/node/<script> '<json args>'`; its last stdout line is the JSON result."""
    proc = subprocess.run(
        ["node", str(NODE_DIR / script), json.dumps(args)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        raise AssertionError(
            f"node {script} failed ({proc.returncode}):\n"
            f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


@pytest.fixture
def node(node_modules):
    return run_node


@pytest.fixture(name="poll")
def poll_fixture():
    return poll


class PouchDBServer:
    """`pouchdb-server --in-memory` on a free port, run from a scratch folder."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PouchDBServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        binary = NODE_DIR / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
        with open(self.workdir / "stdout.log", "ab") as log:
            self.proc = subprocess.Popen(
                ["node", str(binary), "--in-memory", "-p", str(self.port), "-n"],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        poll(
            lambda: httpx.get(self.url + "/", timeout=1).status_code == 200,
            timeout=30,
            message="pouchdb-server",
        )
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def pouchdb_server(node_modules, tmp_path_factory):
    srv = PouchDBServer(tmp_path_factory.mktemp("pouchdb-server")).start()
    yield srv
    srv.stop()
