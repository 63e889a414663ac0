"""Who is asking, and the hook where access rules plug into the sync endpoints.

The sync layer knows nothing of users or roles beyond this: the API authenticates a request
into a `Principal` and hands the sync router an `AccessPolicy`. The sync layer only calls
the hooks, on every read path (`GET`, `_all_docs`, `_changes`, `_bulk_get`, `open_revs`) and
every write path (`PUT`, `DELETE`, `_bulk_docs`, attachments).

It knows no database either: each feature declares the logical database it owns and that
database's rules (who writes it, which documents whom may read and write) as a
`DatabaseRules`, next to its code, and registers it into the one `FeaturePolicy`, which
dispatches every check to the rules of the database asked about. A database no feature
declared is read by every role and written by owners and admins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from .errors import Forbidden
from .policy_traits import PolicyTraits

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
    # The documents whose change may change this caller's access (its account, its API key),
    # as (physical database, document ids): a live feed re-checks the caller when one of them
    # changes instead of on a timer. None when the authenticator cannot say (then it polls).
    watch: tuple[str, frozenset[str]] | None = field(default=None, compare=False, hash=False)

    @property
    def is_admin(self) -> bool:
        return self.role in ("owner", "admin")


class AccessPolicy(Protocol):
    def check_db(self, principal: Principal, db: str, action: DbAction) -> None:
        """Raise `Forbidden` when `principal` may not do `action` on logical database `db`."""

    def can_read(self, principal: Principal, db: str, doc: dict[str, Any]) -> bool:
        """May `principal` receive this document (winning revision, with `_id`)?"""

    def written(self, principal: Principal, db: str, ids: list[str]) -> None:
        """Told, after the fact, that these documents, each passed by `check_write` for
        `principal` in this request, are stored: for hooks that record what happened (the
        audit log). The write is done whatever this does; the sync layer logs its failures."""

    def read_prefilter(self, principal: Principal, db: str) -> Callable[[str], bool] | None:
        """A cheap judge of document ids for `_changes`, or None: False when `principal`
        surely may not read the document, True when `can_read` must decide. It never reads
        the store (it runs inside the feed's read); rows it keeps are still judged whole."""

    def check_write(
        self, principal: Principal, db: str, doc: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        """Raise `Forbidden` when `principal` may not write `doc` (`current` is the stored winner).

        An attachment in `doc["_attachments"]` carries its content as `data`: base64 text when
        written inline, raw bytes when the sync layer plans an attachment PUT; stubs have none.
        """

    def readers(self, tenant_id: str, db: str, ids: list[str]) -> frozenset[str] | None:
        """The user ids that may read at least one of these changed documents of `db`,
        besides callers who read the whole database (`reads_everything`); None when every
        reader of the database may. A live feed is woken only when its caller is among them,
        so the answer may name too many users (a feed wakes for nothing) but never too few."""

    def reshapes_readers(self, db: str, docid: str) -> bool:
        """Whether a change of `docid` may change who reads other documents of `db` (a
        session header decides who reads its events). The notifier's index of recent changes
        by reader (sync/longpoll.py) starts afresh on such a change; True when unsure."""

    def extra_changes_ids(self, principal: Principal, db: str, since: Any) -> set[str]:
        """Ids of documents that became readable for `principal` after `since`.

        They are sent with the next `_changes` answer even though their own seq is older,
        so a session shared after a device's last sync still reaches it.
        """


ADMINS: tuple[Role, ...] = ("owner", "admin")


class RolePolicy:
    """Database-level rules by role; every document of a readable database is readable.

    `writers` maps a logical database to the roles that write it (owners and admins only
    for any other database). `FeaturePolicy` adds the features' per-document rules.
    """

    # Every shortcut holds for these rules (see sync/policy_traits.py; subclasses declare their own).
    sync_traits = PolicyTraits(
        reads_every_document=True,
        writes_judged_without_stored_doc=True,
        db_checks_never_block=True,
        no_late_documents=True,
    )

    def __init__(self, writers: Mapping[str, tuple[Role, ...]] | None = None) -> None:
        self._writers: dict[str, tuple[Role, ...]] = dict(writers or {})

    def writers(self, db: str) -> tuple[Role, ...]:
        return self._writers.get(db, ADMINS)

    # Databases only the server reads and writes (the audit log, webhooks with their secrets
    # and outbox, the freshness flags, PSA connectors with their keys and pushes): closed to
    # every caller of /sync, so no device or replicator can read, write, delete or re-secure them.
    SERVER_ONLY_DATABASES: frozenset[str] = frozenset(
        {"audit", "webhooks", "freshness", "integrations", "mail"}
    )
    _SERVER_ONLY_USE: ClassVar[dict[str, str]] = {
        "freshness": "authors read the trees that need attention with GET /api/v1/trees/attention",
        "audit": "owners and admins read it with GET /api/v1/audit",
        "webhooks": "owners and admins manage webhooks with /api/v1/webhooks",
        "integrations": "owners and admins configure PSA connectors with /api/v1/integrations",
        "mail": "owners and admins read what was e-mailed with GET /api/v1/mail",
    }

    def check_db(self, principal: Principal, db: str, action: DbAction) -> None:
        if db in self.SERVER_ONLY_DATABASES:
            raise Forbidden(f"The {db!r} database is kept by the server only; {self._SERVER_ONLY_USE[db]}.")
        if action == "read":
            return
        if action in ("create_db", "delete_db", "security"):
            if not principal.is_admin:
                raise Forbidden("Only tenant owners and admins may create, delete or secure databases.")
            return
        writers = self.writers(db)
        if principal.role not in writers:
            raise Forbidden(
                f"The {principal.role} role may not write to the {db!r} database; "
                f"ask an admin for one of these roles: {', '.join(writers)}."
            )

    def can_read(self, principal: Principal, db: str, doc: dict[str, Any]) -> bool:
        return True

    def read_prefilter(self, principal: Principal, db: str) -> Callable[[str], bool] | None:
        return None

    def written(self, principal: Principal, db: str, ids: list[str]) -> None:
        return None

    def reads_everything(self, principal: Principal, db: str) -> bool:
        """Whether `can_read` is true of every document of `db` for `principal`: then
        answers that speak of the whole database (counts, revisions) need no screening.
        A subclass with its own `can_read` must say so itself."""
        return type(self).can_read is RolePolicy.can_read

    def readers(self, tenant_id: str, db: str, ids: list[str]) -> frozenset[str] | None:
        """Everyone who reads the database: a subclass with its own `can_read` says otherwise."""
        return None

    def reshapes_readers(self, db: str, docid: str) -> bool:
        return True  # unsure: a subclass with its own `can_read` knows better

    def check_write(
        self, principal: Principal, db: str, doc: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        self.check_db(principal, db, "write")

    def extra_changes_ids(self, principal: Principal, db: str, since: Any) -> set[str]:
        return set()


class DatabaseRules:
    """One feature's rules for the logical database `database` of every tenant.

    The defaults: `writers` write, every role reads every document, any document may be
    written by a writer. A feature overrides what its documents need (see `FeaturePolicy`
    for when each hook is called, and `AccessPolicy` for what each one answers).
    """

    database: str = ""
    writers: tuple[Role, ...] = ADMINS
    # True (declared by the rules' own class, never inherited): every hook waits only inside
    # calls to the store, or in `NonblockingLock`s, and calls `ensure_may_block()` before
    # writing anything itself (sync/nonblocking.py). The sync layer may then answer this
    # database's requests on the event loop, starting over on a worker thread whenever
    # something would have had to wait. False: its requests always go to a worker thread.
    waits_only_in_store: bool = False

    def can_read(self, principal: Principal, doc: dict[str, Any]) -> bool:
        return True

    def read_prefilter(self, principal: Principal) -> Callable[[str], bool] | None:
        """See `AccessPolicy.read_prefilter`: None, every row is judged whole."""
        return None

    def written(self, principal: Principal, ids: list[str]) -> None:
        """See `AccessPolicy.written`: nothing to record."""

    def reads_everything(self, principal: Principal) -> bool:
        """True when `can_read` is true of every document for `principal`; a feature
        with its own `can_read` must override this too."""
        return True

    def readers(self, tenant_id: str, ids: list[str]) -> frozenset[str] | None:
        return None

    def reshapes_readers(self, docid: str) -> bool:
        """See `AccessPolicy.reshapes_readers`: unsure unless the rules say otherwise."""
        return True

    def check_write(self, principal: Principal, doc: dict[str, Any], current: dict[str, Any] | None) -> None:
        """Raise `Forbidden` for a document `principal` (already a writer) may not write."""

    def extra_changes_ids(self, principal: Principal, since: Any) -> set[str]:
        return set()


class FeaturePolicy(RolePolicy):
    """The one sync policy: each check goes to the rules registered for its database."""

    # Per-document rules (sessions) read stored documents and add late shares, so only the
    # role check of `check_db`, pure computation, is declared safe to run on the event loop.
    sync_traits = PolicyTraits(db_checks_never_block=True)

    def __init__(self, rules: Iterable[DatabaseRules] = (), fallback: DatabaseRules | None = None) -> None:
        """`fallback` judges the databases no feature declared (e.g. one an admin created)."""
        super().__init__()
        self._rules: dict[str, DatabaseRules] = {}
        self._fallback = fallback or DatabaseRules()
        for r in rules:
            self.register(r)

    def register(self, rules: DatabaseRules) -> None:
        """Add a feature's rules; one feature owns a database, so a second owner is an error."""
        if not rules.database:
            raise ValueError(f"{type(rules).__name__} does not name its database.")
        known = self._rules.get(rules.database)
        if known is not None and type(known) is not type(rules):
            raise ValueError(
                f"The {rules.database!r} database already has rules ({type(known).__name__}); "
                f"{type(rules).__name__} cannot own it too."
            )
        self._rules[rules.database] = rules

    def rules_for(self, db: str) -> DatabaseRules | None:
        """The rules a feature registered for `db` (None: the fallback judges it)."""
        return self._rules.get(db)

    def _of(self, db: str) -> DatabaseRules:
        return self._rules.get(db) or self._fallback

    def waits_only_in_store(self, db: str) -> bool:
        """Whether the rules judging `db` declare `waits_only_in_store` in their own class
        (see `DatabaseRules`): then `SyncApi` may run `db`'s requests in non-blocking mode."""
        return type(self._of(db)).__dict__.get("waits_only_in_store") is True

    def writers(self, db: str) -> tuple[Role, ...]:
        return self._of(db).writers

    def can_read(self, principal: Principal, db: str, doc: dict[str, Any]) -> bool:
        return self._of(db).can_read(principal, doc)

    def read_prefilter(self, principal: Principal, db: str) -> Callable[[str], bool] | None:
        return self._of(db).read_prefilter(principal)

    def written(self, principal: Principal, db: str, ids: list[str]) -> None:
        self._of(db).written(principal, ids)

    def reads_everything(self, principal: Principal, db: str) -> bool:
        return self._of(db).reads_everything(principal)

    def readers(self, tenant_id: str, db: str, ids: list[str]) -> frozenset[str] | None:
        return self._of(db).readers(tenant_id, ids)

    def reshapes_readers(self, db: str, docid: str) -> bool:
        return self._of(db).reshapes_readers(docid)

    def check_write(
        self, principal: Principal, db: str, doc: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        self.check_db(principal, db, "write")
        self._of(db).check_write(principal, doc, current)

    def extra_changes_ids(self, principal: Principal, db: str, since: Any) -> set[str]:
        return self._of(db).extra_changes_ids(principal, since)
