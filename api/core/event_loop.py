"""The event loop the server runs: uvloop, taking waiting connections 16 a turn, not one.

libuv (under uvloop) accepts one connection per turn of its loop since 2022 (libuv pull
request 3696: a second `accept` usually finds nothing, and one per turn is fairer to other
processes sharing the socket). That is right for an idle loop and wrong for a busy one: with
500 engineers' feeds and writes on one process a turn took about 0.6 s, so a burst of new
connections (phones back in signal, a restart, a proxy opening its pool) waited in the
kernel's queue for 10 to 30 s each, one accepted per turn, while every request already in
the app was answered within a second (benchmarks/load_team.py; `strace` showed one `accept4`
every 0.6 s and `ss -ltn` 170 to 1,600 connections waiting). Python's own loop accepts up to
the backlog per turn but costs more per request everywhere else.

So the server keeps uvloop and listens itself: `create_server` returns a `BatchAcceptServer`
that watches the listening socket and, each time it is readable, accepts until the queue is
empty or `ACCEPT_PER_TURN` were taken, handing every connection to uvloop's
`connect_accepted_socket`. Connections are then exactly uvloop's, TLS included. With the
whole team's connections dropped at once (`load_team.py --engineers 500 --drop-at 30`), REST
p99 went from 7.2 and 11.2 s to 2.7 and 3.0 s (README, "Where one process stops").

    branchline serve                                   (api/cli.py passes it to uvicorn)
    uvicorn --loop api.core.event_loop:new_event_loop ...
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl as ssl_module
from collections.abc import Callable, Iterable
from typing import Any

import uvloop

SPEC = "api.core.event_loop:new_event_loop"

log = logging.getLogger("branchline.server")

# Out of descriptors or kernel memory: accepting again at once would fail again, so listening
# pauses for a second, as asyncio's does (ACCEPT_RETRY_DELAY). Any other error of `accept`
# is the waiting connection's own (accept(2): reset, unreachable, refused by a firewall) and
# the next one is taken.
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
ACCEPT_RETRY_DELAY_S = 1.0
# At most this many connections are taken per turn: 16 times libuv's rate when a burst
# waits, yet never a whole team's first requests taken into the loop in one turn. Taking
# every waiting connection at once (asyncio takes up to the backlog) made a whole
# 500-engineer run slower (benchmarks/load_team.py, four runs: REST p99 0.7 to 1.3 s against
# 0.15 to 0.26 s, RSS 15 to 20 MB higher), although no connection was opened after the
# start; 16 per turn was as good as uvloop's own in steady running (three runs).
ACCEPT_PER_TURN = 16


class BatchAcceptServer(asyncio.AbstractServer):
    """Listens on `sockets` and accepts, each time one is readable, what is waiting (at most
    `ACCEPT_PER_TURN`).

    What uvicorn uses of an `asyncio.Server` is here: `sockets`, `close`, `wait_closed`.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sockets: Iterable[socket.socket],
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        *,
        ssl: ssl_module.SSLContext | None,
        ssl_handshake_timeout: float | None,
        backlog: int,
    ) -> None:
        self._loop = loop
        self._sockets = tuple(sockets)
        self._factory = protocol_factory
        self._ssl = ssl
        self._ssl_handshake_timeout = ssl_handshake_timeout if ssl is not None else None
        self._batch = max(1, min(backlog, ACCEPT_PER_TURN))
        self._serving = False
        self._closed = False
        # Accepted, not yet handed to uvloop (that happens in the task's first step, a turn
        # later): closed with the server, so that a shutdown never waits on a connection
        # uvicorn does not know of yet.
        self._pending: dict[socket.socket, asyncio.Task[None]] = {}

    # -- asyncio.AbstractServer -------------------------------------------------------

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._closed else self._sockets

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._serving

    async def start_serving(self) -> None:
        self._listen()

    async def serve_forever(self) -> None:
        self._listen()
        await self._loop.create_future()  # until cancelled, as asyncio's

    def close(self) -> None:
        """Stops listening and closes the listening sockets; open connections stay."""
        if self._closed:
            return
        self._closed = True
        self._stop_listening()
        for sock in self._sockets:
            sock.close()
        for conn, task in list(self._pending.items()):
            task.cancel()
            conn.close()
        self._pending.clear()

    async def wait_closed(self) -> None:
        # Nothing to wait for: uvicorn itself waits for the connections it still has.
        return None

    # -- accepting ------------------------------------------------------------------------

    def _listen(self) -> None:
        if self._serving or self._closed:
            return
        self._serving = True
        for sock in self._sockets:
            sock.setblocking(False)
            self._loop.add_reader(sock.fileno(), self._accept_waiting, sock)

    def _stop_listening(self) -> None:
        if not self._serving:
            return
        self._serving = False
        for sock in self._sockets:
            if sock.fileno() != -1:
                self._loop.remove_reader(sock.fileno())

    def _accept_waiting(self, sock: socket.socket) -> None:
        for _ in range(self._batch):
            try:
                conn, _addr = sock.accept()
            except (BlockingIOError, InterruptedError):
                return  # the queue is empty
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    # The waiting connection's own error (a client that gave up, ...).
                    log.debug("a connection failed while waiting to be accepted: %r", exc)
                    continue
                log.error(
                    "cannot accept connections (%s); listening again in %.0f s", exc, ACCEPT_RETRY_DELAY_S
                )
                self._stop_listening()
                self._loop.call_later(ACCEPT_RETRY_DELAY_S, self._listen)
                return
            conn.setblocking(False)
            self._pending[conn] = self._loop.create_task(self._serve(conn))

    async def _serve(self, conn: socket.socket) -> None:
        self._pending.pop(conn, None)
        try:
            await self._loop.connect_accepted_socket(
                self._factory, conn, ssl=self._ssl, ssl_handshake_timeout=self._ssl_handshake_timeout
            )
        except (OSError, ssl_module.SSLError, TimeoutError) as exc:
            # A client that left, or failed its TLS handshake: nothing reached the app. The
            # socket is not closed here: once uvloop has taken it, uvloop closes it (and
            # detaches this object); before that, dropping the object closes it.
            log.debug("connection dropped before it started: %r", exc)
        except Exception:
            # Anything else (the protocol's own start failed) is a bug to see in the log, not
            # a task's unretrieved exception.
            log.exception("a connection could not be started")


