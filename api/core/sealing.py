"""Secrets the server must use again later (a PSA's private key), kept encrypted at rest.

AES-GCM under a key derived from the server secret with HKDF-SHA256 and a purpose label, so
each feature's key differs and one leaked ciphertext is useless elsewhere. The associated
data binds a ciphertext to where it belongs (tenant, connector): copied into another
tenant's document it does not decrypt. Changing the server secret makes stored secrets
unreadable; `unseal` then raises `SealBroken`, and the admin enters the secret again.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12


class SealBroken(ValueError):
    """A sealed value does not open: another server secret, another place, or edited."""


def derive_key(server_secret: str, purpose: str) -> bytes:
    """A 256-bit key for `purpose` from the server secret (HKDF-SHA256, the purpose as info)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        server_secret.encode()
    )


def seal_with(key: bytes, bound_to: str, plain: str) -> str:
    """`plain` encrypted under `key`, openable only with the same `bound_to`: base64 of nonce
    and ciphertext."""
    nonce = os.urandom(_NONCE)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plain.encode(), bound_to.encode())).decode()


def unseal_with(key: bytes, bound_to: str, sealed: str) -> str:
    try:
        raw = base64.b64decode(sealed)
        plain = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode())
    except (InvalidTag, ValueError) as exc:
        raise SealBroken(
            "A stored secret cannot be decrypted (the server secret changed, or the record was "
            "copied or edited); enter the secret again."
        ) from exc
    return plain.decode()


def seal(server_secret: str, purpose: str, bound_to: str, plain: str) -> str:
    """`plain` encrypted for `purpose`, openable only with the same `bound_to`."""
    return seal_with(derive_key(server_secret, purpose), bound_to, plain)


def unseal(server_secret: str, purpose: str, bound_to: str, sealed: str) -> str:
    return unseal_with(derive_key(server_secret, purpose), bound_to, sealed)
