"""The scheduled sweep of spent single sign-on records.

A started sign-in (`ssoflow:`) whose user never came back from the IdP, a one-time code
(`ssocode:`) the app never traded, and a remembered SAML assertion (`ssoassert:`) are only
weight once expired: none of them can be used after its `expires_at` (a late assertion is
refused for its own NotOnOrAfter before it is looked up). Anyone may start a sign-in, so
this keeps the abandoned ones from piling up. Runs as a cluster job beside the refresh-token
sweep.
"""

from __future__ import annotations

import time
from typing import Any

from sync.store import Database

from ..jobs.sweep import delete_where

PREFIXES = ("ssoflow:", "ssocode:", "ssoassert:")
TYPES = ("sso_flow", "sso_code", "sso_assertion")


def spent(doc: dict[str, Any], now: float) -> bool:
    return doc.get("type") in TYPES and float(doc.get("expires_at", now)) < now


def sweep_spent_sso_records(system: Database, now: float | None = None) -> dict[str, int]:
    """Delete the expired SSO records; counts of what was seen and deleted."""
    at = time.time() if now is None else now
    totals = {"seen": 0, "deleted": 0}
    for prefix in PREFIXES:
        for key, value in delete_where(system, prefix, lambda doc: spent(doc, at)).items():
            totals[key] = totals.get(key, 0) + value
    return totals
