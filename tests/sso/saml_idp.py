"""A real SAML 2.0 identity provider for the SSO tests, built with pysaml2 (signing through
xmlsec1): it reads Branchline's AuthnRequest from the redirect and answers with a signed
response for the assertion consumer service. The test asks for the answer it wants: signed
or not, signed with the IdP's key or a forger's, for another audience or recipient, expired
or not yet valid. `http_app` serves it to a browser: a page that signs in as an e-mail and
POSTs the answer back, as real IdPs do."""

from __future__ import annotations

import base64
import datetime
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import werkzeug.serving
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from werkzeug.wrappers import Request, Response


def key_and_cert(folder: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


class SamlIdP:
    __test__ = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = werkzeug.serving.make_server("127.0.0.1", 0, self.http_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.entity_id = f"{self.url}/metadata"
        self.key = key_and_cert(folder, "idp")
        self.forger_key = key_and_cert(folder, "forger")
        self.sp_metadata: str | None = None
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self.next_answer: dict = {}

    def start(self) -> SamlIdP:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _idp(self, key: tuple[str, str], lifetime_minutes: int = 5) -> Server:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": shutil.which("xmlsec1"),
                "key_file": key[0],
                "cert_file": key[1],
                "metadata": {"inline": [self.sp_metadata]} if self.sp_metadata else {},
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(f"{self.url}/sso", BINDING_HTTP_REDIRECT)]},
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": lifetime_minutes},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                    }
                },
            }
        )
        return Server(config=config)

    def metadata(self) -> str:
        return str(entity_descriptor(self._idp(self.key).config))

    def trust(self, sp_metadata: str) -> None:
        self.sp_metadata = sp_metadata

    # --- answers ---------------------------------------------------------------------------

    def read_request(self, redirect_url: str) -> tuple[str, str, str]:
        """The AuthnRequest's id, its ACS URL and the relay state, from Branchline's redirect."""
        q = {k: v[0] for k, v in parse_qs(urlsplit(redirect_url).query).items()}
        req = self._idp(self.key).parse_authn_request(q["SAMLRequest"], BINDING_HTTP_REDIRECT)
        return req.message.id, req.message.assertion_consumer_service_url, q.get("RelayState", "")

    def answer(
        self,
        request_id: str,
        acs_url: str,
        email: str,
        *,
        sign_assertion: bool = True,
        sign_response: bool = False,
        forged: bool = False,
        audience: str | None = None,
        destination: str | None = None,
        lifetime_minutes: int = 5,
        not_before_shift: int = 0,
        sp_entity_id: str | None = None,
    ) -> str:
        """A base64 SAMLResponse as the IdP would POST it."""
        idp = self._idp(self.forger_key if forged else self.key, lifetime_minutes)
        sp_entity = sp_entity_id or self._sp_entity()
        shifted = _shifted_instant(not_before_shift) if not_before_shift else None
        with mock.patch("saml2.assertion.instant", shifted) if shifted else _nothing():
            response = idp.create_authn_response(
                {"email": [email], "displayName": ["SAML User"]},
                in_response_to=request_id,
                destination=destination or acs_url,
                sp_entity_id=audience or sp_entity,
                name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
                authn={
                    "class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
                    "authn_auth": self.url,
                },
                sign_assertion=sign_assertion,
                sign_response=sign_response,
            )
        return base64.b64encode(str(response).encode()).decode()

    def _sp_entity(self) -> str:
        return re.search(r'entityID="([^"]+)"', self.sp_metadata or "").group(1)

    # --- for a browser ---------------------------------------------------------------------

    def http_app(self, environ, start_response):
        request = Request(environ)
        if request.path == "/metadata":
            return Response(self.metadata(), content_type="application/samlmetadata+xml")(
                environ, start_response
            )
        if request.path == "/sso" and request.method == "GET":
            form = (
                "<!doctype html><title>Test SAML IdP</title><form method=post action=/sso>"
                f"<input type=hidden name=back value='{request.url}'>"
                "<label>E-mail <input name=email></label><button>Sign in</button></form>"
            )
            return Response(form, content_type="text/html")(environ, start_response)
        if request.path == "/sso" and request.method == "POST":
            request_id, acs, relay = self.read_request(request.form["back"])
            saml_response = self.answer(request_id, acs, request.form["email"], **self.next_answer)
            page = (
                f"<!doctype html><form id=f method=post action='{acs}'>"
                f"<input type=hidden name=SAMLResponse value='{saml_response}'>"
                f"<input type=hidden name=RelayState value='{relay}'></form>"
                "<script>document.getElementById('f').submit()</script>"
            )
            return Response(page, content_type="text/html")(environ, start_response)
        return Response("not found", status=404)(environ, start_response)


def _shifted_instant(seconds: int):
    from saml2.time_util import TIME_FORMAT

    def instant(format=TIME_FORMAT, time_stamp=0):
        moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
        return moment.strftime(format)

    return instant


@contextmanager
def _nothing():
    yield
