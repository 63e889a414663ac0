"""Calls to identity providers are resolved once, checked and pinned (api/sso/pinned.py): the
discovery document can name any JWKS or token endpoint, and DNS can change between a check and
the connection, so the check happens on every request, on the address it connects to."""

from __future__ import annotations

from urllib.parse import urlsplit

import flask
import pytest

from api.sso import oidc, pinned
from tests.sso.idp import TestIdP


@pytest.fixture
def seen_idp():
    provider = TestIdP().start()
    provider.seen = []
    provider.app.before_request(lambda: provider.seen.append(flask.request.path))
    yield provider
    provider.stop()


def test_a_request_goes_to_the_checked_address_with_the_host_name_kept(seen_idp):
    port = urlsplit(seen_idp.url).port
    asked: list[str] = []  # one lookup per request, and the connection uses its answer

    def resolver(host: str, port_: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    # "idp.invalid" is in no DNS: the connection can only have gone to the address checked.
    with pinned.client(allow_private=True, resolver=resolver) as client:
        r = client.get(f"http://idp.invalid:{port}/.well-known/openid-configuration")
    assert r.status_code == 200, r.text
    assert asked == ["idp.invalid"]
    assert r.json()["issuer"] == f"http://idp.invalid:{port}"  # the IdP saw the name in Host


def test_an_idp_address_on_this_machine_or_network_is_refused_without_a_connection(seen_idp):
    with pinned.client(allow_private=True) as client:
        meta = oidc.ProviderCache().metadata(client, seen_idp.url)
    # The discovery document names the JWKS: a public issuer could point it at anything.
    seen_idp.seen.clear()
    with pinned.client(allow_private=False) as client:
        with pytest.raises(oidc.OidcRefused) as refused:
            oidc.ProviderCache().keys(client, seen_idp.url)
        assert refused.value.code == "idp_unreachable" and "loopback" in str(refused.value)
        with pytest.raises(pinned.AddressRefused, match="loopback"):
            client.get(meta["jwks_uri"])
    assert seen_idp.seen == []
