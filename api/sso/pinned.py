"""Outbound calls to an identity provider, checked and pinned like a webhook delivery
(`api/webhooks/ssrf.py`).

Only the issuer (or the SAML metadata URL) is typed by an admin; the discovery document then
names the JWKS and token endpoints, and a DNS answer can change between a check and the
connection. So every request, whatever its URL came from, is resolved once, refused when it
points at a loopback, private, link-local or metadata address (unless
BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true), and sent to the very address that was checked (the
host name stays in Host and in TLS's SNI and certificate check). Redirects are not followed.
"""

from __future__ import annotations

import httpx

from ..webhooks.ssrf import Resolver, TargetRefused, resolve_target, system_resolver


class AddressRefused(httpx.ConnectError):
    """The IdP address is not one Branchline may call; an httpx error, so every caller
    already reports it as the IdP being unreachable, with this reason."""


class PinnedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        super().__init__()
        self.allow_private = allow_private
        self.resolver = resolver

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            target = resolve_target(
                str(request.url), allow_private=self.allow_private, resolver=self.resolver
            )
        except TargetRefused as exc:
            raise AddressRefused(
                f"{exc} (identity provider addresses are checked like webhook targets)", request=request
            ) from None
        # The Host header already names the host; only the connection goes to the checked address.
        request.url = httpx.URL(target.pinned_url)
        if target.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": target.host}
        return super().handle_request(request)


def client(*, allow_private: bool, resolver: Resolver = system_resolver) -> httpx.Client:
    return httpx.Client(
        transport=PinnedTransport(allow_private=allow_private, resolver=resolver), follow_redirects=False
    )
