"""The HTTP plumbing the fake RMMs share: a threaded server on a loopback port that records
every request, answers from the fake's `_answer`, and can be told to fail the next requests
(429 with Retry-After, or 5xx) or to hold one kind of request (to lose its answer).

Nothing a fake receives is ever executed: a "job" is a record whose state and output the
test decides (`Outcome`); the script text is only decoded, to check that it arrived intact.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import free_port


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float
    status: int = 0


@dataclass
class Outcome:
    """What a job on the fake does: finishes after `polls` state reads (never when None) with
    `exit_code` and `output`."""

    exit_code: int = 0
    output: str = "ok"
    polls: int | None = 1


def decode_script(encoded: str) -> str:
    """The script text back from `-EncodedCommand` Base64 (UTF-16LE), as PowerShell reads it."""
    return base64.b64decode(encoded).decode("utf-16-le")


@dataclass
class FakeServer:
    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._failures: list[tuple[int, int, int | None]] = []  # (count, status, retry_after)
        self._hold: dict[str, threading.Event] = {}
        self.outcome = Outcome()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, count: int, status: int, retry_after: int | None = None) -> None:
        """The next `count` requests (token requests aside) answer `status`."""
        with self._lock:
            self._failures.append((count, status, retry_after))

    def hold(self, path_part: str) -> threading.Event:
        """Requests whose path contains `path_part` are handled, then wait for the event
        before answering (a lost answer, when the client gives up first)."""
        event = threading.Event()
        self._hold[path_part] = event
        return event

    def calls(self, method: str, path_part: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _go(self, method: str) -> None:
                fake._serve(self, method)

            def do_GET(self) -> None:
                self._go("GET")

            def do_POST(self) -> None:
                self._go("POST")

            def do_PUT(self) -> None:
                self._go("PUT")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for event in self._hold.values():
            event.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length) if length else b""
        ctype = h.headers.get("content-type") or ""
        if "application/x-www-form-urlencoded" in ctype:
            body: Any = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            body = json.loads(raw) if raw else None
        req = Request(
            method,
            parts.path,
            {k: v[0] for k, v in parse_qs(parts.query).items()},
            {k.lower(): v for k, v in h.headers.items()},
            body,
            time.time(),
        )
        with self._lock:
            self.requests.append(req)
            failure = None
            if self._failures and not self._is_token(parts.path):
                count, status, retry_after = self._failures[0]
                failure = (status, retry_after)
                if count <= 1:
                    self._failures.pop(0)
                else:
                    self._failures[0] = (count - 1, status, retry_after)
        if failure is not None:
            status, answer, headers = failure[0], self._error_body(failure[0]), {}
            if failure[1] is not None:
                headers["Retry-After"] = str(failure[1])
        else:
            with self._lock:
                status, answer, headers = self._answer(req)
        req.status = status
        for part, event in self._hold.items():
            if part in parts.path:
                event.wait(30)
        payload = b"" if answer is None else json.dumps(answer).encode()
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: its answer is lost

    def _is_token(self, path: str) -> bool:
        return path.endswith("/oauth/token")

    def _error_body(self, status: int) -> Any:
        return {"message": f"fake outage {status}"}

    def _answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError
