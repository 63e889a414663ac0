"""The SMTP side of e-mail: where the server is (`BRANCHLINE_SMTP_URL`) and one send.

The standard library's `smtplib` is enough: the worker sends from its own thread, one
message at a time, so an asyncio client would only add a loop to run it on.

`send` never raises for the server's faults, it reports them as an `Attempt` (the webhooks'
record of one try) plus whether retrying can help: a 5xx answer about the message or its
recipient is permanent; a 4xx, a refused or dropped connection, a timeout are temporary.
A refused login (535) or a server without STARTTLS is also counted temporary: it is the
operator's setting that is wrong, not the message, and it is retried until they fix it.
The password is never part of an error text or a log line.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from ..core.timeutil import iso as now_iso
from ..webhooks.delivery import Attempt

# The operator's relay (its host, port and account) is the instance's, not the workspace's: the
# errors a workspace's admins read on its outbox say what went wrong, the server log says where.
log = logging.getLogger("branchline.mail")

Security = Literal["starttls", "tls", "plain"]
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
EXCERPT = 500


@dataclass(frozen=True)
class SmtpConfig:
    security: Security
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """Where mail goes, for people and logs: never the password."""
        return f"{self.security} {self.host}:{self.port}" + (f" as {self.username}" if self.username else "")


def parse_smtp_url(url: str, *, allow_plain: bool) -> SmtpConfig:
    """`smtp://[user:pass@]host[:587]` (STARTTLS), `smtps://...[:465]` (implicit TLS); plain
    SMTP only when `allow_plain` and the host is a loopback address. ValueError says what to fix
    (and never repeats the URL, which holds the password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(
            "use smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (TLS); "
            f"the scheme {parts.scheme!r} is not one of them."
        )
    if not parts.hostname:
        raise ValueError("the URL has no host name, e.g. smtp://user:pass@mail.example.com:587.")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535.") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("give only the scheme, credentials, host and port (no path or query).")
    security: Security = "tls" if parts.scheme == "smtps" else "starttls"
    if allow_plain and parts.scheme == "smtp":
        if parts.hostname not in _LOOPBACK:
            raise ValueError(
                "BRANCHLINE_SMTP_ALLOW_PLAIN is for a relay on this machine only (localhost, "
                f"127.0.0.1 or ::1), not {parts.hostname}: use STARTTLS or smtps:// for a server "
                "across a network."
            )
        security = "plain"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpConfig(security, parts.hostname, port, username, password)


@dataclass(frozen=True)
class Sent:
    attempt: Attempt
    permanent: bool  # a failure retrying cannot cure


def _connect(config: SmtpConfig, timeout: float) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if config.security == "tls":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    client = smtplib.SMTP(config.host, config.port, timeout=timeout)
    try:
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        elif config.security == "starttls":
            raise smtplib.SMTPNotSupportedError(
                "the server does not offer STARTTLS, and mail is not sent in clear text; "
                "use smtps://, or a relay on this machine with BRANCHLINE_SMTP_ALLOW_PLAIN=true"
            )
        return client
    except BaseException:
        client.close()
        raise


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {words}"[:EXCERPT]


def send(config: SmtpConfig, timeout: float, sender: str, recipient: str, message: bytes) -> Sent:
    """Send one message to one recipient; what happened, never an exception for the server's."""
    started = time.monotonic()
    at = now_iso()
    request = {"server": config.describe(), "to": recipient}

    def done(ok: bool, code: int | None, reply: str, error: str | None, permanent: bool = False) -> Sent:
        ms = int((time.monotonic() - started) * 1000)
        reply, error = _unnamed(config, reply), _unnamed(config, error) if error else error
        return Sent(Attempt(at, ok, code, reply, error, ms, request), permanent)

    try:
        client = _connect(config, timeout)
    except (TimeoutError, ConnectionError, OSError, smtplib.SMTPException) as exc:
        log.warning("mail: could not reach %s: %s", config.describe(), _what(exc))
        return done(False, None, "", f"could not reach the mail server: {_what(exc)}")
    try:
        if config.username:
            client.login(config.username, config.password or "")
        refused = client.sendmail(sender, [recipient], message)
        if refused:  # one recipient: sendmail raises when all are refused, so this is defensive
            code, text = next(iter(refused.values()))
            return done(False, code, _reply(code, text), f"the server refused {recipient}", code >= 500)
        return done(True, 250, "accepted", None)
    except smtplib.SMTPAuthenticationError as exc:
        return done(
            False,
            exc.smtp_code,
            _reply(exc.smtp_code, exc.smtp_error),
            "the mail server refused the user name or password of BRANCHLINE_SMTP_URL",
        )
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        reply = _reply(code, text)
        return done(
            False, code, reply, f"the mail server refused the recipient {recipient}: {reply}", code >= 500
        )
    except smtplib.SMTPResponseException as exc:
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return done(False, exc.smtp_code, reply, f"the mail server answered {reply}", exc.smtp_code >= 500)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("mail: %s dropped the connection: %s", config.describe(), _what(exc))
        return done(False, None, "", f"the mail server dropped the connection: {_what(exc)}")
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _unnamed(config: SmtpConfig, text: str) -> str:
    """`text` without the relay's host name or account: a certificate error ("not valid for
    'smtp.example.net'") or a server's greeting and replies often name them, and the text is
    shown on the workspace's outbox. The server log keeps the whole of it."""
    # An account is hidden when it looks like one (an address); a bare word such as "mail"
    # would mangle the sentence around it.
    account = config.username if config.username and "@" in config.username else None
    for name in (config.host, account):
        if name:
            text = re.sub(re.escape(name), "(the mail server)", text, flags=re.IGNORECASE)
    return text


def _what(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"[:EXCERPT]
