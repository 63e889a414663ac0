"""Random identifiers and secrets."""

from __future__ import annotations

import secrets
import string

_ALNUM = string.ascii_lowercase + string.digits


def new_id(length: int = 12) -> str:
    """A random lowercase id; 12 characters give 62 bits, plenty for users, keys, tenants."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_secret() -> str:
    return secrets.token_urlsafe(32)
