"""One typed settings object for the whole server (environment variables `BRANCHLINE_*`)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.doc_limits import DocSizeLimits
from sync.quota import TenantQuota

if TYPE_CHECKING:
    from api.mail.transport import SmtpConfig

# Values people copy from examples; refusing them keeps a tutorial secret out of production.
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "development", "dev", "test", "please-change"}
_MIN_SECRET_LEN = 32


class SettingsError(RuntimeError):
    """Bad configuration: startup stops with this message, which says how to fix it."""


def _nameserver(value: str) -> tuple[str, int]:
    """`ip`, `ip:port` or `[ipv6]:port` as (ip, port); SettingsError otherwise."""
    text = value.strip()
    host, port = text, "53"
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed:
            host = ""  # refused below
        port = rest[1:] if rest.startswith(":") else (rest or "53")
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        ipaddress.ip_address(host)
        number = int(port)
        if not 0 < number < 65536:
            raise ValueError
    except ValueError:
        raise SettingsError(
            f"BRANCHLINE_DNS_NAMESERVER={value!r} is not an IP address with an optional port; give it "
            "like 192.0.2.53, 127.0.0.1:5353 or [2001:db8::53]:53, or leave it unset for the system's "
            "resolvers."
        ) from None
    return host, number


def _embed_origin_problem(origin: str) -> str | None:
    """What is wrong with an origin allowed to frame the app, or None."""
    parts = urlsplit(origin)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return "an origin that may frame the app must be https:// (http:// only for localhost)."
    if not parts.hostname or parts.path or parts.query or parts.fragment or "*" in origin:
        return "it must be a scheme and a host (and port), with no path and no wildcard."
    return None


def _public_endpoint_problem(url: str) -> str | None:
    """What is wrong with a public S3 endpoint, or None when it is usable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "is not an http:// or https:// URL"
    if not parts.hostname:
        return "has no host name"
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:
        return "has an invalid port"
    if parts.username or parts.password:
        return "contains credentials (devices get signed URLs; they need no password)"
    # The path is signed too: a proxy that strips a prefix such as /s3 before passing the
    # request on would break every signature.
    if parts.path or parts.query or parts.fragment:
        return "has a path, query or fragment (the bucket is addressed by path below the host)"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRANCHLINE_", env_file=None, extra="ignore")

    # `development` is the embedded default of the README's run command; `production` refuses
    # to start without an explicit secret.
    mode: Literal["development", "production"] = "development"
    data_dir: Path = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local/share")) / "branchline"
        )
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None  # defaults to the address the server listens on
    secret_key: str | None = None

    backend: Literal["embedded", "couchdb"] = "embedded"
    couchdb_url: str | None = None
    couchdb_user: str | None = None
    couchdb_password: str | None = None

    access_token_minutes: float = 10.0
    refresh_token_days: float = 30.0  # must outlive several days offline
    # A refresh token presented again within this many seconds of its rotation, while the
    # token it was rotated into is still unused, gets that same successor again instead of
    # revoking the sign-in: the first answer was lost (one bar of signal) or two tabs
    # refreshed at once. Any other reuse still revokes. 0 turns the grace off.
    refresh_retry_grace_seconds: float = Field(default=60.0, ge=0, le=600)
    # Failed sign-ins (and wrong current passwords) lock an account only for the address they
    # came from; an address failing on many accounts is locked for all of them.
    login_max_failures_per_account: int = 5  # one account, from one address
    login_max_failures_per_address: int = 20
    login_failure_window_seconds: int = 900
    login_lockout_seconds: int = 60

    # Rate limits (api/ratelimit). General limits are token buckets: N requests at once, then
    # N per minute. Pushing and pulling 10,000 documents with PouchDB takes about 900
    # requests, so the per-user and per-key limits sit far above a replication's needs.
    # Past a limit: 429 with Retry-After.
    rate_limits_enabled: bool = True
    rate_limit_user_per_minute: int = Field(default=3000, ge=1)  # per signed-in user
    rate_limit_api_key_per_minute: int = Field(default=3000, ge=1)  # per API key
    rate_limit_address_per_minute: int = Field(
        default=1200, ge=1
    )  # per address, requests without known credentials
    rate_limit_registrations_per_hour: int = Field(default=10, ge=1)  # new teams per address
    rate_limit_exports_per_minute: int = Field(default=300, ge=1)  # per team, any format
    rate_limit_pdf_per_minute: int = Field(default=30, ge=1)  # per team, PDF renders
    rate_limit_uploads_per_minute: int = Field(default=300, ge=1)  # per team, attachment uploads
    rate_limit_share_views_per_minute: int = Field(default=60, ge=1)  # per read-only share link
    # per team: "Back up now" and archive downloads together (each reads every database)
    rate_limit_backups_per_hour: int = Field(default=12, ge=1)
    # per team: the Usage page's Refresh, which measures every database and lists the
    # attachment files now (on S3, a paged listing) rather than reuse the last measurement
    rate_limit_usage_refreshes_per_minute: int = Field(default=20, ge=1)
    # "Forgot password" requests: per client address, and per e-mail address asked for (so
    # nobody can flood a mailbox with reset links).
    rate_limit_password_resets_per_hour: int = Field(default=10, ge=1)
    rate_limit_password_reset_mails_per_hour: int = Field(default=3, ge=1)
    # per team, invitations e-mailed (new or resent): the operator's mail server is not a
    # free mailer for any team that registers
    rate_limit_invitation_mails_per_hour: int = Field(default=60, ge=1)

    # Largest document, in bytes, per database (sync and API writes alike; sync/doc_limits.py).
    # A tree of 2,000 nodes is about 1 to 2 MB; session events and client contexts are small.
    max_doc_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)  # any other database
    max_doc_bytes_trees: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_doc_bytes_sessions: int = Field(default=1024 * 1024, ge=1024)
    max_doc_bytes_clients: int = Field(default=1024 * 1024, ge=1024)
    max_local_doc_bytes: int = Field(default=64 * 1024, ge=1024)  # replication checkpoints
    # Bytes a team's databases may take (attachments have their own limits); 0: no quota.
    # Usage is measured at most once per tenant_quota_cache_seconds.
    tenant_quota_bytes: int = Field(default=5 * 1024**3, ge=0)
    tenant_quota_cache_seconds: float = Field(default=30.0, ge=0)
    # The embedded store (sync/embedded/handles.py): databases with SQLite connections open at
    # once (least recently used closed first; each takes 3 descriptors, 2 more per reader),
    # each connection's page cache, and reader connections per database.
    store_max_open: int = Field(default=64, ge=1)
    store_cache_kb: int = Field(default=2048, ge=64)
    store_readers: int = Field(default=2, ge=1, le=16)
    # Server processes serving this data folder (embedded backend): `branchline serve` starts
    # this many, and each process, knowing it is not alone, shares what it must with the others
    # (sync/embedded/peers.py: caches and live feeds; the system database: rate-limit windows,
    # the sign-in throttle, the scheduled jobs' lease). Python runs one process on one core.
    processes: int = Field(default=1, ge=1, le=16)

    def tenant_quota(self) -> TenantQuota:
        return TenantQuota(self.tenant_quota_bytes, cache_seconds=self.tenant_quota_cache_seconds)

    def doc_size_limits(self) -> DocSizeLimits:
        return DocSizeLimits(
            per_db={
                "trees": self.max_doc_bytes_trees,
                "sessions": self.max_doc_bytes_sessions,
                "clients": self.max_doc_bytes_clients,
            },
            default=self.max_doc_bytes,
            local=self.max_local_doc_bytes,
        )

    # Attachments: S3-compatible storage when an endpoint or bucket is set (MinIO in
    # docker-compose, any S3 in production); otherwise a folder under data_dir.
    s3_endpoint: str | None = None  # e.g. http://minio:9000; leave out for AWS S3 itself
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    # The address devices reach the same S3 service at, when it differs from s3_endpoint
    # (in docker-compose the server uses http://minio:9000, a name no phone can resolve).
    # Only pre-signed URLs use it: SigV4 signs the host, so a URL signed for s3_endpoint
    # cannot be rewritten afterwards; it has to be signed for this address.
    s3_public_endpoint: str | None = None  # e.g. https://files.example-msp.com

    # Backups of the embedded backend (api/backups): a nightly snapshot of every tenant.
    backup_enabled: bool = True
    backup_dir: Path | None = None  # default: {data_dir}/backups
    backup_keep: int = Field(7, ge=1)  # snapshots kept; older ones are deleted after a run
    backup_cron: str = "30 2 * * *"  # UTC, crontab syntax

    # Scheduled jobs (api/jobs) run once per installation: on the couchdb backend, on the
    # instance holding the scheduler lease, which renews it every third of this many seconds.
    scheduler_lease_seconds: float = Field(30.0, ge=0.3, le=600)
    cleanup_interval_seconds: int = Field(3600, ge=1)  # expired tokens, stale rate-limit counters
    # Embedded backend: databases written since the last run are compacted (old revisions'
    # bodies, attachment content no revision uses); 0: never, only on POST /{db}/_compact.
    compact_interval_seconds: int = Field(3600, ge=0)

    # Webhooks (api/webhooks): targets on loopback, private, link-local or metadata addresses
    # are refused unless this is true (a receiver on the same machine or network; tests).
    webhook_allow_private: bool = False
    # Seconds between a failed delivery and its next attempt; after the last one the message
    # is `failed` and its subscription `failing` (the default spans about a day).
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    webhook_concurrency: int = Field(16, ge=1, le=256)  # deliveries in flight per instance
    webhook_log_days: int = Field(30, ge=1, le=3650)  # delivered and failed messages kept this long

    # Domain proofs (api/core/dnsproof.py): the DNS server asked for the TXT records that
    # prove a team controls an e-mail or custom domain, as ip or ip:port ([v6]:port); unset,
    # the machine's own resolvers (/etc/resolv.conf). Each lookup gives up after the timeout.
    dns_nameserver: str | None = None
    dns_timeout_seconds: float = Field(3.0, gt=0, le=30)
    # E-mail (api/mail): the SMTP server, as smtp://user:pass@host:587 (STARTTLS, required),
    # smtps://user:pass@host:465 (TLS from the first byte) or, only with smtp_allow_plain and
    # only to a loopback host, smtp://host:25 without TLS (a local relay, development).
    # Unset: nothing is e-mailed and every place that would send says so. A SecretStr, so
    # the password in it never shows in a log or a repr.
    smtp_url: SecretStr | None = None
    smtp_allow_plain: bool = False
    mail_from: str | None = None  # the sender address, e.g. noreply@help.example-msp.com
    smtp_timeout_seconds: float = Field(20.0, gt=0, le=120)
    # Seconds between a temporary failure (4xx, no connection) and the next attempt; after the
    # last one the message is `failed`. A permanent refusal (5xx) fails at once.
    mail_retry_schedule: str = "10,60,300,900,1800,3600,7200"
    mail_log_days: int = Field(30, ge=1, le=3650)  # sent and failed messages kept this long

    # PSA connectors (api/integrations): seconds between a push that failed for a passing
    # reason (outage, network, 429: at least its Retry-After) and its next attempt; after
    # the last one the push is `failed` until an admin retries it.
    psa_retry_schedule: str = "10,60,300,1800,3600,7200,14400,28800"
    psa_timeout_seconds: float = Field(20.0, gt=0, le=120)
    # How often the tickets of sessions pushed in the last week are read again, so a session
    # header shows the ticket's current summary and status (once per tenant across instances).
    psa_refresh_seconds: float = Field(900.0, ge=0.5)
    # RMM connectors (api/rmm): how often a running script's job is read again, seconds
    # between a submit that failed for a passing reason and its next attempt (then the run
    # fails), and each call's timeout.
    rmm_poll_seconds: float = Field(5.0, ge=0.05, le=300)
    rmm_retry_schedule: str = "10,30,60,300,900"
    rmm_http_timeout_seconds: float = Field(20.0, gt=0, le=120)
    # Autotask's zone discovery (its REST root on the documented discovery host): asked once
    # per tenant which zone the API user's database is in; only tests point it elsewhere.
    autotask_zone_discovery_url: str = "https://webservices.autotask.net/atservicesrest/"

    # Tenants' own export templates (api/exports/sandbox.py) render in worker processes,
    # each render bounded in time, loop iterations, output and memory.
    template_workers: int = Field(2, ge=1, le=32)
    template_render_seconds: float = Field(3.0, gt=0, le=120)
    template_max_loop_iterations: int = Field(250_000, ge=1_000)
    template_max_output_chars: int = Field(2_000_000, ge=10_000)  # beyond embedded images
    template_memory_mb: int = Field(512, ge=128)

    # Origins allowed to show the app in a frame (a ConnectWise pod, an Autotask insight):
    # comma-separated, e.g. "https://na.myconnectwise.net,https://ww5.autotask.net". Only the
    # app's pages are framable, never /api/ or /sync/ answers; empty: no framing at all.
    embed_origins: str = ""

    pwa_dist: Path | None = None  # built PWA to serve at /; default: pwa/dist beside the code
    log_level: str = "info"

    @property
    def several_instances(self) -> bool:
        """Whether other processes serve the same data (couchdb: other instances; embedded:
        `processes` above one). Then what must hold across them lives in the store."""
        return self.backend == "couchdb" or self.processes > 1

    @property
    def frame_ancestors(self) -> tuple[str, ...]:
        """`embed_origins` as a tuple (checked at start-up)."""
        return tuple(o.strip().rstrip("/") for o in self.embed_origins.split(",") if o.strip())

    @property
    def dns_server(self) -> tuple[str, int] | None:
        """`dns_nameserver` as (ip, port) (checked at start-up), or None for the system's."""
        if not self.dns_nameserver:
            return None
        return _nameserver(self.dns_nameserver)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        self.dns_server  # noqa: B018 - raises SettingsError on a malformed address
        for origin in self.frame_ancestors:
            problem = _embed_origin_problem(origin)
            if problem:
                raise SettingsError(
                    f"BRANCHLINE_EMBED_ORIGINS holds {origin!r}: {problem} Give origins only, "
                    "comma-separated, e.g. https://na.myconnectwise.net,https://ww5.autotask.net"
                )
        if self.public_url:
            self.public_url = self.public_url.rstrip("/")
        if self.s3_endpoint and not self.s3_bucket:
            raise SettingsError(
                "BRANCHLINE_S3_ENDPOINT is set but BRANCHLINE_S3_BUCKET is not: name the bucket "
                "attachments go to (e.g. BRANCHLINE_S3_BUCKET=branchline-attachments)."
            )
        if self.s3_bucket and bool(self.s3_access_key) != bool(self.s3_secret_key):
            raise SettingsError(
                "Set both BRANCHLINE_S3_ACCESS_KEY and BRANCHLINE_S3_SECRET_KEY, or neither "
                "(then boto3's usual credential chain is used)."
            )
        # docker-compose passes an unset variable through as "": that means "not set".
        self.s3_public_endpoint = (self.s3_public_endpoint or "").strip().rstrip("/") or None
        if self.s3_public_endpoint:
            if not self.s3_bucket:
                raise SettingsError(
                    "BRANCHLINE_S3_PUBLIC_ENDPOINT is set but BRANCHLINE_S3_BUCKET is not: the public "
                    "endpoint only changes the pre-signed URLs of S3 storage. Set the bucket (and "
                    "BRANCHLINE_S3_ENDPOINT), or leave the public endpoint out."
                )
            problem = _public_endpoint_problem(self.s3_public_endpoint)
            if problem:
                raise SettingsError(
                    f"BRANCHLINE_S3_PUBLIC_ENDPOINT={self.s3_public_endpoint!r} {problem}. Give the "
                    "address phones reach the S3 service at, as http(s)://host[:port], e.g. "
                    "https://files.example-msp.com or http://192.168.1.20:9000."
                )
        if self.backend == "couchdb" and not self.couchdb_url:
            raise SettingsError(
                "BRANCHLINE_BACKEND=couchdb needs BRANCHLINE_COUCHDB_URL (e.g. http://couchdb:5984)."
            )
        if self.backend == "couchdb" and not self.secret_key:
            # A generated secret would live in this instance's data folder: tokens signed by
            # one instance would fail on the others behind the load balancer.
            raise SettingsError(
                "BRANCHLINE_BACKEND=couchdb needs BRANCHLINE_SECRET_KEY, the same on every "
                "instance (at least 32 random characters)."
            )
        self.webhook_retry_delays()
        self.mail_retry_delays()
        self.smtp()
        self.psa_retry_delays()
        self.rmm_retry_delays()
        from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415

        try:
            CronTrigger.from_crontab(self.backup_cron, timezone="UTC")
        except ValueError as exc:
            raise SettingsError(
                f"BRANCHLINE_BACKUP_CRON={self.backup_cron!r} is not a crontab expression "
                f"({exc}); e.g. '30 2 * * *' for 02:30 UTC."
            ) from None
        return self

    def webhook_retry_delays(self) -> tuple[float, ...]:
        """The webhook retry schedule in seconds (checked at start-up)."""
        return _delays(self.webhook_retry_schedule, "BRANCHLINE_WEBHOOK_RETRY_SCHEDULE")

    def mail_retry_delays(self) -> tuple[float, ...]:
        """The e-mail retry schedule in seconds (checked at start-up)."""
        return _delays(self.mail_retry_schedule, "BRANCHLINE_MAIL_RETRY_SCHEDULE")

    def smtp(self) -> SmtpConfig | None:
        """The SMTP server e-mail goes through, or None when e-mail is not set up (checked at
        start-up: a half-made setting stops the server with what to fix)."""
        from api.mail.transport import parse_smtp_url  # noqa: PLC0415

        url = (self.smtp_url.get_secret_value() if self.smtp_url else "").strip()
        sender = (self.mail_from or "").strip()
        if not url and not sender:
            return None
        if not url or not sender:
            raise SettingsError(
                "E-mail needs both BRANCHLINE_SMTP_URL (e.g. smtp://user:pass@mail.example.com:587) "
                "and BRANCHLINE_MAIL_FROM (e.g. noreply@example-msp.com); set both, or neither to "
                "send no e-mail."
            )
        try:
            config = parse_smtp_url(url, allow_plain=self.smtp_allow_plain)
        except ValueError as exc:
            raise SettingsError(f"BRANCHLINE_SMTP_URL: {exc}") from None
        if "@" not in sender or any(c in sender for c in '\r\n<> \t"') or sender.count("@") != 1:
            raise SettingsError(
                f"BRANCHLINE_MAIL_FROM={sender!r} is not a bare e-mail address; give just the "
                "address, e.g. noreply@example-msp.com (the workspace's name becomes the display name)."
            )
        return config

    def psa_retry_delays(self) -> tuple[float, ...]:
        """The PSA push retry schedule in seconds (checked at start-up)."""
        return _delays(self.psa_retry_schedule, "BRANCHLINE_PSA_RETRY_SCHEDULE")

    def rmm_retry_delays(self) -> tuple[float, ...]:
        """The RMM submit retry schedule in seconds (checked at start-up)."""
        return _delays(self.rmm_retry_schedule, "BRANCHLINE_RMM_RETRY_SCHEDULE")

    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    def resolved_public_url(self, scheme: str = "http") -> str:
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"{scheme}://{host}:{self.port}"

    def resolve_secret(self) -> str:
        """The signing secret: explicit in production; generated once and kept in development."""
        if self.secret_key:
            if self.secret_key.lower() in _PLACEHOLDER_SECRETS or len(self.secret_key) < _MIN_SECRET_LEN:
                raise SettingsError(
                    f"BRANCHLINE_SECRET_KEY is too weak: use at least {_MIN_SECRET_LEN} random characters, "
                    "e.g. `export BRANCHLINE_SECRET_KEY=$(python3 -c "
                    "'import secrets; print(secrets.token_urlsafe(48))')`."
                )
            return self.secret_key
        if self.mode == "production":
            raise SettingsError(
                "Production mode needs an explicit secret. Set BRANCHLINE_SECRET_KEY to at least "
                f"{_MIN_SECRET_LEN} random characters, e.g. "
                "`export BRANCHLINE_SECRET_KEY=$(python3 -c "
                "'import secrets; print(secrets.token_urlsafe(48))')`."
            )
        path = self.data_dir / "secret.key"
        if path.exists():
            value = path.read_text().strip()
            if len(value) < _MIN_SECRET_LEN:
                raise SettingsError(
                    f"{path} holds no usable secret "
                    f"(it is empty or shorter than {_MIN_SECRET_LEN} characters). "
                    "Delete the file to have a new one generated (everyone signs in again), or set "
                    "BRANCHLINE_SECRET_KEY."
                )
            return value
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        # Written whole under another name, then linked into place (which fails if the file
        # exists): server processes starting together all end up with the first one's secret,
        # and none reads a half-written file. Created with 0600 so other local users cannot
        # mint tokens.
        draft = self.data_dir / f".secret.key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(value + "\n")
            try:
                os.link(draft, path)
            except FileExistsError:
                return path.read_text().strip()
        finally:
            draft.unlink(missing_ok=True)
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()


def _delays(schedule: str, env_name: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(x) for x in schedule.split(",") if x.strip())
    except ValueError:
        delays = ()
    if not delays or any(d <= 0 for d in delays) or len(delays) > 20:
        raise SettingsError(
            f"{env_name}={schedule!r} is not a list of 1 to 20 positive numbers of seconds "
            "separated by commas, e.g. '5,300,1800,7200,18000,36000,36000'."
        )
    return delays
