"""The PSA worker of one instance: queues auto-pushes from the sessions feed and sends what is due.

It wakes on every write to a tenant's `integrations` database, and to its `sessions` database
when the tenant has a connector that pushes on its own (the store's listener; other
instances' writes too on CouchDB), and looks at that tenant, at tenants whose next push is
due, and at every tenant with a connector every half minute. Per tenant with a configured
connector:

- with `auto_push` on, it follows the `sessions` feed from `psafeed:sessions:{system}` and queues
  `psapush:{system}:{sid}` for every `completed` event it sees. The event comes with the
  session, whether the device was online or synced hours later; the push id is derived from
  the session, so a replayed feed or a second instance queues nothing new.
- it claims each due push by writing it as `sending` with a claim (this instance, until
  when) and the `_rev` it read: of two instances racing, the store accepts one. A claim
  whose instance died expires and the push is due again, resuming at the first step not
  recorded (`pushing.py` makes each step safe to repeat).

Failures that pass (an outage, the network, 429) are retried on the schedule, never sooner
than Retry-After; the others (keys refused, a record the PSA rejects) fail at once and
wait for an admin's retry. Every result is in the connector's status (`psastatus:`).

Every `BRANCHLINE_PSA_REFRESH_SECONDS` the tickets of the sessions pushed in the last week
are read again, and a changed summary or status is written into the session header.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from sync.errors import Conflict, NotFound
from sync.naming import logical_of, physical_name, tenant_of

from ..core.docs import get_or_none, retry_on_conflict, save, tenants_with_db
from ..core.sealing import SealBroken
from ..core.timeutil import iso, now_ms
from ..core.workers import WokenThread
from ..webhooks import delivery
from ..webhooks.ssrf import Resolver, system_resolver
from . import connectors, pushing, repository as repo
from .connector import Connector, PsaError
from .service import new_push

if TYPE_CHECKING:
    from ..core.context import AppContext

log = logging.getLogger("branchline.integrations")

POLL_SECONDS = 5.0
RESCAN_SECONDS = 30.0  # every tenant with a connector is looked at this often
REFRESH_WINDOW_MS = 7 * 24 * 3600 * 1000  # tickets of sessions pushed this recently are read again
REFRESH_LIMIT = 50  # tickets read again per tenant and interval, the newest pushes first
_FEED_BATCH = 500


class PsaWorker(WokenThread):
    thread_name = "branchline-psa"
    name = "psa"

    def __init__(self, ctx: AppContext, holder: str) -> None:
        self.ctx = ctx
        self.holder = holder
        self.delays = ctx.settings.psa_retry_delays()
        timeout = ctx.settings.psa_timeout_seconds
        # A claim outlives a push's calls (a handful, each within the timeout).
        self.claim_ms = int((8 * timeout + 10) * 1000)
        self.resolver: Resolver = system_resolver
        self.client = delivery.new_client(timeout, 4)
        self._init_thread(ctx.store)
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._due: dict[str, int] = {}  # tenant -> when its next push is due (ms)
        self._rescan = True
        self._last_scan = 0.0
        # Tenants with a connector set to push completed sessions, as last looked at: only
        # their session writes wake the thread. Every step of every engineer is such a write,
        # and a wake for a tenant with nothing to push took the interpreter lock from the
        # requests for nothing (a tenth fewer steps answered per second under a closed loop).
        # A tenant missing here is still followed at the next round: its feed position is
        # stored, so waking later loses no completion.
        self._auto_push: set[str] = set()

    def _on_write(self, db_name: str, _seq: Any = None) -> None:
        tenant = tenant_of(db_name)
        if tenant is None:
            return
        logical = logical_of(db_name)
        if logical == repo.DB_NAME or (logical == "sessions" and tenant in self._auto_push):
            with self._lock:
                self._dirty.add(tenant)
            self._wake.set()

    def nudge(self, tenant_id: str | None = None) -> None:
        """Look now (at one tenant, or at every tenant)."""
        with self._lock:
            if tenant_id is None:
                self._rescan = True
            else:
                self._dirty.add(tenant_id)
        self._wake.set()

    def _round_tenants(self) -> list[str]:
        """The tenants to look at in this round: those written to since the last one, those
        with a push due now, and every tenant with a connector now and then (other instances'
        writes on a store that does not tell of them; pushes whose claim expired)."""
        now = now_ms()
        with self._lock:
            every = self._rescan or time.monotonic() - self._last_scan >= RESCAN_SECONDS
            picked = set(self._dirty) | {t for t, due in self._due.items() if due <= now}
            self._dirty.clear()
            self._rescan = False
        if every:
            self._last_scan = time.monotonic()
            picked |= set(tenants_with_db(self.ctx.store, repo.DB_NAME))
        return sorted(picked)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                for tenant in self._round_tenants():
                    if self._stop.is_set():
                        break
                    try:
                        due = self.run_tenant(tenant)
                    except Exception:  # one tenant's failure never stops the others
                        log.exception("psa: tenant %s failed; trying again shortly", tenant)
                        due = now_ms() + 2000
                    if due is None:
                        self._due.pop(tenant, None)
                    else:
                        self._due[tenant] = due
            except Exception:
                log.exception("psa: a round failed; trying again shortly")
            next_due = min(self._due.values(), default=None)
            wait = (
                POLL_SECONDS
                if next_due is None
                else max(0.0, min(POLL_SECONDS, (next_due - now_ms()) / 1000))
            )
            self._wake.wait(wait)

    # --- one tenant ------------------------------------------------------------------------

    def run_tenant(self, tenant: str) -> int | None:
        """Queue and send what is due; the time the next push is due (ms), if any."""
        db = repo.open_db(self.ctx.store, tenant)
        if db is None:
            self._auto_push.discard(tenant)
            return None
        next_due: int | None = None
        configs = {system: repo.config(db, system) for system in repo.SYSTEMS}
        if any(cfg is not None and cfg.get("auto_push") for cfg in configs.values()):
            self._auto_push.add(tenant)
        else:
            self._auto_push.discard(tenant)
        for system, cfg in configs.items():
            if cfg is None:
                continue
            if cfg.get("auto_push"):
                self._follow(tenant, db, system)
            for push in repo.pushes(db, system):
                now = now_ms()
                due = _due_at(push)
                if due is None:
                    continue
                if due > now:
                    next_due = due if next_due is None else min(next_due, due)
                    continue
                claimed = self._claim(db, push, now)
                if claimed is not None:
                    self._send(tenant, db, cfg, claimed)
                    if self._stop.is_set():
                        return None
            refresh_due = self._refresh(tenant, db, system, cfg)
            next_due = refresh_due if next_due is None else min(next_due, refresh_due)
        return next_due

    def _refresh(self, tenant: str, db: Any, system: str, cfg: dict[str, Any]) -> int:
        """Read the tickets of the sessions pushed in the last week again, once per interval
        across instances (the interval is claimed in the status document with its `_rev`);
        when the next refresh is due (ms)."""
        interval_ms = int(self.ctx.settings.psa_refresh_seconds * 1000)
        now = now_ms()
        status = repo.status(db, system)
        last = int(status.get("refreshed_ms") or 0)
        if last + interval_ms > now:
            return last + interval_ms
        status["refreshed_ms"] = now
        try:
            save(db, status)
        except Conflict:
            return now + interval_ms  # another instance refreshes this round
        since = iso(now - REFRESH_WINDOW_MS)
        pushed = [
            p
            for p in repo.pushes(db, system)
            if p.get("status") == "done" and (p.get("done_at") or "") >= since
        ]
        try:
            connector = self.connector(tenant, system, cfg)
        except SealBroken as exc:
            log.info("psa: refreshing the tickets of tenant %s stopped: %s", tenant, exc)
            return now + interval_ms
        for push in pushed[-REFRESH_LIMIT:]:
            try:
                pushing.refresh_ticket(self.ctx, tenant, push["session_id"], connector)
            except (NotFound, pushing.HeaderBusy) as exc:
                log.info("psa: the ticket of session %s was not refreshed: %s", push["session_id"], exc)
            except PsaError as exc:
                # One ticket gone (deleted in the PSA) is that ticket's matter; a PSA that refuses
                # or fails every call is not asked about the rest this round.
                log.info("psa: refreshing the tickets of tenant %s: %s", tenant, exc)
                if exc.kind != "not_found":
                    break
        return now + interval_ms

    def _follow(self, tenant: str, db: Any, system: str) -> None:
        checkpoint = repo.feed_checkpoint(db, system)
        if checkpoint is None:
            return
        try:
            source = self.ctx.store.db(physical_name(tenant, "sessions"))
        except NotFound:
            return
        while True:
            res = source.changes(
                since=checkpoint.get("since", 0), limit=_FEED_BATCH, include_docs=True, pending=False
            )
            for row in res["results"]:
                doc = row.get("doc") or {}
                if (
                    row.get("deleted")
                    or doc.get("type") != "completed"
                    or not isinstance(doc.get("session_id"), str)
                ):
                    continue
                push = new_push(
                    system,
                    doc["session_id"],
                    {"type": "system", "id": "auto_push"},
                    create_ticket=None,
                    ticket_id=None,
                    time_entry=True,
                )
                try:
                    enqueue_if_new(db, push)
                except Exception:
                    log.exception("psa: queueing session %s of tenant %s failed", doc["session_id"], tenant)
            checkpoint["since"] = res["last_seq"]
            try:
                save(db, checkpoint)
            except Conflict:
                return  # another instance moved it
            if len(res["results"]) < _FEED_BATCH:
                return

    def _claim(self, db: Any, push: dict[str, Any], now: int) -> dict[str, Any] | None:
        claimed = {**push, "status": "sending", "claim": {"by": self.holder, "until_ms": now + self.claim_ms}}
        try:
            return save(db, claimed)
        except Conflict:
            return None  # another instance (or an admin's retry) wrote it first

    def connector(self, tenant: str, system: str, cfg: dict[str, Any]) -> Connector:
        return connectors.build(self.ctx, tenant, system, cfg, client=self.client, resolver=self.resolver)

    def _send(self, tenant: str, db: Any, cfg: dict[str, Any], push: dict[str, Any]) -> None:
        holder = self.holder

        def record(doc: dict[str, Any]) -> dict[str, Any]:
            try:
                return save(db, doc)  # our claim's _rev: an admin's change in between wins, we stop
            except Conflict:
                raise ClaimLost from None

        system = push["system"]
        try:
            connector = self.connector(tenant, system, cfg)
            done = pushing.perform(self.ctx, tenant, cfg, push, connector, record)
        except ClaimLost:
            log.warning(
                "psa: push %s changed while %s sent it; its result is not recorded", push["_id"], holder
            )
            return
        except PsaError as exc:
            self._failed(tenant, db, push, str(exc), retryable=exc.retryable, retry_after=exc.retry_after)
            return
        except (pushing.PushProblem, SealBroken) as exc:
            self._failed(tenant, db, push, str(exc), retryable=False, retry_after=None)
            return
        except pushing.HeaderBusy as exc:
            self._failed(tenant, db, push, str(exc), retryable=True, retry_after=None)
            return
        except (NotFound, Conflict) as exc:
            self._failed(
                tenant, db, push, f"The session cannot be exported: {exc}", retryable=False, retry_after=None
            )
            return
        except Exception as exc:
            log.exception("psa: push %s failed", push["_id"])
            self._failed(
                tenant, db, push, f"internal error: {type(exc).__name__}", retryable=True, retry_after=None
            )
            return
        current = get_or_none(db, push["_id"]) or done
        saved = save(db, pushing.after_success({**done, "_rev": current["_rev"]}, now_ms()))
        ticket_id = saved["steps"]["ticket"]["ticket_id"]
        self._status(
            tenant,
            db,
            system,
            success={"at": iso(), "session_id": push["session_id"], "ticket_id": ticket_id},
        )
        _audit(self.ctx, tenant, "psa.pushed", push["session_id"], {"system": system, "ticket_id": ticket_id})

    def _failed(
        self,
        tenant: str,
        db: Any,
        push: dict[str, Any],
        error: str,
        *,
        retryable: bool,
        retry_after: float | None,
    ) -> None:
        def write() -> dict[str, Any]:
            current = get_or_none(db, push["_id"])
            if current is None or (current.get("claim") or {}).get("by") != self.holder:
                return current or push
            out = pushing.after_failure(
                current, error, retryable=retryable, retry_after=retry_after, delays=self.delays, now=now_ms()
            )
            return save(db, out)

        saved = retry_on_conflict(
            write, busy=f"psa: recording the failure of {push['_id']} kept conflicting", give_up=lambda: push
        )
        self._status(
            tenant, db, push["system"], error={"at": iso(), "session_id": push["session_id"], "reason": error}
        )
        if saved.get("status") == "failed":
            _audit(
                self.ctx,
                tenant,
                "psa.push_failed",
                push["session_id"],
                {"system": push["system"], "error": error},
            )

    def _status(
        self,
        tenant: str,
        db: Any,
        system: str,
        *,
        success: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        def write() -> None:
            doc = repo.status(db, system)
            if success is not None:
                doc["last_success"] = success
            if error is not None:
                doc["last_error"] = error
            save(db, doc)

        retry_on_conflict(write, busy="psa: the connector status kept changing", give_up=lambda: None)


class ClaimLost(Exception):
    """The push document changed under this instance's claim (an admin's retry, or the claim
    expired and another instance took it): this attempt stops and records nothing."""


def enqueue_if_new(db: Any, push: dict[str, Any]) -> bool:
    try:
        save(db, dict(push))
    except Conflict:
        return False  # queued already (or pushed): a session is pushed once
    return True


def _due_at(push: dict[str, Any]) -> int | None:
    if push.get("status") == "pending":
        return int(push.get("next_attempt_ms") or 0)
    if push.get("status") == "sending":
        return int((push.get("claim") or {}).get("until_ms") or 0)
    return None


def _audit(ctx: AppContext, tenant: str, action: str, sid: str, details: dict[str, Any]) -> None:
    from ..audit import service as audit  # noqa: PLC0415

    try:
        audit.record(ctx, None, action, "session", sid, tenant_id=tenant, details=details)
    except Exception:
        log.exception("psa: the audit entry %s of tenant %s was not written", action, tenant)
