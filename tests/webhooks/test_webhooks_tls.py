"""HTTPS to a checked address: the connection goes to the address, TLS still checks the name.

The request is sent to the IP address the SSRF check approved, so the host name travels in
SNI and the certificate must be valid for it, not for the address. A real TLS receiver with
a certificate made here for `hooks.example.com` (the client trusts it like a CA) shows both:
the right name is accepted, a certificate for another name is refused.
"""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.webhooks import delivery, signing
from api.webhooks.events import Event
from api.webhooks.outbox import message_doc
from tests.conftest import free_port


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_receiver(tmp_path):
    """(port, certificate path, SNI names seen) of an HTTPS receiver for hooks.example.com."""
    cert, key = _certificate(tmp_path, "hooks.example.com")
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert, seen
    server.shutdown()
    server.server_close()


def _send(port: int, trusted: str, tmp_path, host: str) -> delivery.Attempt:
    sub = {"id": "w1", "url": f"https://{host}:{port}/hook", "events": ["tree.published"]}
    event = Event("tree.published", "01JD3Z8Q6V9R1W0K2M4N5P7S8T-published", "2026-12-03T10:00:00.000Z", {})
    with httpx.Client(verify=ssl.create_default_context(cafile=trusted), trust_env=False) as client:
        return delivery.attempt(
            client,
            sub,
            signing.new_secret(),
            message_doc(sub, event, 0),
            allow_private=True,
            resolver=lambda name, port: ["127.0.0.1"],
        )


def test_https_goes_to_the_checked_address_with_the_name_in_sni_and_the_certificate_check(
    tls_receiver, tmp_path
):
    port, cert, seen = tls_receiver
    result = _send(port, cert, tmp_path, "hooks.example.com")
    assert result.ok and result.status_code == 204, result.error
    assert seen == ["hooks.example.com"]


def test_a_certificate_for_another_name_is_refused(tls_receiver, tmp_path):
    port, cert, _ = tls_receiver
    result = _send(port, cert, tmp_path, "other.example.com")
    assert not result.ok and "could not connect" in result.error
    assert "CERTIFICATE_VERIFY_FAILED" in result.error or "hostname" in result.error.lower()