def bind(host: str | list[str] | None, port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets for `host` (every address it resolves to) and `port`, as
    `loop.create_server` makes them: SO_REUSEADDR, IPv6 sockets only IPv6."""
    # An empty host means every interface, as for uvloop's and asyncio's own servers.
    hosts = [h or None for h in host] if isinstance(host, list) else [host or None]
    infos: list[tuple[Any, ...]] = []
    for one in hosts:
        infos += socket.getaddrinfo(
            one, port, family=socket.AF_UNSPEC, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    sockets: list[socket.socket] = []
    seen: set[tuple[Any, ...]] = set()
    try:
        for family, kind, proto, _name, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:
                continue  # a family this kernel does not offer (IPv6 switched off), as uvloop skips it
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise OSError(
                    exc.errno, f"error while attempting to bind on address {address!r}: {exc.strerror}"
                ) from None
            sock.listen(backlog)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    if not sockets:
        raise OSError(errno.EADDRNOTAVAIL, f"no address of {host!r} can be listened on here")
    return sockets


class Loop(uvloop.Loop):
    """uvloop whose TCP servers take up to `ACCEPT_PER_TURN` waiting connections each turn."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | list[str] | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: ssl_module.SSLContext | None = None,
        ssl_handshake_timeout: float | None = None,
        start_serving: bool = True,
        **kwargs: Any,
    ) -> asyncio.AbstractServer:
        unix = sock is not None and sock.family == socket.AF_UNIX
        if kwargs or unix or (sock is None and port is None):
            # What the server never asks for (Unix sockets, reuse_port, ...) stays uvloop's.
            uvloop_create_server: Any = super().create_server
            return await uvloop_create_server(
                protocol_factory,
                host,
                port,
                sock=sock,
                backlog=backlog,
                ssl=ssl,
                ssl_handshake_timeout=ssl_handshake_timeout,
                start_serving=start_serving,
                **kwargs,
            )
        if sock is not None:
            if host is not None or port is not None:
                raise ValueError("host/port and sock can not be specified at the same time")
            # Bound by uvicorn's parent process for its workers; listening is the loop's job.
            sock.listen(backlog)
            sockets = [sock]
        else:
            assert port is not None
            sockets = bind(host, port, backlog)
        server = BatchAcceptServer(
            self,
            sockets,
            protocol_factory,
            ssl=ssl,
            ssl_handshake_timeout=ssl_handshake_timeout,
            backlog=backlog,
        )
        if start_serving:
            server._listen()
        return server


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop factory uvicorn takes with `--loop api.core.event_loop:new_event_loop`."""
    return Loop()
