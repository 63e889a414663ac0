"""moto_server on a free loopback port: a real S3-compatible HTTP endpoint for the S3 tests.

moto does not check pre-signed signatures or their expiry, so the tests check our own rules
(expiry written into the URL, who may ask for one, what confirm accepts) directly.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_until


class MotoServer:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> MotoServer:
        exe = Path(sys.executable).with_name("moto_server")
        cmd = [str(exe)] if exe.exists() else [shutil.which("moto_server") or "moto_server"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*cmd, "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT
        )
        wait_until(self._ready, timeout=30, message=f"moto_server on {self.url} (log: {self.log_path})")
        return self

    def _ready(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise RuntimeError(f"moto_server exited: {self.log_path.read_text()[-2000:]}")
        return httpx.get(self.url + "/moto-api/", timeout=1).status_code < 500

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    srv = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield srv
    srv.stop()
