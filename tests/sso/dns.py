"""A real DNS server on a loopback port (UDP and TCP, dnslib) answering TXT queries from a
dict the tests change, so domain proofs go through dnspython and the network like in
production. `down = True` makes it swallow every query, as a dead or firewalled server does."""

from __future__ import annotations

import threading

from dnslib import QTYPE, RCODE, RR, TXT, DNSRecord
from dnslib.dns import DNSError
from dnslib.server import BaseResolver, DNSLogger, DNSServer

_running: TestDns | None = None


class TestDns(BaseResolver):
    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}  # name (no trailing dot) -> TXT values
        self.down = False
        self.queries: list[tuple[str, str]] = []  # (name, type) in arrival order
        self._lock = threading.Lock()
        self._servers: list[DNSServer] = []
        self.port = 0

    # --- what it answers ---------------------------------------------------------------

    def publish(self, name: str, *values: str) -> None:
        with self._lock:
            self.txt[name.lower().rstrip(".")] = list(values)

    def remove(self, name: str) -> None:
        with self._lock:
            self.txt.pop(name.lower().rstrip("."), None)

    def resolve(self, request: DNSRecord, handler) -> DNSRecord:
        name = str(request.q.qname).lower().rstrip(".")
        with self._lock:
            self.queries.append((name, QTYPE[request.q.qtype]))
            if self.down:
                raise DNSError("down: the query is dropped unanswered")
            values = self.txt.get(name)
        reply = request.reply()
        if values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values:
                reply.add_answer(RR(name + ".", QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply

    # --- running -----------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TestDns:
        global _running
        quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data")
        for _ in range(20):  # the UDP port picked may be taken for TCP: pick again
            udp = DNSServer(self, address="127.0.0.1", port=0, logger=quiet)
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(self, address="127.0.0.1", port=port, tcp=True, logger=quiet)
            except OSError:
                udp.server.server_close()
                continue
            self.port, self._servers = port, [udp, tcp]
            for server in self._servers:
                server.start_thread()
            _running = self
            return self
        raise RuntimeError("no loopback port free for both UDP and TCP")

    def stop(self) -> None:
        global _running
        for server in self._servers:
            server.stop()
            server.server.server_close()
        _running = None


def running() -> TestDns:
    """The test DNS server the current test module's Branchline server asks."""
    if _running is None:
        raise RuntimeError("no test DNS server: the module needs the dns fixture (tests/sso/conftest.py)")
    return _running
