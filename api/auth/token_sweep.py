"""The scheduled sweep of expired refresh tokens.

Every rotation stores a new refresh-token document (`refresh:{tenant}:{token}`), so an
active device leaves one behind every few minutes. Once expired a token can never be used
again (`refresh` refuses it), so its document is only weight: this job deletes those that
expired more than `EXPIRED_KEEP_SECONDS` ago (a day, so the last ones still explain a
"refresh token expired" answer while a user asks about it). It runs as a cluster job
(`api.jobs`), once per installation however many instances serve.
"""

from __future__ import annotations

import time
from typing import Any

from sync.store import Database

from ..jobs.sweep import delete_where

PREFIX = "refresh:"
EXPIRED_KEEP_SECONDS = 86400


def expired(doc: dict[str, Any], now: float) -> bool:
    """Whether a refresh-token document is past its expiry by more than the kept day."""
    if doc.get("type") != "refresh_token":
        return False
    return float(doc.get("expires_at", now)) < now - EXPIRED_KEEP_SECONDS


def sweep_expired_refresh_tokens(system: Database, now: float | None = None) -> dict[str, int]:
    """Delete the expired refresh tokens of every tenant; counts of what was seen and deleted."""
    at = time.time() if now is None else now
    return delete_where(system, PREFIX, lambda doc: expired(doc, at))
