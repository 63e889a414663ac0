"""Proof that a team controls a domain: a DNS TXT record holding a token only it was shown.

Microsoft 365, Google Workspace and Slack prove domains the same way. The team is shown
`branchline-verification=<token>` to publish as a TXT record at `_branchline.<domain>` (a
name of its own, so it sits beside the domain's SPF and other TXT records without touching
them), and Branchline looks the record up when asked to verify.

The token is an HMAC of the server's secret, the proof's purpose, the tenant and the domain:
unguessable without the secret, different for every team (a team cannot reuse the record
another team published), the same each time it is shown (nothing to store, and a domain
removed and added again keeps its record, as Google's does). Changing the server secret
changes the tokens of domains not yet verified; verified ones stay verified.

The lookup blocks its thread for at most `dns_timeout_seconds` (3 s by default): the routes
that call it are plain `def` routes, run in the threadpool, never on the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import dns.exception
import dns.name
import dns.resolver

from sync.errors import BranchlineError, Unprocessable

from ..settings import Settings

RECORD_LABEL = "_branchline"
VALUE_PREFIX = "branchline-verification="
RETRY_AFTER_SECONDS = 60
# How many of the TXT values found an error shows, and how much of each.
SHOWN_VALUES, SHOWN_CHARS = 5, 120


class DnsUnavailable(BranchlineError):
    """No answer from DNS (timeout, server failure, no resolver): nothing can be concluded."""

    status, error = 503, "dns_unavailable"


def is_dns_name(domain: str) -> bool:
    """True when the proof's record name under `domain` can be looked up at all: no empty
    label, none past 63 octets (after IDNA), 255 in all. Checked when a domain is listed, so
    a malformed one is refused then rather than failing every verify as if DNS were down."""
    try:
        dns.name.from_text(record_name(domain))
    except dns.exception.DNSException:
        return False
    return True


def record_name(domain: str) -> str:
    return f"{RECORD_LABEL}.{domain}"


def token(secret: str, purpose: str, tenant_id: str, domain: str) -> str:
    """The team's token for `domain` (32 hex characters, 128 bits)."""
    message = f"{purpose}|{tenant_id}|{domain}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def record_value(token_: str) -> str:
    return VALUE_PREFIX + token_


def record(secret: str, purpose: str, tenant_id: str, domain: str) -> dict[str, str]:
    """The record to publish, as the API shows it: `{type, name, value}`."""
    return {
        "type": "TXT",
        "name": record_name(domain),
        "value": record_value(token(secret, purpose, tenant_id, domain)),
    }


def lookup_txt(settings: Settings, name: str) -> list[str]:
    """The TXT values at `name` (each record's strings joined, as RFC 7208 reads them); an
    empty list when the name or its TXT records do not exist. DnsUnavailable when DNS gives
    no answer either way."""
    wait = settings.dns_timeout_seconds
    try:
        resolver = _resolver(settings)
        answer = resolver.resolve(name, "TXT", lifetime=wait, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.Timeout:
        raise _unavailable(f"no DNS server answered for {name} within {wait:g} s") from None
    except dns.resolver.NoNameservers:
        raise _unavailable(f"the DNS servers failed to answer for {name} (SERVFAIL or refused)") from None
    except dns.resolver.NoResolverConfiguration:
        raise _unavailable("this server has no DNS resolver configured (ask its operator)") from None
    except dns.exception.DNSException as exc:
        raise _unavailable(f"the DNS lookup of {name} failed ({exc})") from None
    return [b"".join(rdata.strings).decode("utf-8", errors="replace") for rdata in answer]


def _resolver(settings: Settings) -> dns.resolver.Resolver:
    server = settings.dns_server
    if server is None:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [server[0]]
        resolver.port = server[1]
    resolver.cache = None  # a record just published must be seen at the next attempt
    return resolver


def _unavailable(what: str) -> DnsUnavailable:
    return DnsUnavailable(
        f"The domain could not be checked: {what}. Nothing was changed; try again in a minute.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def check(found: list[str], name: str, expected: str, domain: str) -> None:
    """Nothing when `expected` is among the TXT values `found` at `name`; otherwise 422
    saying what was found, what is expected and how to fix it (pure: no DNS here)."""
    if expected in (value.strip() for value in found):
        return
    # `details` is a list of objects in the one error shape (see core/openapi.py): one here.
    shown = _shown(found)
    details: list[dict[str, Any]] = [{"name": name, "expected": expected, "found": shown}]
    fix = (
        f"Add a TXT record named {name} with the value {expected} at the DNS host of {domain}, "
        "wait until it is published (a few minutes, or up to the old record's TTL) and verify again."
    )
    if not found:
        raise Unprocessable(
            f"No TXT record was found at {name}. {fix}", error="dns_record_missing", details=details
        )
    listed = ", ".join(repr(v) for v in shown)
    raise Unprocessable(
        f"The TXT record at {name} does not hold this team's token: found {listed}, expected "
        f"{expected!r}. {fix}",
        error="dns_record_mismatch",
        details=details,
    )


def _shown(found: list[str]) -> list[str]:
    return [v if len(v) <= SHOWN_CHARS else v[:SHOWN_CHARS] + "…" for v in found[:SHOWN_VALUES]]
