"""Standard Webhooks signatures, and the subscription secret kept encrypted at rest.

A secret is `whsec_` + base64 of 32 random bytes; the signing key is those bytes. The
signature of one attempt is `v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`
(https://www.standardwebhooks.com), recomputed at every attempt because the timestamp is the
attempt's own: receivers refuse timestamps more than a few minutes old.

The server must sign, so it keeps the secret itself, not a hash: AES-GCM under a key derived
from the server secret, bound to the tenant and subscription (a copied ciphertext does not
decrypt under another subscription).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from ..core import sealing

PREFIX = "whsec_"
_KEY_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(os.urandom(_KEY_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret: the base64-decoded part after the prefix."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(PREFIX) :])


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def _key(server_secret: str) -> bytes:
    # Derived before the shared HKDF helper existed; kept so stored secrets still open.
    return hmac.new(server_secret.encode(), b"branchline webhook secrets v1", hashlib.sha256).digest()


def seal(server_secret: str, tenant_id: str, webhook_id: str, secret: str) -> str:
    return sealing.seal_with(_key(server_secret), f"{tenant_id}:{webhook_id}", secret)


def unseal(server_secret: str, tenant_id: str, webhook_id: str, sealed: str) -> str:
    return sealing.unseal_with(_key(server_secret), f"{tenant_id}:{webhook_id}", sealed)
