"""A real HTTP receiver for webhook tests: records every request, answers what the test says.

It listens on a loopback port in a thread of the test process. `stop()` closes the port (the
receiver is down: connections are refused) and `start()` opens the same port again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import free_port, wait_until


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.status = 200
        self.answer = b'{"ok": true}'
        self.location: str | None = None  # answer a redirect there
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                if receiver.location:
                    self.send_response(307)
                    self.send_header("location", receiver.location)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self.send_response(receiver.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)

    def bodies(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def of_type(self, event_type: str) -> list[Received]:
        import json

        return [r for r in self.bodies() if json.loads(r.body).get("type") == event_type]

    def wait_for(self, count: int, timeout: float = 20.0, event_type: str | None = None) -> list[Received]:
        def enough():
            got = self.of_type(event_type) if event_type else self.bodies()
            return got if len(got) >= count else None

        return wait_until(enough, timeout=timeout, message=f"{count} webhook deliveries")
