"""The e-mail worker of one instance: it sends what is due in the tenants' outboxes.

It wakes on every write to a tenant's `mail` database (the store's listener; on CouchDB other
instances' writes too), follows that database's `_changes` into a map of when each message is
due, and every half minute looks for tenants whose outbox it has not seen yet.

Sending a message first claims it, as the webhook deliveries do: the message is written as
`sending` with a claim (this instance, until when) and the `_rev` that was read. Of two
instances racing for one message the store accepts one write and refuses the other, so one
sends it. The result is written back with the claim's `_rev` by the webhooks' rule
(`webhooks.delivery.after_attempt`): delivered, due again after the retry schedule's next
delay (a 4xx, a connection refused or dropped), or failed (a 5xx refusal at once, or the
schedule spent). A claim whose instance died expires and the message is due again; it is
then sent a second time, with the same Message-ID, which mail systems use to spot doubles.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from sync.errors import Conflict, NotFound
from sync.naming import logical_of, tenant_of

from ..core.docs import get_or_none, save, tenants_with_db
from ..core.sealing import SealBroken
from ..core.timeutil import iso, now_ms
from ..core.workers import WokenThread
from ..webhooks.delivery import Attempt, after_attempt
from . import repository as repo, service, transport

if TYPE_CHECKING:
    from ..core.context import AppContext

log = logging.getLogger("branchline.mail")

POLL_SECONDS = 5.0
RESCAN_SECONDS = 30.0
_FEED_BATCH = 500


def due_at(doc: dict[str, Any] | None) -> int | None:
    """When a message is next due (ms), or None when nothing more is to be done with it."""
    if doc is None:
        return None
    if doc.get("status") == "pending":
        return int(doc.get("next_attempt_ms") or 0)
    if doc.get("status") == "sending":  # due again only if its sender's claim runs out
        return int((doc.get("claim") or {}).get("until_ms") or 0)
    return None


def finished(doc: dict[str, Any]) -> dict[str, Any]:
    """A message that will not be sent again keeps its log but not its body."""
    if doc.get("status") in ("delivered", "failed"):
        doc.pop("message_sealed", None)
    return doc


class MailWorker(WokenThread):
    name = "mail"
    thread_name = "branchline-mail"
    join_timeout_s = 60.0

    def __init__(self, ctx: AppContext, holder: str) -> None:
        self.ctx = ctx
        self.holder = holder
        self.delays = ctx.settings.mail_retry_delays()
        self.timeout = ctx.settings.smtp_timeout_seconds
        # A claim outlives one send (connect, TLS, login, data, each within the timeout).
        self.claim_ms = int((5 * self.timeout + 10) * 1000)
        self._init_thread(ctx.store)
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._since: dict[str, Any] = {}
        self._due: dict[str, dict[str, int]] = {}  # tenant -> message id -> due ms
        self._last_scan = -RESCAN_SECONDS

    def _starting(self) -> None:
        settings = self.ctx.settings
        if settings.smtp() is not None and not settings.public_url:
            log.warning(
                "mail: BRANCHLINE_PUBLIC_URL is not set, so links in e-mail point at %s (the address "
                "this server listens on) unless a workspace has a verified custom domain; set it to "
                "the address people open",
                settings.resolved_public_url(),
            )

    def _on_write(self, db_name: str, _seq: Any = None) -> None:
        tenant = tenant_of(db_name)
        if tenant is not None and logical_of(db_name) == repo.DB_NAME:
            self.nudge(tenant)

    def nudge(self, tenant_id: str) -> None:
        """Look at the tenant's outbox now (a message was just queued)."""
        with self._lock:
            self._dirty.add(tenant_id)
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._round()
            except Exception:
                log.exception("mail: a round failed; trying again shortly")
                self._stop.wait(1.0)
            self._wake.wait(self._sleep_seconds())

    def _sleep_seconds(self) -> float:
        soonest = min((due for msgs in self._due.values() for due in msgs.values()), default=None)
        if soonest is None:
            return POLL_SECONDS
        return max(0.0, min(POLL_SECONDS, (soonest - now_ms()) / 1000))

    def _round(self) -> None:
        config = self.ctx.settings.smtp()
        if config is None:
            return  # nothing is queued without a server; nothing queued before is sent either
        now = now_ms()
        with self._lock:
            picked = set(self._dirty)
            self._dirty.clear()
        picked |= {t for t, msgs in self._due.items() if any(d <= now for d in msgs.values())}
        if time.monotonic() - self._last_scan >= RESCAN_SECONDS:
            self._last_scan = time.monotonic()
            picked |= set(tenants_with_db(self.ctx.store, repo.DB_NAME))
        for tenant in sorted(picked):
            if self._stop.is_set():
                return
            try:
                self._follow(tenant)
                self._send_due(tenant, config)
            except Exception:  # one tenant's failure never stops the others
                log.exception("mail: the outbox of tenant %s failed; trying again shortly", tenant)

    def _follow(self, tenant: str) -> None:
        db = repo.open_db(self.ctx.store, tenant)
        if db is None:
            return
        due = self._due.setdefault(tenant, {})
        while True:
            res = db.changes(
                since=self._since.get(tenant, 0), limit=_FEED_BATCH, include_docs=True, pending=False
            )
            for row in res["results"]:
                when = due_at(None if row.get("deleted") else row.get("doc"))
                if when is None:
                    due.pop(row["id"], None)
                else:
                    due[row["id"]] = when
            self._since[tenant] = res["last_seq"]
            if len(res["results"]) < _FEED_BATCH:
                return

    def _send_due(self, tenant: str, config: transport.SmtpConfig) -> None:
        due = self._due.get(tenant) or {}
        for docid, when in sorted(due.items(), key=lambda item: item[1]):
            if self._stop.is_set() or when > now_ms():
                return
            db = repo.ensure_db(self.ctx.store, tenant)
            claimed = self._claim(db, docid)
            if claimed is None:
                due.pop(docid, None)  # sent or claimed elsewhere: the feed says what comes next
                continue
            due[docid] = int(claimed["claim"]["until_ms"])
            self._record(db, tenant, claimed, *self._send(tenant, claimed, config))

    def _claim(self, db: Any, docid: str) -> dict[str, Any] | None:
        doc = get_or_none(db, docid)
        now = now_ms()
        when = due_at(doc)
        if doc is None or when is None or when > now:
            return None
        doc.update(status="sending", claim={"by": self.holder, "until_ms": now + self.claim_ms})
        try:
            return save(db, doc)
        except Conflict:
            return None  # another instance claimed it first

    def _send(self, tenant: str, msg: dict[str, Any], config: transport.SmtpConfig) -> tuple[Attempt, bool]:
        try:
            raw = service.raw_message(self.ctx, tenant, msg)
        except (SealBroken, KeyError) as exc:
            error = "the stored message cannot be read (the server secret changed); send it again"
            log.warning("mail: %s of tenant %s: %s (%s)", msg["_id"], tenant, error, type(exc).__name__)
            return Attempt(iso(), False, None, "", error, 0, {"to": msg["to"]}), True
        sender = (self.ctx.settings.mail_from or "").strip()
        sent = transport.send(config, self.timeout, sender, msg["to"], raw)
        if not sent.attempt.ok:
            log.warning("mail: %s to %s of tenant %s: %s", msg["kind"], msg["to"], tenant, sent.attempt.error)
        return sent.attempt, sent.permanent

    def _record(self, db: Any, tenant: str, msg: dict[str, Any], result: Attempt, permanent: bool) -> None:
        """Write the attempt with the claim's `_rev`; on a conflict, only while the claim is still ours."""
        for _ in range(3):
            updated = finished(after_attempt(msg, result, self.delays, now_ms(), permanent=permanent))
            updated["attempts"][-1]["by"] = self.holder
            try:
                save(db, updated)
                return
            except Conflict:
                current = get_or_none(db, msg["_id"])
                if current is None or (current.get("claim") or {}).get("by") != self.holder:
                    log.warning(
                        "mail: %s of tenant %s changed while it was sent; not recorded", msg["_id"], tenant
                    )
                    return
                msg = current
            except NotFound:
                return
