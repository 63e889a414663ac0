"""Argon2 password hashing and the password policy."""

from __future__ import annotations

import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sync.errors import BadRequest

# argon2-cffi's defaults follow RFC 9106's second recommended profile (64 MiB, t=3): about
# 0.2 s of CPU per hash or check, which is the point.
FAST_HASHING_VARIABLE = "BRANCHLINE_UNSAFE_FAST_PASSWORD_HASHING"


def fast_hashing() -> bool:
    """The test suite's switch: Argon2id at its smallest cost (8 KiB, t=1), so thousands of
    test accounts do not spend half the suite's CPU hashing. Read from the environment, not
    the settings object, because the hasher is made when this module is imported. Never for
    production: such hashes fall to a GPU at once (the server says so at every start)."""
    return os.environ.get(FAST_HASHING_VARIABLE, "").strip().lower() in ("1", "true", "yes")


_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1) if fast_hashing() else PasswordHasher()

MIN_LENGTH = 10
MAX_LENGTH = 256
# The few passwords people reach for first; a full breached-password list would be better and
# needs no network if shipped as a file (left for a later issue).
_COMMON = {
    "password",
    "password1",
    "password123",
    "passw0rd",
    "qwerty",
    "qwertyuiop",
    "letmein",
    "welcome",
    "welcome1",
    "admin",
    "administrator",
    "iloveyou",
    "monkey",
    "dragon",
    "1234567890",
    "123456789",
    "12345678",
    "changeme",
    "branchline",
}


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Raise BadRequest with a message saying exactly what to change."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise BadRequest(
            f"The password is too short: use at least {MIN_LENGTH} characters "
            "(a phrase of three or four words works well).",
            error="weak_password",
        )
    if len(password) > MAX_LENGTH:
        raise BadRequest(
            f"The password is too long: use at most {MAX_LENGTH} characters.", error="weak_password"
        )
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 4:
        raise BadRequest(
            "The password is too easy to guess: avoid common words and repeated "
            "characters; a phrase of unrelated words works well.",
            error="weak_password",
        )
    if email and lowered == email.lower():
        raise BadRequest("The password must not be your e-mail address.", error="weak_password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Verifying a dummy hash when the account does not exist keeps the response time the same, so
# timing does not reveal which e-mails have accounts.
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")


def burn_verify_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)
