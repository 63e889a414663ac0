"""OpenID Connect relying party: discovery, JWKS with rotation, the code exchange, and the
ID token checks. The checks are one pure function (`verify_id_token`) so every refusal can
be tested on its own; the network parts are small and take an `httpx.Client`."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

# Asymmetric algorithms only: an HMAC-signed ID token would be keyed with the client
# secret, and "none" is never acceptable.
ALLOWED_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
# Clock difference tolerated between the IdP and this server.
MAX_SKEW_SECONDS = 120
# An ID token's iat older than this is refused even if exp is later (a token kept for replay).
MAX_TOKEN_AGE_SECONDS = 600
# At most one JWKS refetch per issuer in this many seconds when an unknown kid shows up, so a
# stream of forged tokens with random kids cannot make us hammer the IdP.
JWKS_REFETCH_INTERVAL = 30.0
DISCOVERY_TTL = 3600.0


class OidcRefused(Exception):
    """The IdP's answer is not acceptable; `code` is the audit reason, the message the user's.
    `may_be_rotated`: the token might verify with keys the IdP published since we fetched ours."""

    def __init__(self, code: str, message: str, *, may_be_rotated: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.may_be_rotated = may_be_rotated


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def verify_id_token(
    token: str,
    *,
    keys: dict[str, Any],
    issuer: str,
    client_id: str,
    nonce: str,
    now: float,
) -> dict[str, Any]:
    """The ID token's claims once every check passed; `keys` maps kid to a public key.

    Checks: alg on the allow-list, a known kid, the signature, iss, aud (and azp when there
    are several audiences), exp and iat within MAX_SKEW_SECONDS, iat not older than
    MAX_TOKEN_AGE_SECONDS, and the nonce this browser's sign-in was started with.
    Raises OidcRefused, with `may_be_rotated` when fresh keys might verify it.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise OidcRefused("malformed_token", "The identity provider's ID token is not a JWT.") from None
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        raise OidcRefused("bad_algorithm", f"The ID token is signed with {alg!r}, which is not accepted.")
    kid = header.get("kid")
    if kid is not None and kid not in keys:
        raise OidcRefused(
            "unknown_key",
            "The ID token is signed with a key the identity provider does not publish.",
            may_be_rotated=True,
        )
    # Without a kid (some IdPs leave it out), the token must verify with one of the keys. A
    # key of another type than the alg needs (an EC key for RS256) cannot verify it: skipped.
    candidates = [k for k in ([keys[kid]] if kid is not None else keys.values()) if key_fits(k, alg)]
    claims = None
    for key in candidates:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=client_id,
                issuer=issuer,
                leeway=MAX_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_iat": False},
            )
            break
        except (jwt.InvalidSignatureError, jwt.InvalidKeyError, TypeError, ValueError):
            continue  # not this key (the library says so with a TypeError for unusable keys)
        except jwt.ExpiredSignatureError:
            raise OidcRefused("expired", "The ID token has expired. Sign in again.") from None
        except jwt.InvalidAudienceError:
            raise OidcRefused("wrong_audience", "The ID token was issued to another application.") from None
        except jwt.InvalidIssuerError:
            raise OidcRefused("wrong_issuer", "The ID token comes from another identity provider.") from None
        except jwt.PyJWTError as exc:
            raise OidcRefused("invalid_token", f"The ID token is not valid: {exc}.") from None
    if claims is None:
        raise OidcRefused(
            "bad_signature",
            "The ID token's signature is not the identity provider's.",
            may_be_rotated=kid is None,
        )
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
        raise OidcRefused("wrong_audience", "The ID token was issued to another application.")
    iat = claims["iat"]
    if not isinstance(iat, (int, float)) or iat > now + MAX_SKEW_SECONDS:
        raise OidcRefused("not_yet_valid", "The ID token is dated in the future; check the server clocks.")
    if iat < now - MAX_TOKEN_AGE_SECONDS - MAX_SKEW_SECONDS:
        raise OidcRefused("stale", "The ID token was issued too long ago. Sign in again.")
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and nbf > now + MAX_SKEW_SECONDS:
        raise OidcRefused("not_yet_valid", "The ID token is not valid yet; check the server clocks.")
    if not nonce or not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise OidcRefused("bad_nonce", "The ID token does not belong to this sign-in (nonce mismatch).")
    return claims


_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1}


def key_fits(key: Any, alg: str) -> bool:
    """True when `key` is of the type `alg` verifies with: RSA for RS*/PS*, EC on the alg's
    curve for ES*."""
    if alg.startswith(("RS", "PS")):
        return isinstance(key, rsa.RSAPublicKey)
    curve = _CURVES.get(alg)
    return curve is not None and isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, curve)


