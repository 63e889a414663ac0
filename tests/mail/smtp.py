"""A real SMTP server for the e-mail tests: aiosmtpd on a loopback port, keeping what it accepts.

It can refuse chosen recipients with a permanent 550, answer them with a temporary 451, or
hold their message open until released, and be stopped and started again on the same port
(a mail server down, then back).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import ServerProcess, free_port, wait_until


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()  # type: ignore[union-attr]


class _Handler:
    def __init__(self, box: SmtpServer) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.box.refuse:
            return "550 5.1.1 No such mailbox here"
        if address in self.box.later:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # A held recipient's message waits here (the sender sees its transaction open), as a
        # slow mail server would keep it, until the test lets it through.
        deadline = time.monotonic() + 60
        while set(envelope.rcpt_tos) & self.box.hold and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        with self.box.lock:
            self.box.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Message accepted"


class SmtpServer:
    def __init__(self, port: int | None = None, **controller: object) -> None:
        """`controller`: more of aiosmtpd's settings, e.g. `tls_context` and
        `require_starttls` for STARTTLS, `authenticator` for AUTH."""
        self.controller = controller
        self.port = port or free_port()
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.later: set[str] = set()
        self.hold: set[str] = set()
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **self.controller)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.received if address in m.rcpt_tos]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> list[Received]:
        return wait_until(
            lambda: (found := self.to(address)) and len(found) >= count and found,
            timeout=timeout,
            message=f"{count} message(s) to {address}",
        )


def env_for(smtp: SmtpServer, **extra: str) -> dict[str, str]:
    """A Branchline server's settings to send through `smtp` (plain SMTP: it is on loopback)."""
    return {
        "BRANCHLINE_SMTP_URL": smtp.url,
        "BRANCHLINE_SMTP_ALLOW_PLAIN": "true",
        "BRANCHLINE_MAIL_FROM": "noreply@branchline.test",
        "BRANCHLINE_MAIL_RETRY_SCHEDULE": ",".join(["0.5"] * 20),  # 10 s of retries, quickly
        **extra,
    }


def running(smtp: SmtpServer):
    """A module fixture (autouse) that runs `smtp` while the module's tests do:
    `smtp = running(SMTP)` in the module, with `SERVER_ENV = env_for(SMTP)`."""

    @pytest.fixture(scope="module", autouse=True)
    def fixture():
        smtp.start()
        yield smtp
        smtp.stop()

    return fixture


def server_knowing_its_address(env: dict[str, str]):
    """A module's `server` that knows its own address (BRANCHLINE_PUBLIC_URL), as a deployment
    does: links in e-mail asked for by anyone (password resets) never come from the request."""

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        srv = ServerProcess(tmp_path_factory.mktemp("server"), env=env)
        srv.env["BRANCHLINE_PUBLIC_URL"] = srv.url
        srv.start()
        yield srv
        srv.stop()

    return server
