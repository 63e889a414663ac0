"""The deployment of docker-compose.yml, minus Docker: Caddy with the repo's Caddyfile in
front of two Branchline instances on one CouchDB (pouchdb-server).

Caddy serves HTTPS with its own CA (the Caddyfile's default, for `localhost`); the test
trusts that CA's root exactly as a phone would be told to. A sign-in, the API and a live
PouchDB sync go through Caddy. Then one instance loses CouchDB while it keeps running (its
`/healthz` fails, so Caddy's active health check takes it out of rotation: without that
check half the requests would fail), comes back, and the other instance stops outright;
everything keeps working through whichever instance is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.conftest import ROOT, ServerProcess, Tenant, free_port, wait_until
from tests.couchdb.helpers import HERE
from tests.sessions.test_sessions_api import publish_tree, start
from tests.trees.factories import valid_tree

CADDYFILE = ROOT / "deploy" / "Caddyfile"


class Forwarder:
    """A TCP forwarder between one instance and CouchDB, so that instance alone can lose its
    database while it keeps running (and answering) like a real instance cut off by a network fault."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> Forwarder:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Caddy:
    """`caddy run` with deploy/Caddyfile, its settings from the environment as in docker-compose."""

    def __init__(self, workdir: Path, upstreams: list[str], https_port: int) -> None:
        self.workdir = workdir
        self.https_port, self.admin_port = https_port, free_port()
        self.url = f"https://localhost:{self.https_port}"
        self.env = {
            **os.environ,
            "XDG_DATA_HOME": str(workdir / "data"),
            "XDG_CONFIG_HOME": str(workdir / "config"),
            "HOME": str(workdir),
            "BRANCHLINE_SITE": "localhost",
            "BRANCHLINE_UPSTREAMS": " ".join(upstreams),
            "BRANCHLINE_HEALTH_INTERVAL": "1s",
            "CADDY_HTTPS_PORT": str(self.https_port),
            "CADDY_HTTP_PORT": str(free_port()),
            "CADDY_ADMIN": f"127.0.0.1:{self.admin_port}",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "caddy.log"
        self._log_file: IO[bytes] | None = None

    @property
    def root_cert(self) -> Path:
        return self.workdir / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def start(self) -> Caddy:
        exe = shutil.which("caddy")
        assert exe, "Caddy is missing: the test command installs it (apt-get install caddy)"
        self._log_file = open(self.log, "ab")  # Caddy writes it until stop()
        self.proc = subprocess.Popen(
            [exe, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
            cwd=self.workdir,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._ready, timeout=60, message=f"Caddy on {self.url} (log: {self.log})")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"caddy exited: {self.log.read_text()[-3000:]}")
        if not self.root_cert.exists():
            return False
        return httpx.get(self.url + "/healthz", verify=str(self.root_cert), timeout=2).status_code == 200

    def log_size(self) -> int:
        return self.log.stat().st_size

    def reported_up(self, address: str, since: int, state: str = "up") -> bool:
        """Whether Caddy's active health check has logged `address` as up (or, with state="down",
        failing: Caddy 2.6 logs a failed check, not the change of state) since log offset `since`."""
        with open(self.log, "rb") as f:
            f.seek(since)
            lines = f.read().decode(errors="replace").splitlines()
        events = [json.loads(line) for line in lines if line.startswith("{")]
        wanted = (
            {"host is up"}
            if state == "up"
            else {"host is down", "HTTP request failed", "unexpected status code"}
        )
        return any(e.get("msg") in wanted and e.get("host") == address for e in events)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self._log_file is not None:
            self._log_file.close()


@pytest.fixture(scope="module")
def deployment(couchdb, tmp_path_factory):
    https_port = free_port()
    env = {
        **couchdb.env(),
        "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
        "BRANCHLINE_PUBLIC_URL": f"https://localhost:{https_port}",
    }
    # Instance A reaches CouchDB through a forwarder the test can cut.
    link = Forwarder(int(couchdb.url.rsplit(":", 1)[1])).start()
    a = ServerProcess(
        tmp_path_factory.mktemp("behind-caddy-a"), env={**env, "BRANCHLINE_COUCHDB_URL": link.url}
    ).start()
    b = ServerProcess(tmp_path_factory.mktemp("behind-caddy-b"), env=env).start()
    caddy = Caddy(
        tmp_path_factory.mktemp("caddy"),
        [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"],
        https_port=https_port,
    ).start()
    yield caddy, a, b, link
    caddy.stop()
    a.stop()
    b.stop()
    link.stop()


def sync_through(caddy: Caddy, url: str, token: str, sid: str, user_id: str) -> dict:
    """Two PouchDB devices, both through Caddy over TLS: a live pull woken by the other's push."""
    args = {
        "a": {"url": url, "token": token},
        "b": {"url": url, "token": token},
        "sid": sid,
        "user_id": user_id,
        "now": int(time.time() * 1000),
    }
    proc = subprocess.run(
        ["node", str(HERE / "node" / "two_instances.js"), json.dumps(args)],
        cwd=ROOT / "tests" / "node",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(caddy.root_cert)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_sign_in_and_sync_through_caddy_over_tls_and_its_health_checks_route_around_a_failing_instance(
    deployment,
):
    caddy, a, b, link = deployment
    with httpx.Client(base_url=caddy.url, verify=str(caddy.root_cert), timeout=30) as http:
        assert http.get("/healthz").json()["backend"] == "couchdb"
        tenant = Tenant(http)
        credentials = {"email": tenant.owner_email, "password": tenant.password}
        login = http.post("/api/v1/auth/login", json=credentials)
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        me = http.get("/api/v1/me", headers=bearer).json()
        sessions_url = me["sync"]["databases"]["sessions"]
        assert sessions_url == f"{caddy.url}/sync/{tenant.id}/sessions"  # devices are sent to Caddy

        tree_id = publish_tree(http, tenant, valid_tree())
        sid = start(http, tenant, tree_id, title="through caddy")["session_id"]
        out = sync_through(caddy, sessions_url, token, sid, me["user"]["id"])
        assert out["b_has_header"] and len(out["a_event_ids"]) == 2, out

        # Instance A loses CouchDB but keeps running: its own health check fails, and so would
        # half the requests if Caddy kept sending them there. Caddy's active health check
        # takes it out of rotation within about a check interval (1 s here).
        link.stop()
        assert httpx.get(a.url + "/healthz", timeout=30).status_code != 200
        cut_at = time.monotonic()
        # Caddy breaks ties between idle instances at random, so a short run of 200s can come
        # by chance while A is still in rotation (6 in a row did once, 1 in 64): 30 in a row
        # cannot (about 1 in a billion).
        wait_until(
            lambda: all(http.get("/api/v1/me", headers=bearer).status_code == 200 for _ in range(30)),
            timeout=30,
            message="Caddy to stop sending requests to the failing instance",
        )
        print(f"failing instance out of rotation after {time.monotonic() - cut_at:.2f} s")
        answers = [http.get("/api/v1/me", headers=bearer).status_code for _ in range(30)]
        assert answers == [200] * 30
        sid2 = start(http, tenant, tree_id, title="with one instance failing")["session_id"]
        out = sync_through(caddy, sessions_url, token, sid2, me["user"]["id"])
        assert out["b_has_header"] and len(out["a_event_ids"]) == 2, out

        # A recovers and returns to rotation; then B stops outright and A carries everything.
        mark = caddy.log_size()
        link.start()
        wait_until(
            lambda: caddy.reported_up(f"127.0.0.1:{a.port}", mark),
            timeout=30,
            message="Caddy's health check to report instance A up again",
        )
        mark = caddy.log_size()
        b.stop()
        # Caddy 2.6 (Debian's) answers 502 to a POST it sent down a kept-alive connection the
        # stopping instance closed, rather than retrying it; its health check takes the instance
        # out of rotation within a check interval, and from then on nothing fails.
        wait_until(
            lambda: caddy.reported_up(f"127.0.0.1:{b.port}", mark, state="down"),
            timeout=30,
            message="Caddy's health check to report instance B down",
        )
        relogin = http.post("/api/v1/auth/login", json=credentials)
        assert relogin.status_code == 200, relogin.text
        answers = [http.get("/api/v1/me", headers=bearer).status_code for _ in range(20)]
        assert answers == [200] * 20
        sid3 = start(http, tenant, tree_id, title="after one instance stopped")["session_id"]
        out = sync_through(caddy, sessions_url, relogin.json()["access_token"], sid3, me["user"]["id"])
        assert out["b_has_header"] and len(out["a_event_ids"]) == 2, out
