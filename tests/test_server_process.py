"""The suite's own server harness: a port taken between free_port() and the server's bind (by
another worker's server) never makes a test talk to the stranger that holds it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.conftest import ServerProcess, free_port


class _Stranger(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status": "someone else"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_server_whose_port_was_taken_starts_on_another_and_answers_itself(tmp_path):
    stranger = ThreadingHTTPServer(("127.0.0.1", free_port()), _Stranger)
    threading.Thread(target=stranger.serve_forever, daemon=True).start()
    taken = stranger.server_address[1]
    srv = ServerProcess(tmp_path, env={"BRANCHLINE_PUBLIC_URL": f"http://127.0.0.1:{taken}"})
    srv.port, srv.url = taken, f"http://127.0.0.1:{taken}"
    srv.env["BRANCHLINE_PUBLIC_URL"] = srv.url
    try:
        srv.start()
        assert srv.port != taken
        assert httpx.get(srv.url + "/healthz").json()["status"] == "ok"
        assert srv.env["BRANCHLINE_PUBLIC_URL"] == srv.url, "settings naming the old address follow"
    finally:
        srv.stop()
        stranger.shutdown()
