"""Issue 15, point 5: every REST route has a body ceiling, answered with 413 before the
server reads past it, whether the body declares its length or arrives chunked.

The attack: a 200 MB JSON body to the unauthenticated sign-in route was read whole (server
memory 88 -> 679 MB). These tests send it over raw sockets and watch the server's memory.
"""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

HUGE = 200 * 1024 * 1024
CHUNK = b"x" * 65536


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _connect(server) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    return sock


def _read_response(sock: socket.socket, timeout: float = 30.0) -> tuple[int, dict]:
    """The status and JSON body of the answer (the server closes the connection after it)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data or not _complete(data):
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _send_until_answered(sock: socket.socket, chunks, budget_s: float = 60.0) -> int:
    """Send `chunks` while the server reads them; stop as soon as it answers. Returns the
    bytes sent."""
    sent = 0
    deadline = time.monotonic() + budget_s
    sock.setblocking(False)
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            readable, writable, _ = select.select([sock], [sock], [], max(0.0, deadline - time.monotonic()))
            if readable:
                sock.setblocking(True)
                return sent
            if not writable:
                raise AssertionError(f"the server neither read nor answered after {sent} bytes")
            try:
                n = sock.send(view)
            except (BrokenPipeError, ConnectionResetError):
                sock.setblocking(True)
                return sent
            sent += n
            view = view[n:]
    sock.setblocking(True)
    return sent


def test_a_huge_declared_body_to_sign_in_is_refused_before_it_is_read(server):
    before = _rss_mb(server.proc.pid)
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {HUGE}\r\n\r\n".encode()
            + b'{"email": "'
            + CHUNK
        )
        sent = _send_until_answered(sock, (CHUNK for _ in range(HUGE // len(CHUNK))))
        status, body = _read_response(sock)
    assert status == 413 and body["error"] == "too_large", body
    assert "16 KB" in body["reason"]
    assert sent < 16 * 1024 * 1024, f"the client could push {sent} bytes before the answer"
    assert _rss_mb(server.proc.pid) - before < 30


def test_a_chunked_body_without_length_is_cut_off_at_the_ceiling(server):
    before = _rss_mb(server.proc.pid)
    framed = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sent = _send_until_answered(sock, (framed for _ in range(HUGE // len(CHUNK))))
        status, body = _read_response(sock)
    assert status == 413 and body["error"] == "too_large", body
    assert sent < 16 * 1024 * 1024, f"the client could push {sent} bytes before the answer"
    assert _rss_mb(server.proc.pid) - before < 30


@pytest.mark.parametrize(
    "method, path, size",
    [
        ("POST", "/api/v1/auth/register", 64 * 1024),
        ("POST", "/api/v1/sessions/s1/events", 2 * 1024 * 1024),
        ("PUT", "/api/v1/export-templates/html", 2 * 1024 * 1024),
        ("POST", "/api/v1/trees/import", 11 * 1024 * 1024),
    ],
)
def test_each_route_has_a_ceiling_of_its_own(http, tenant, method, path, size):
    body = json.dumps({"source": "x" * size}).encode()
    r = http.request(
        method, path, headers={**tenant.headers, "Content-Type": "application/json"}, content=body
    )
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "too_large"


def test_bodies_under_the_ceiling_still_reach_their_route(http, tenant):
    # A large tree is well under the tree ceiling: the route itself answers (here: the tree
    # is not valid), not the limit.
    tree = {
        "title": "Big",
        "start": "a",
        "nodes": {f"n{i}": {"type": "action", "title": "x" * 2000} for i in range(1000)},
    }
    r = http.post("/api/v1/trees/validate", headers=tenant.headers, json=tree)
    assert r.status_code != 413, r.text
    r = http.put(
        "/api/v1/export-templates/html", headers=tenant.headers, json={"source": "<p>{{ m.title }}</p>"}
    )
    assert r.status_code == 200, r.text
