"""Conformance: a PouchDB push interrupted by SIGKILL of the server resumes from its checkpoint.

This module has its own server (the test kills it), restarted on the same port and data
folder, as a crashed service comes back under systemd.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path

import httpx
from app_for_tests import ADMIN

NODE_DIR = Path(__file__).resolve().parents[1] / "node"

N = 5000
BATCH = 100  # PouchDB's default batch_size, used by the script


class NodeProcess:
    """A Node script speaking one JSON line at a time on stdout, read with deadlines."""

    def __init__(self, script: str, args: dict) -> None:
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / script), json.dumps(args)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout: float = 120) -> dict:
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise AssertionError(f"node exited early: {self.proc.stderr.read()[-3000:]}")
        return json.loads(line)

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def stats(server) -> dict:
    return httpx.get(server.url + "/_test/stats", timeout=5).json()


def test_push_interrupted_by_sigkill_resumes_from_its_checkpoint(sync_server, db, client, node_modules):
    url = f"{sync_server.tenant_url()}/{db}"
    script = NodeProcess(
        "interrupted.js", {"url": url, "auth": {"basic": list(ADMIN)}, "n": N, "kill_after": 1500}
    )
    try:
        progress = script.next()
        assert progress["event"] == "progress" and progress["docs_written"] >= 1500, progress
        sync_server.kill()
        failed = script.next()
        assert failed["event"] == "failed", f"the replication was not interrupted: {failed}"

        sync_server.start()
        survived = client.get(db).json()["doc_count"]
        assert 1500 <= survived < N, survived
        assert stats(sync_server)["bulk_docs_received"] == 0

        started = time.monotonic()
        script.send("resume")
        done = script.next()
        assert done["event"] == "done" and done["ok"] is True, done
        assert time.monotonic() - started < 120
    finally:
        script.close()

    assert client.get(db).json()["doc_count"] == N, "documents were lost"
    received = stats(sync_server)["bulk_docs_received"]
    missing = N - survived
    # Resumed from the checkpoint: at most the one batch in flight at the kill is re-sent.
    assert missing <= received <= missing + BATCH, (received, missing)
    assert client.get(f"{db}/doc-004999").json()["n"] == 4999