def verified_email(claims: dict[str, Any]) -> str:
    """The e-mail the IdP vouches for: `email` with `email_verified` true (Google Workspace),
    or Microsoft Entra ID's `xms_edov` (the e-mail's domain is verified by the tenant)."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise OidcRefused(
            "no_email", "The identity provider sent no e-mail address: add the `email` scope and claim."
        )
    if claims.get("email_verified") is True or claims.get("xms_edov") is True:
        return email.strip().lower()
    raise OidcRefused(
        "email_not_verified",
        f"The identity provider does not say that {email} is verified, so it cannot sign you in.",
    )


@dataclass
class _Issuer:
    meta: dict[str, Any] = field(default_factory=dict)
    meta_at: float = 0.0
    keys: dict[str, Any] = field(default_factory=dict)
    keys_at: float = 0.0
    forced_at: float = float("-inf")  # the last refetch a token with an unknown key asked for


class ProviderCache:
    """Discovery documents and signing keys per issuer, shared by every request.

    Keys are refetched when a token names a kid we do not know (the IdP rotated its keys),
    at most once per JWKS_REFETCH_INTERVAL per issuer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issuers: dict[str, _Issuer] = {}

    def _entry(self, issuer: str) -> _Issuer:
        with self._lock:
            return self._issuers.setdefault(issuer, _Issuer())

    def metadata(self, client: httpx.Client, issuer: str) -> dict[str, Any]:
        entry = self._entry(issuer)
        if entry.meta and time.monotonic() - entry.meta_at < DISCOVERY_TTL:
            return entry.meta
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        meta = _get_json(client, url, "discovery document")
        named = meta.get("issuer")
        if not isinstance(named, str) or named.rstrip("/") != issuer.rstrip("/"):
            raise OidcRefused(
                "discovery_mismatch",
                f"The discovery document at {url} names issuer {meta.get('issuer')!r}, not {issuer!r}.",
            )
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(name), str):
                raise OidcRefused("discovery_incomplete", f"The discovery document at {url} has no {name}.")
        entry.meta, entry.meta_at = meta, time.monotonic()
        return meta

    def keys(self, client: httpx.Client, issuer: str, *, refresh: bool = False) -> dict[str, Any]:
        """The issuer's signing keys by kid; `refresh` refetches them, at most once per
        JWKS_REFETCH_INTERVAL (answering the cached ones in between)."""
        entry = self._entry(issuer)
        if entry.keys and not refresh:
            return entry.keys
        if refresh:
            if time.monotonic() - entry.forced_at < JWKS_REFETCH_INTERVAL:
                return entry.keys
            entry.forced_at = time.monotonic()
        jwks = _get_json(client, self.metadata(client, issuer)["jwks_uri"], "signing keys (JWKS)")
        found: dict[str, Any] = {}
        for i, jwk in enumerate(jwks.get("keys", [])):
            if jwk.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(jwk).key
            except jwt.PyJWTError:
                continue  # a key type we do not use (or do not know): skip it, keep the others
            found[jwk.get("kid") or f"#{i}"] = key
        entry.keys, entry.keys_at = found, time.monotonic()
        return found


def _get_json(client: httpx.Client, url: str, what: str) -> dict[str, Any]:
    try:
        res = client.get(url, timeout=10)
    except httpx.HTTPError as exc:
        raise OidcRefused(
            "idp_unreachable", f"The identity provider's {what} at {url} is unreachable: {exc}."
        ) from None
    if res.status_code != 200:
        raise OidcRefused("idp_error", f"The identity provider's {what} at {url} answered {res.status_code}.")
    try:
        body = res.json()
    except json.JSONDecodeError:
        raise OidcRefused("idp_error", f"The identity provider's {what} at {url} is not JSON.") from None
    if not isinstance(body, dict):
        raise OidcRefused("idp_error", f"The identity provider's {what} at {url} is not a JSON object.")
    return body


def exchange_code(
    client: httpx.Client,
    meta: dict[str, Any],
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str,
    verifier: str,
) -> str:
    """Trade the authorization code (with the PKCE verifier) for tokens; answers the ID token."""
    try:
        res = client.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client_id, client_secret),
            headers={"Accept": "application/json"},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        raise OidcRefused(
            "idp_unreachable", f"The identity provider's token endpoint is unreachable: {exc}."
        ) from None
    try:
        body = res.json()
    except json.JSONDecodeError:
        body = {}
    if res.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        raise OidcRefused(
            "code_refused",
            f"The identity provider refused the sign-in code ({detail or res.status_code}). Sign in again.",
        )
    return body["id_token"]
