"""Who is asking, and the hook where access rules plug into the sync endpoints.

The sync layer knows nothing of users or roles beyond this: the API authenticates a request
into a `Principal` and hands the sync router an `AccessPolicy`. Per-document rules (which
sessions an engineer may read or write) are supplied by the API's sessions feature; the
sync layer only calls the hooks, on every read path (`GET`, `_all_docs`, `_changes`,
`_bulk_get`, `open_revs`) and every write path (`PUT`, `DELETE`, `_bulk_docs`, attachments).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .errors import Forbidden

Role = Literal["owner", "admin", "author", "engineer", "viewer"]
DbAction = Literal["read", "write", "create_db", "delete_db", "security"]

ROLES: tuple[Role, ...] = ("owner", "admin", "author", "engineer", "viewer")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller inside one tenant: a user, or an API key acting with a role."""

    tenant_id: str
    user_id: str
    role: Role
    kind: Literal["user", "apikey"] = "user"
    email: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_admin(self) -> bool:
        return self.role in ("owner", "admin")


class AccessPolicy(Protocol):
    def check_db(self, principal: Principal, db: str, action: DbAction) -> None:
        """Raise `Forbidden` when `principal` may not do `action` on logical database `db`."""

    def can_read(self, principal: Principal, db: str, doc: dict[str, Any]) -> bool:
        """May `principal` receive this document (winning revision, with `_id`)?"""

    def check_write(self, principal: Principal, db: str, doc: dict[str, Any],
                    current: dict[str, Any] | None) -> None:
        """Raise `Forbidden` when `principal` may not write `doc` (`current` is the stored winner).

        An attachment in `doc["_attachments"]` carries its content as `data`: base64 text when
        written inline, raw bytes when the sync layer plans an attachment PUT; stubs have none.
        """

    def extra_changes_ids(self, principal: Principal, db: str, since: Any) -> set[str]:
        """Ids of documents that became readable for `principal` after `since`.

        They are sent with the next `_changes` answer even though their own seq is older,
        so a session shared after a device's last sync still reaches it.
        """


class RolePolicy:
    """Database-level rules by role; every document of a readable database is readable.

    The API's sessions feature subclasses this with per-document rules.
    """

    WRITERS: dict[str, tuple[Role, ...]] = {
        "trees": ("owner", "admin", "author"),
        "sessions": ("owner", "admin", "author", "engineer"),
        "clients": ("owner", "admin", "author", "engineer"),
    }

    # Databases only the server reads and writes (the audit log): closed to every caller of
    # /sync, so no device or replicator can read, write, delete or re-secure them.
    SERVER_ONLY_DATABASES: frozenset[str] = frozenset({"audit"})

    def check_db(self, principal: Principal, db: str, action: DbAction) -> None:
        if db in self.SERVER_ONLY_DATABASES:
            raise Forbidden(f"The {db!r} database is kept by the server only; "
                            "owners and admins read it with GET /api/v1/audit.")
        if action == "read":
            return
        if action in ("create_db", "delete_db", "security"):
            if not principal.is_admin:
                raise Forbidden("Only tenant owners and admins may create, delete or secure databases.")
            return
        writers = self.WRITERS.get(db, ("owner", "admin"))
        if principal.role not in writers:
            raise Forbidden(
                f"The {principal.role} role may not write to the {db!r} database; "
                f"ask an admin for one of these roles: {', '.join(writers)}."
            )

    def can_read(self, principal: Principal, db: str, doc: dict[str, Any]) -> bool:
        return True

    def reads_everything(self, principal: Principal, db: str) -> bool:
        """Whether `can_read` is true of every document of `db` for `principal`: then
        answers that speak of the whole database (counts, revisions) need no screening.
        A subclass with its own `can_read` must say so itself."""
        return type(self).can_read is RolePolicy.can_read

    # Documents only the server writes (through the store, never through sync): published
    # versions are immutable, and sidecars hold the server's own bookkeeping.
    SERVER_ONLY_PREFIXES: dict[str, tuple[str, ...]] = {
        "trees": ("treever:", "treemeta:", "treestarter:", "treesug:"),
    }

    def check_write(self, principal: Principal, db: str, doc: dict[str, Any],
                    current: dict[str, Any] | None) -> None:
        self.check_db(principal, db, "write")
        docid = doc.get("_id") or ""
        if docid.startswith(self.SERVER_ONLY_PREFIXES.get(db, ())):
            raise Forbidden(f"{docid} is written by the server only (published versions are immutable); "
                            "use the API, e.g. POST /api/v1/trees/{id}/publish.")

    def extra_changes_ids(self, principal: Principal, db: str, since: Any) -> set[str]:
        return set()
