"""A real OpenID Connect provider for the SSO tests: `oidc-provider-mock` (authlib inside)
served over HTTP on a free loopback port, with two test controls beside its own routes:

- `rotate()`: the provider starts signing with a new key (a new kid in its JWKS), as an IdP
  rotating its keys does;
- `tamper`: a function that rewrites the ID token the token endpoint hands out (its claims
  and header), re-signed with the provider's own key or, for forgeries, another one. This
  is how an expired, wrong-audience, wrong-issuer or forged token reaches Branchline the way
  a real one does: through the code exchange.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import httpx
import jwt
import werkzeug.serving
from authlib import jose
from cryptography.hazmat.primitives.asymmetric import rsa
from oidc_provider_mock import app as make_provider_app

Tamper = Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], dict[str, Any], Any]]


class TestIdP:
    __test__ = False

    def __init__(self) -> None:
        self.tamper: Tamper | None = None
        self.app = make_provider_app(require_nonce=True)
        self.app.add_url_rule("/_test/rotate", "rotate", self._rotate, methods=["POST"])
        self.app.after_request(self._rewrite_token)
        self.server = werkzeug.serving.make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def start(self) -> TestIdP:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- controls -------------------------------------------------------------------------

    def add_user(self, sub: str, email: str, *, verified: bool = True, name: str = "SSO User") -> None:
        claims = {"email": email, "email_verified": verified, "name": name}
        r = httpx.put(f"{self.url}/users/{sub}", json=claims)
        assert r.status_code == 204, r.text

    def rotate(self) -> None:
        assert httpx.post(f"{self.url}/_test/rotate").status_code == 204

    def kids(self) -> list[str]:
        return [k["kid"] for k in httpx.get(f"{self.url}/jwks").json()["keys"]]

    def _rotate(self):
        flask.g.oidc_provider_mock_storage.jwk = jose.RSAKey.generate_key(is_private=True)
        return "", 204

    def _rewrite_token(self, response: flask.Response) -> flask.Response:
        if self.tamper is None or flask.request.path != "/oauth2/token" or response.status_code != 200:
            return response
        body = response.get_json()
        token = body["id_token"]
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        own_key = flask.g.oidc_provider_mock_storage.jwk.get_private_key()
        header, claims, key = self.tamper(header, claims)
        body["id_token"] = jwt.encode(
            claims, own_key if key is None else key, algorithm=header["alg"], headers=header
        )
        response.set_data(flask.json.dumps(body))
        return response

    # --- a user at the IdP ------------------------------------------------------------------

    def approve(self, authorize_url: str, sub: str) -> str:
        """Sign in as `sub` on the provider's page (as the browser would); answers the redirect
        back to Branchline's callback, with the code and state."""
        r = httpx.post(authorize_url, data={"sub": sub})
        assert r.status_code == 302, r.text
        return r.headers["location"]


def other_key() -> rsa.RSAPrivateKey:
    """A key the IdP never published: what a forger signs with."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
