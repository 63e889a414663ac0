"""The application context: what the process is made of, built once at start-up.

Every part is a typed field. Those the features' start-up hooks provide (`api/features.py`
`install_hooks`) are checked by `require_parts` before anything is served: a missing sync
policy stops start-up instead of leaving `/sync` to a weaker default. The rest are made on
first use, one per process (pools, caches, the storage client).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sync.access import AccessPolicy, FeaturePolicy
from sync.doc_limits import DocSizeLimits
from sync.naming import SYSTEM_DB
from sync.observed_cache import ObservedCache
from sync.private_files import private_dir, restrict_umask
from sync.quota import TenantQuota
from sync.store import Database, Store

from ..settings import Settings
from .workers import Workers

if TYPE_CHECKING:  # the parts' own types; core never imports a feature at run time
    from ..attachments.storage import AttachmentStorage
    from ..auth.throttle import LoginThrottle
    from ..exports.sandbox import SandboxPool
    from ..integrations.worker import PsaWorker
    from ..mail.worker import MailWorker
    from ..ratelimit.rules import Policy
    from ..ratelimit.storage import Windows
    from ..rmm.worker import RmmWorker
    from ..sessions.state_cache import SessionStates
    from ..usage.service import AttachmentTally
    from ..webhooks.worker import WebhookWorker
    from .derived import IndexPart, IndexRegistry


class TenantCreatedHook(Protocol):
    def __call__(self, ctx: AppContext, tenant_id: str, *, starter_library: bool) -> None: ...


class AttachmentReader(Protocol):
    def __call__(
        self, ctx: AppContext, tenant_id: str, attachment_id: str, session_id: str | None = None
    ) -> bytes | None: ...


# (expiry, secret, tenant, user, token epoch, sign-in family) of a verified access token.
AccessClaims = tuple[float, str, str, str, int, "str | None"]


# The database whose rules keep engineers out of each other's sessions: without them /sync
# must not start.
GUARDED_DATABASE = "sessions"


class MissingSyncPolicy(RuntimeError):
    """No feature registered a sync access policy: start-up stops rather than serve /sync."""


def open_store(settings: Settings) -> Store:
    """The store backend chosen by settings (one place, so features never pick one)."""
    if settings.backend == "couchdb":
        from sync.couchdb import CouchStore  # noqa: PLC0415  (optional backend)

        return CouchStore(settings.couchdb_url, settings.couchdb_user, settings.couchdb_password)
    from sync.embedded import EmbeddedStore, peers_running  # noqa: PLC0415

    return EmbeddedStore(
        settings.data_dir,
        max_open=settings.store_max_open,
        cache_kb=settings.store_cache_kb,
        readers=settings.store_readers,
        # A command (`branchline user add`) run beside a server of several processes joins
        # them, so what it writes is in force in their caches at once too.
        shared=settings.processes > 1 or peers_running(settings.data_dir),
    )


def _system_scope(db_name: str) -> str | None:
    return db_name if db_name == SYSTEM_DB else None


def _same_doc(scope: Hashable, key: Hashable) -> tuple[str, str]:
    """The source of a cache keyed by (database name, document id)."""
    return str(scope), str(key)


def _user_doc_ids(docid: str) -> tuple[str, ...]:
    return (docid,) if docid.startswith("user:") else ()


@dataclass(eq=False)
class AppContext:
    settings: Settings
    store: Store
    secret: str

    # Provided by the features' start-up hooks.
    sync_policy: AccessPolicy | None = None  # judges every /sync request (features' rules)
    tenant_created_hooks: list[TenantCreatedHook] = field(default_factory=list)
    index_parts: dict[str, IndexPart] = field(default_factory=dict)
    attachment_reader: AttachmentReader | None = None  # lets exports embed images
    workers: Workers = field(default_factory=Workers)  # started and stopped by the lifespan
    webhooks: WebhookWorker | None = None  # the outbox and its deliveries
    psa: PsaWorker | None = None  # PSA pushes (api/integrations)
    rmm: RmmWorker | None = None  # script runs through an RMM (api/rmm)
    mail: MailWorker | None = None  # the e-mail outbox's sender (api/mail)
    # Sessions as last written by a step over the API (api/sessions/state_cache.py); None
    # when the store cannot tell of every write.
    session_states: SessionStates | None = None
    # Who may reach which team-scoped tree (api/teams/scopes.py), made on first use.
    tree_scopes: Any = None
    # Published tree versions as the store holds them (api/trees/version_cache.py); None when
    # the store cannot tell of every write, or before the trees feature is installed.
    tree_versions: Any = None
    features_installed: bool = False

    # Made from the settings, shared by the API and the sync endpoints.
    doc_size_limits: DocSizeLimits = field(init=False)
    quota: TenantQuota = field(init=False)
    # User documents as authentication reads them on every request; None when the store
    # cannot tell of every write (then each request reads its caller's account).
    user_docs: ObservedCache[dict[str, Any] | None] | None = field(init=False)
    rate_policies: dict[str, Policy] = field(default_factory=dict)
    rate_windows: Windows | None = None

    # Made on first use, one per process.
    index_registry: IndexRegistry | None = None
    # Which history of the data devices replicate with (api/sync_history.py): set at start-up
    # on the embedded backend, read on first use on the couchdb backend.
    sync_history: str | None = None
    attachment_storage: AttachmentStorage | None = None
    # Stored attachment files per tenant, for the usage page (api/usage), set by its hook.
    attachment_tally: AttachmentTally | None = None
    template_pool: SandboxPool | None = None
    login_throttle: LoginThrottle | None = None
    sso_providers: Any = None  # OIDC discovery and signing keys per issuer (api/sso/oidc.py)
    access_token_cache: dict[str, AccessClaims] = field(default_factory=dict)

    # What the nightly backup last did ({path, failed}), for the health page.
    last_backup: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.doc_size_limits = self.settings.doc_size_limits()
        self.quota = self.settings.tenant_quota()
        self.user_docs = ObservedCache[dict[str, Any] | None](
            _system_scope, _user_doc_ids, id_prefix="user:", source=_same_doc
        ).attach(self.store)

    @property
    def system(self) -> Database:
        return self.store.db(SYSTEM_DB)

    def policy(self) -> AccessPolicy:
        """The sync access policy; its absence is an error, never a default.

        A default of role checks alone would let every engineer replicate every session.
        """
        policy = self.sync_policy
        if policy is None or (
            isinstance(policy, FeaturePolicy) and policy.rules_for(GUARDED_DATABASE) is None
        ):
            raise MissingSyncPolicy(
                "No sync access policy is registered (AppContext.sync_policy is empty after the "
                "features' start-up hooks, or it has no rules for the sessions database). The sessions "
                "feature registers SessionsRules with register_sync_rules in "
                "api/sessions/service.py install(), called from api/features.py install_hooks(); "
                "restore that call. Serving /sync with role checks alone would give every engineer "
                "every session, so the server does not start."
            )
        return policy

    def require_parts(self) -> None:
        """Start-up stops here when a part every request relies on was not provided."""
        self.policy()

    @classmethod
    def create(cls, settings: Settings) -> AppContext:
        restrict_umask()
        secret = settings.resolve_secret()
        private_dir(settings.data_dir)
        store = open_store(settings)
        if not store.db_exists(SYSTEM_DB):
            store.create_db(SYSTEM_DB)
        return cls(settings=settings, store=store, secret=secret)
