"""API keys: `bl_{tenant}_{key id}_{secret}`, stored as a SHA-256 of the secret."""

from __future__ import annotations

import secrets
from typing import Any

from sync.access import ROLES, Principal
from sync.errors import BadRequest, Forbidden, NotFound, Unauthorized

from ..auth.tokens import hash_secret, same_hash
from ..core.context import AppContext
from ..core.docs import by_prefix, get_or_none, save
from ..core.ids import new_id
from ..core.timeutil import iso
from ..users import repository as users

_RANK = {role: i for i, role in enumerate(reversed(ROLES))}  # viewer 0 ... owner 4


def key_doc_id(tenant_id: str, key_id: str) -> str:
    return f"apikey:{tenant_id}:{key_id}"


def public_key(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["key_id"],
        "name": doc["name"],
        "role": doc["role"],
        "prefix": doc["prefix"],
        "created_at": doc["created_at"],
        "created_by": doc["created_by"],
        "revoked": doc.get("revoked", False),
        "revoked_at": doc.get("revoked_at"),
    }


def create_key(ctx: AppContext, who: Principal, *, name: str, role: str) -> dict[str, Any]:
    if who.kind != "user":
        # A key is answerable to the person who made it (it acts at most with their role).
        raise Forbidden("API keys are created by a signed-in person, not by another API key.")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise BadRequest("name must be 1 to 120 characters, e.g. 'ConnectWise connector'.")
    if role not in ROLES:
        raise BadRequest(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.")
    if _RANK[role] > _RANK[who.role]:
        raise Forbidden(f"A {who.role} cannot create a key with the more powerful {role} role.")
    key_id = new_id()
    secret = secrets.token_urlsafe(32)
    raw = f"bl_{who.tenant_id}_{key_id}_{secret}"
    doc = save(
        ctx.system,
        {
            "_id": key_doc_id(who.tenant_id, key_id),
            "type": "api_key",
            "schema_version": 1,
            "tenant_id": who.tenant_id,
            "key_id": key_id,
            "name": name,
            "role": role,
            "secret_hash": hash_secret(secret),
            "prefix": raw[: len(f"bl_{who.tenant_id}_{key_id}")],
            "created_at": iso(),
            "created_by": who.user_id,
            "revoked": False,
        },
    )
    out = public_key(doc)
    out["key"] = raw  # the only time the secret is shown
    return out


def list_keys(ctx: AppContext, tenant_id: str) -> list[dict[str, Any]]:
    return [public_key(d) for d in by_prefix(ctx.system, f"apikey:{tenant_id}:")]


def revoke_key(ctx: AppContext, tenant_id: str, key_id: str) -> dict[str, Any]:
    doc = get_or_none(ctx.system, key_doc_id(tenant_id, key_id))
    if doc is None:
        raise NotFound(f"No API key {key_id} in this tenant.")
    if not doc.get("revoked"):
        doc["revoked"] = True
        doc["revoked_at"] = iso()
        save(ctx.system, doc)
    return public_key(doc)


def principal_for_key(ctx: AppContext, raw: str) -> Principal:
    parts = raw.split("_", 3) if isinstance(raw, str) else []
    if len(parts) != 4 or parts[0] != "bl":
        raise Unauthorized("The API key is malformed: it starts with `bl_` as shown when it was created.")
    _, tenant_id, key_id, secret = parts
    doc = get_or_none(ctx.system, key_doc_id(tenant_id, key_id)) if tenant_id and key_id else None
    if doc is None or not same_hash(doc["secret_hash"], hash_secret(secret)):
        raise Unauthorized("The API key is not valid.")
    if doc.get("revoked"):
        raise Unauthorized("The API key was revoked; ask an admin for a new one.", error="key_revoked")
    creator = users.get_user(ctx.system, tenant_id, doc["created_by"])
    # A key acts with its own role, never above its creator's current one.
    role = doc["role"]
    if creator is None or not creator.get("active", True):
        raise Unauthorized(
            "The user who created this API key is no longer active; create a new key.", error="key_revoked"
        )
    if _RANK[role] > _RANK[creator["role"]]:
        role = creator["role"]
    return Principal(
        tenant_id=tenant_id,
        user_id=f"apikey:{key_id}",
        role=role,
        kind="apikey",
        extra={"display_name": doc["name"], "created_by": doc["created_by"]},
    )
