"""The server's event loop takes waiting connections in batches: a burst of phones
reconnecting to a busy server is taken 16 a turn, not one per turn (plain uvloop took
201 turns for the 200 connections below), over TLS as well, and a server out of
file descriptors keeps running and serves again once some are free."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from api.core.event_loop import ACCEPT_PER_TURN, new_event_loop
from tests.conftest import ROOT, wait_until


def run_on_server_loop(coro_fn):
    """`coro_fn()` on the server's loop, in a thread of its own: the browser tests' Playwright
    keeps a loop running on this thread of the worker (tests/conftest.py: `run_async`)."""

    def run():
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            return runner.run(coro_fn())

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


class Counting(asyncio.Protocol):
    def __init__(self, made: list[asyncio.Transport]) -> None:
        self.made = made

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.made.append(transport)


def test_connections_that_arrive_during_a_busy_turn_are_taken_sixteen_a_turn() -> None:
    n = 200

    async def scenario() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        made: list[asyncio.Transport] = []
        server = await loop.create_server(lambda: Counting(made), "127.0.0.1", 0, backlog=2048)
        port = server.sockets[0].getsockname()[1]
        clients: list[socket.socket] = []

        def busy_turn() -> None:
            # The loop is busy (a long turn) while a team's phones all reconnect.
            for _ in range(n):
                clients.append(socket.create_connection(("127.0.0.1", port)))

        loop.call_soon(busy_turn)
        await asyncio.sleep(0)
        turns = 0
        while len(made) < n and turns < 1000:
            turns += 1
            await asyncio.sleep(0)
        server.close()
        await server.wait_closed()
        for c in clients:
            c.close()
        for t in made:
            t.close()
        return turns, len(made)

    turns, accepted = run_on_server_loop(scenario)
    assert accepted == 200
    # 16 a turn (ACCEPT_PER_TURN), and one more turn hands the last to their protocol.
    assert turns <= 200 // ACCEPT_PER_TURN + 3, f"{turns} turns of the loop to accept {accepted} connections"


def test_connections_accepted_but_not_started_close_with_the_server() -> None:
    """A connection is handed to uvloop a turn after it is accepted. One accepted just before
    a shutdown closes with the server instead of being served unknown to uvicorn (which would
    then wait its whole grace period on it)."""

    async def scenario() -> tuple[list[asyncio.Transport], list[bytes]]:
        loop = asyncio.get_running_loop()
        made: list[asyncio.Transport] = []
        server = await loop.create_server(lambda: Counting(made), "127.0.0.1", 0)
        listening = server.sockets[0]
        clients = [socket.create_connection(listening.getsockname()) for _ in range(5)]
        # Nothing has yielded since: accept what waits, then close, in one step of the loop.
        server._accept_waiting(listening)  # type: ignore[attr-defined]
        server.close()
        await asyncio.sleep(0.05)
        seen = []
        for c in clients:
            c.settimeout(5)
            seen.append(c.recv(1))
            c.close()
        return made, seen

    made, seen = run_on_server_loop(scenario)
    assert made == []
    assert seen == [b""] * 5  # each client sees its connection closed


def test_an_empty_host_listens_on_every_interface() -> None:
    async def scenario() -> list[str]:
        server = await asyncio.get_running_loop().create_server(asyncio.Protocol, "", 0)
        hosts = [s.getsockname()[0] for s in server.sockets]
        server.close()
        return hosts

    assert "0.0.0.0" in run_on_server_loop(scenario)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key)]
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [*request, "-out", str(cert), "-days", "2", *subject],
        check=True,
        capture_output=True,
    )
    return cert, key


class Echo(asyncio.Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(b"echo:" + data)


def test_tls_connections_are_served_and_a_failed_handshake_harms_nothing(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))

    async def scenario() -> list[bytes]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Echo, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        answers = []
        # A client speaking plain HTTP to the TLS port, and one that leaves mid-handshake.
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answers.append(await asyncio.wait_for(r.read(), 10))  # closed without an answer
        w.close()
        raw = socket.create_connection(("127.0.0.1", port))
        raw.close()
        for i in range(3):
            r, w = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
            w.write(b"hello %d" % i)
            answers.append(await asyncio.wait_for(r.readexactly(12), 10))
            w.close()
        server.close()
        await server.wait_closed()
        return answers

    answers = run_on_server_loop(scenario)
    assert answers[0] == b""
    assert answers[1:] == [b"echo:hello 0", b"echo:hello 1", b"echo:hello 2"]


# A server process whose descriptors run out: 40 in all, about 10 of them its own.
_OUT_OF_FDS = textwrap.dedent(
    """
    import asyncio, resource, sys
    sys.path.insert(0, sys.argv[1])
    from api.core.event_loop import ACCEPT_PER_TURN, new_event_loop

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
        def data_received(self, data):
            self.transport.write(b"echo:" + data)

    async def main():
        server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))
        await asyncio.Event().wait()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())
    """
)


def test_a_server_out_of_descriptors_keeps_running_and_serves_again_when_some_are_free() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _OUT_OF_FDS, str(ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        held = []
        for _ in range(60):  # more than the server can take
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            held.append(c)

        def answers(c: socket.socket) -> bool:
            c.settimeout(0.2)
            try:
                c.sendall(b"ping")
                return c.recv(16) == b"echo:ping"
            except TimeoutError:
                return False

        # Some connections are served; the rest wait in the kernel's queue.
        wait_until(lambda: answers(held[0]), timeout=10, message="the first connection served")
        assert proc.poll() is None
        for c in held:
            c.close()

        # With descriptors free again, a new connection is served (within the 1 s retry).
        def fresh_answers() -> bool:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
                return answers(c)

        wait_until(fresh_answers, timeout=20, message="a new connection served after the shortage")
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.stderr is not None
    assert "cannot accept connections" in proc.stderr.read()
