"""Storage of single sign-on.

- `ssocfg` in the tenant's `integrations` database (server only, closed to `/sync/`): the
  tenant's SSO settings, the OIDC client secret sealed (`core/sealing.py`).
- In the system database, claims that let a sign-in find its tenant before anyone is
  signed in: `ssoslug:{slug}` (the slug in `/auth/sso/{slug}/start`, first come, first
  served) and `ssodomain:{domain}` (an allowed e-mail domain the tenant proved with a DNS TXT
  record, `verified_at` set; one tenant per domain, the first to prove it). A domain only
  listed in the settings is pending and claims nothing, so listing one squats nothing.
- `ssoflow:{state}` (system): a started sign-in: the nonce, the PKCE verifier and the hash of
  the browser's binding cookie; deleted when the IdP comes back, so it works once.
- `ssocode:{sha256 of code}` (system): the one-time code the PWA trades for its token pair.
- `ssoassert:{sha256 of tenant, IdP and assertion id}` (system): a SAML assertion already
  used, kept until it expires, so a replayed one is refused.
"""

from __future__ import annotations

from typing import Any

from sync.errors import Conflict, NotFound
from sync.store import Database, Store

from ..core import claims
from ..core.docs import ensure_tenant_db, get_or_none, open_tenant_db

DB_NAME = "integrations"
CONFIG_ID = "ssocfg"
SCHEMA_VERSION = 1


def config(store: Store, tenant_id: str) -> dict[str, Any] | None:
    db = open_tenant_db(store, tenant_id, DB_NAME)
    return get_or_none(db, CONFIG_ID) if db is not None else None


def config_db(store: Store, tenant_id: str) -> Database:
    return ensure_tenant_db(store, tenant_id, DB_NAME)


def slug_id(slug: str) -> str:
    return f"ssoslug:{slug}"


def domain_id(domain: str) -> str:
    return f"ssodomain:{domain}"


def flow_id(state: str) -> str:
    return f"ssoflow:{state}"


def assertion_id(key_hash: str) -> str:
    return f"ssoassert:{key_hash}"


def code_id(code_hash: str) -> str:
    return f"ssocode:{code_hash}"


def claim(system: Database, docid: str, tenant_id: str, what: str) -> None:
    """Claim an SSO name (`slug_id`, `domain_id`) for the tenant; Conflict when another holds it."""
    claims.claim(system, docid, tenant_id, what, kind="sso_claim")


release = claims.release
holder = claims.holder


def domain_claim(system: Database, domain: str) -> dict[str, Any] | None:
    return get_or_none(system, domain_id(domain))


def proven(claim: dict[str, Any] | None) -> bool:
    """A domain claim made by a DNS proof. Claims written before proofs existed (no
    `verified_at`) were taken first come, first served, and prove nothing."""
    return bool(claim and claim.get("verified_at"))


def verified_holder(system: Database, domain: str) -> str | None:
    """The tenant that proved `domain`, if any."""
    claim = domain_claim(system, domain)
    return claim["tenant_id"] if claim and proven(claim) else None


def take(system: Database, docid: str) -> dict[str, Any] | None:
    """Read and delete a single-use record; None when absent or taken by a concurrent request."""
    doc = get_or_none(system, docid)
    if doc is None:
        return None
    try:
        system.delete(docid, doc["_rev"])
    except (Conflict, NotFound):
        return None
    return doc
