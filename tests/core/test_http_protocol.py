"""The server's transport sends what one turn of the event loop wrote in one piece: an
answer's head and body leave in one segment, a streamed answer's chunks still leave as
they come, and closing sends what was written before."""

from __future__ import annotations

import asyncio

from api.core.http_protocol import GatheringTransport
from tests.conftest import run_async


class _Socket:
    """A transport recording each write as the kernel would receive it."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_one_turn_is_one_send_and_later_turns_send_their_own() -> None:
    async def scenario() -> list[bytes]:
        sock = _Socket()
        t = GatheringTransport(sock, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        t.write(b"{}")
        assert sock.sent == [] and t.get_write_buffer_size() == 40
        await asyncio.sleep(0)  # the turn ends
        t.write(b"5\r\nchunk\r\n")  # a streamed answer's next chunk, a turn later
        await asyncio.sleep(0)
        assert t.get_extra_info("peername") == "info:peername"  # everything else is the socket's
        return sock.sent

    assert run_async(scenario()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"5\r\nchunk\r\n"]


def test_close_sends_what_was_written_first_and_nothing_goes_to_a_closed_socket() -> None:
    async def scenario() -> _Socket:
        sock = _Socket()
        t = GatheringTransport(sock, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        t.close()
        t.write(b"late")  # the peer went away meanwhile: dropped, not an error
        await asyncio.sleep(0)
        return sock

    sock = run_async(scenario())
    assert sock.sent == [b"HTTP/1.1 400 Bad Request\r\n\r\n"] and sock.closed
