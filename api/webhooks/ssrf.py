"""Where a webhook may be sent: never to this machine, its network or a cloud metadata service.

A target URL is resolved when a subscription is saved (to answer 400 at once) and again at
every delivery attempt, and the request goes to the very address that was checked (the
host name stays in `Host` and in TLS's SNI and certificate check). A name that resolved to
a public address yesterday and to 127.0.0.1 today (DNS rebinding) is refused today, and no
second lookup happens between the check and the connection. Redirects are not followed.

`address_problem` is the pure rule; `resolve_target` applies it to every address a name has.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
MAX_URL = 2000


class TargetRefused(ValueError):
    """The URL may not be delivered to; the message says why and what to do."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_problem(address: str) -> str | None:
    """What kind of non-public address `address` is, or None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (this is where cloud metadata services answer)"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved (not reachable on the public internet)"
    return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64, IPv4-compatible): those
    reach the IPv4 address, so it is the one judged."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if (ip in _NAT64 or ip in _COMPATIBLE) and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class Target:
    url: str  # as the subscriber wrote it
    scheme: str
    host: str
    port: int
    address: str  # the checked address the request goes to
    path: str  # path and query

    @property
    def pinned_url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL without credentials; TargetRefused otherwise."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise TargetRefused(f"url must be an http:// or https:// URL of at most {MAX_URL} characters.")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"url must start with https:// (or http://), not {parts.scheme or 'nothing'}.")
    if not parts.hostname:
        raise TargetRefused("url has no host name, e.g. https://hooks.example.com/branchline.")
    if parts.username or parts.password:
        raise TargetRefused("url must not carry a user name or password; authenticate with the signature.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("url has an invalid port.") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname.lower().rstrip("."), port, path


def resolve_target(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Target:
    """The address to send to, after checking every address the host name resolves to."""
    scheme, host, port, path = parse_url(url)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"The host {host} could not be resolved ({exc}); check the URL.") from None
    if not addresses:
        raise TargetRefused(f"The host {host} has no address; check the URL.")
    if not allow_private:
        for address in addresses:
            kind = address_problem(address)
            if kind is not None:
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise TargetRefused(
                    f"{shown} is a {kind} address; webhooks go only to public addresses. Use a public "
                    "URL, or set BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true for receivers on your own network."
                )
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0], path=path)
