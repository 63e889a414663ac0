"""The HTTP/1.1 protocol the server runs: uvicorn's httptools one, sending each answer in one piece.

uvicorn writes an answer's status line and headers to the socket when the application
starts the answer, and its body with a second write: two `send` system calls, two TCP
segments and two wake-ups of the client for every answer. A replication makes hundreds of
small requests and a team's live feeds thousands, so those calls were a sixth of the
server's time under load (benchmarks/load_team.py, py-spy). Here the transport gathers
what is written during one turn of the event loop and sends it at the end of that turn:
an answer's head and body leave together, and nothing waits longer than the turn (a
streamed answer's chunks still leave as they are produced).

    branchline serve                          (api/cli.py uses it)
    uvicorn --http api.core.http_protocol:HttpProtocol ...
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

SPEC = "api.core.http_protocol:HttpProtocol"


class GatheringTransport:
    """A transport whose writes during one turn of the event loop leave in one `write`.

    Everything else is the wrapped transport's. Only the event loop's thread writes (ASGI
    `send` is a coroutine), so the buffer needs no lock.
    """

    __slots__ = ("_loop", "_pending", "_scheduled", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(bytes(data))
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        # What was written before closing still goes out (an error answer, then close).
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(p) for p in self._pending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a `GatheringTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(GatheringTransport(transport, self.loop))  # type: ignore[arg-type]
