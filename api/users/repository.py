"""User documents (`user:{tenant}:{user}`) and the global e-mail index (`email:{address}`).

An e-mail belongs to one user in one tenant: the index document is created first, and its
unique id makes a second registration with the same address fail with a conflict.
"""

from __future__ import annotations

from typing import Any

from sync.errors import Conflict, NotFound
from sync.store import Database

from ..core.docs import by_prefix, get_or_none, save


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_doc_id(tenant_id: str, user_id: str) -> str:
    return f"user:{tenant_id}:{user_id}"


def email_doc_id(email: str) -> str:
    return f"email:{normalize_email(email)}"


def get_user(system: Database, tenant_id: str, user_id: str) -> dict[str, Any] | None:
    return get_or_none(system, user_doc_id(tenant_id, user_id))


def require_user(system: Database, tenant_id: str, user_id: str) -> dict[str, Any]:
    doc = get_user(system, tenant_id, user_id)
    if doc is None:
        raise NotFound(f"No user {user_id} in this tenant.")
    return doc


def find_by_email(system: Database, email: str) -> dict[str, Any] | None:
    idx = get_or_none(system, email_doc_id(email))
    if idx is None:
        return None
    return get_user(system, idx["tenant_id"], idx["user_id"])


def claim_email(system: Database, email: str, tenant_id: str, user_id: str) -> None:
    try:
        save(
            system,
            {"_id": email_doc_id(email), "type": "email_index", "tenant_id": tenant_id, "user_id": user_id},
        )
    except Conflict:
        raise Conflict(
            f"The e-mail {normalize_email(email)} already has an account. "
            "Sign in instead, or use another address.",
            error="conflict",
        ) from None


def release_email(system: Database, email: str) -> None:
    doc = get_or_none(system, email_doc_id(email))
    if doc is not None:
        system.delete(doc["_id"], doc["_rev"])


def insert_user(system: Database, doc: dict[str, Any]) -> dict[str, Any]:
    return save(system, doc)


def update_user(system: Database, doc: dict[str, Any]) -> dict[str, Any]:
    return save(system, doc)


def list_users(
    system: Database, tenant_id: str, *, limit: int | None = None, after: str | None = None
) -> list[dict[str, Any]]:
    prefix = f"user:{tenant_id}:"
    return by_prefix(
        system, prefix, limit=limit, startkey=None if after is None else user_doc_id(tenant_id, after)
    )


def awaiting_invite(doc: dict[str, Any]) -> bool:
    """Invited and never accepted: the account has no password anyone knows."""
    return bool(doc.get("password_unset") or doc.get("invite"))


def member_status(doc: dict[str, Any], now: float | None = None) -> str:
    """`active`, `deactivated`, `invited` (link pending), `invite_expired` or `invite_cancelled`."""
    import time  # noqa: PLC0415

    if doc.get("active"):
        return "active"
    invite = doc.get("invite")
    if isinstance(invite, dict):
        return (
            "invite_expired"
            if invite.get("expires_at", 0) < (time.time() if now is None else now)
            else "invited"
        )
    return "invite_cancelled" if doc.get("password_unset") else "deactivated"


def public_user(doc: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": doc["user_id"],
        "email": doc["email"],
        "display_name": doc["display_name"],
        "role": doc["role"],
        "active": doc["active"],
        "reviewer": doc.get("reviewer") is True,
        "status": member_status(doc),
        "created_at": doc["created_at"],
        "tenant_id": doc["tenant_id"],
    }
    invite = doc.get("invite")
    if isinstance(invite, dict):
        out["invite"] = {"expires_at": invite.get("expires_at"), "invited_at": invite.get("invited_at")}
    return out
