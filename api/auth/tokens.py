"""Short-lived access tokens (JWT) and rotating refresh tokens (opaque, stored hashed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

from sync.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "branchline"


def make_access_token(
    secret: str, *, user_id: str, tenant_id: str, minutes: float, epoch: int = 0, family: str | None = None
) -> tuple[str, int]:
    """A signed access token; `family` names the sign-in (refresh token family) it belongs
    to, so that signing out ends it too."""
    now = int(time.time())
    ttl = max(1, int(minutes * 60))
    claims = {
        "sub": user_id,
        "tid": tenant_id,
        "typ": "access",
        "iss": ISSUER,
        "ep": epoch,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
    }
    if family is not None:
        claims["fam"] = family
    return jwt.encode(claims, secret, algorithm=ALGORITHM), ttl


def read_access_token(secret: str, token: str) -> dict:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "tid", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized(
            "The access token has expired; get a new one with POST /api/v1/auth/refresh.",
            error="token_expired",
        ) from None
    except jwt.PyJWTError:
        raise Unauthorized("The access token is not valid; sign in again.") from None
    if claims.get("typ") != "access":
        raise Unauthorized("That token is not an access token.")
    return claims


@dataclass(frozen=True)
class RefreshToken:
    tenant_id: str
    token_id: str
    secret: str

    def __str__(self) -> str:
        return f"rt.{self.tenant_id}.{self.token_id}.{self.secret}"

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.secret)


def new_refresh_token(tenant_id: str) -> RefreshToken:
    return RefreshToken(tenant_id, secrets.token_hex(8), secrets.token_urlsafe(32))


def successor_token(key: str, parent: RefreshToken) -> RefreshToken:
    """The refresh token a rotation of `parent` issues, derived from it with the server key.

    Deterministic, so a client that lost the answer of a rotation and retries with `parent`
    can be given the same successor again (see `service.refresh`) without the server ever
    storing a token in clear. Nobody without the server key can derive it from `parent`.
    """

    def mac(label: str) -> bytes:
        msg = f"refresh-successor:{label}:{parent.tenant_id}:{parent.token_id}:{parent.secret}"
        return hmac.new(key.encode(), msg.encode(), hashlib.sha256).digest()

    secret = base64.urlsafe_b64encode(mac("secret")).rstrip(b"=").decode()
    return RefreshToken(parent.tenant_id, mac("id")[:8].hex(), secret)


def parse_refresh_token(raw: str) -> RefreshToken:
    parts = raw.split(".") if isinstance(raw, str) else []
    if len(parts) != 4 or parts[0] != "rt" or not all(parts[1:]):
        raise Unauthorized("The refresh token is malformed; sign in again.")
    return RefreshToken(parts[1], parts[2], parts[3])


def hash_secret(value: str) -> str:
    # Refresh tokens and API keys carry 256 random bits, so a fast hash is safe for them
    # (unlike passwords, which get Argon2).
    return hashlib.sha256(value.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
