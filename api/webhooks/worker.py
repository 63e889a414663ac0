"""The webhook worker of one instance: it fills the outbox and delivers what is due.

One thread follows, per tenant with a webhooks database, that database's `_changes` feed
(subscriptions and messages, written by this or any other instance) into memory: the
deliverable subscriptions and a heap of messages by the time they are due. The store's
listener wakes it on every write (on CouchDB, other instances' writes too), so a new
session's message goes out in milliseconds, not at the next poll; a slow poll remains as a
safety net.

Delivering a message first claims it: the message is written as `sending` with a claim
(this instance, until when) and the `_rev` that was read, in one `_bulk_docs` for a batch.
When two instances race for one message the store accepts one write and refuses the other,
so only one sends it. The sends run on a small thread pool; their results are written back
with the claim's `_rev`. A claim whose instance died expires and the message is due again
(then sent a second time: receivers deduplicate on `webhook-id`, which never changes).

When a message spends its retry schedule the subscription turns `failing`: its deliveries
pause (new events still queue), an audit entry `webhook.failing` records it and the
subscription shows `status: failing` with the last error. An admin's PATCH `{enabled: true}`,
or a successful test or manual retry, makes it active again and the queue drains.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync.errors import Conflict, NotFound
from sync.naming import logical_of, tenant_of

from ..core.docs import get_or_none, save, tenants_with_db
from ..core.timeutil import now_ms
from ..core.workers import WokenThread
from . import delivery, outbox, repository as repo, signing
from .ssrf import Resolver, system_resolver

if TYPE_CHECKING:
    from ..core.context import AppContext

log = logging.getLogger("branchline.webhooks")

POLL_SECONDS = 5.0
RESCAN_SECONDS = 30.0  # tenants' webhooks databases are listed again this often
COALESCE_SECONDS = 0.01
PER_SUBSCRIPTION = 8  # in flight at once for one subscription, so one slow receiver cannot take every slot
DEFERRED_PER_ROUND = 256  # due messages of busy subscriptions looked past in one round
_FEED_BATCH = 1000


def deliverable(sub: dict[str, Any] | None, *, manual: bool = False) -> bool:
    """Whether a message of `sub` may be sent now: an admin's manual retry is sent while the
    subscription is failing (that is how one finds out the receiver is back), never while it
    is disabled."""
    if not sub or not sub.get("enabled", True):
        return False
    return manual or sub.get("status") != "failing"


@dataclass
class TenantState:
    since: Any = 0
    subs: dict[str, dict[str, Any]] = field(default_factory=dict)
    due: dict[str, tuple[int, str]] = field(default_factory=dict)  # message doc id -> (due ms, webhook id)
    manual: set[str] = field(default_factory=set)  # due message doc ids an admin asked to retry


@dataclass
class Done:
    tenant_id: str
    msg: dict[str, Any]
    result: delivery.Attempt


class WebhookWorker(WokenThread):
    name = "webhooks"
    thread_name = "branchline-webhooks"
    join_timeout_s = 30.0

    def __init__(self, ctx: AppContext, holder: str) -> None:
        self.ctx = ctx
        self.holder = holder
        settings = ctx.settings
        self.allow_private = settings.webhook_allow_private
        self.delays = settings.webhook_retry_delays()
        self.concurrency = settings.webhook_concurrency
        # A claim outlives any send (connect and answer timeouts) and its recording; after
        # that a crashed instance's messages are due again on the others.
        self.claim_ms = int((3 * settings.webhook_timeout_seconds + 5) * 1000)
        self.resolver: Resolver = system_resolver
        self.client = delivery.new_client(settings.webhook_timeout_seconds, self.concurrency)
        self._init_thread(ctx.store)
        self._lock = threading.Lock()
        self._dirty_hooks: set[str] = set()
        self._dirty_feeds: set[str] = set()
        self._tenants: dict[str, TenantState] = {}
        self._heap: list[tuple[int, str, str]] = []
        self._in_flight: set[str] = set()
        self._per_sub: Counter[str] = Counter()
        self._done: queue.SimpleQueue[Done] = queue.SimpleQueue()
        self._pool: ThreadPoolExecutor | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def _starting(self) -> None:
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="branchline-webhook-send")

    def _stopped(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._record_done()  # what finished while stopping keeps its result
        self.client.close()
        self.client = delivery.new_client(self.ctx.settings.webhook_timeout_seconds, self.concurrency)

    def _on_write(self, db_name: str, _seq: Any = None) -> None:
        tenant = tenant_of(db_name)
        if tenant is None:
            return
        logical = logical_of(db_name)
        if logical == repo.DB_NAME:
            with self._lock:
                self._dirty_hooks.add(tenant)
            self._wake.set()
        elif logical in outbox.FEEDS:
            state = self._tenants.get(tenant)
            if state is not None and state.subs:
                with self._lock:
                    self._dirty_feeds.add(tenant)
                self._wake.set()

    def nudge(self, tenant_id: str) -> None:
        """Look at the tenant's webhooks and feeds now (a subscription was just saved)."""
        with self._lock:
            self._dirty_hooks.add(tenant_id)
            self._dirty_feeds.add(tenant_id)
        self._wake.set()

    # --- the loop ------------------------------------------------------------------------

    def _loop(self) -> None:
        last_scan = -RESCAN_SECONDS
        while not self._stop.is_set():
            if self._in_flight:
                # Sends finish one by one: a moment's wait lets a round record and claim
                # them in batches (one write each) instead of one write per message.
                self._stop.wait(COALESCE_SECONDS)
            self._wake.clear()
            try:
                if time.monotonic() - last_scan >= RESCAN_SECONDS:
                    self._discover()
                    last_scan = time.monotonic()
                self._refresh()
                self._feed()
                self._record_done()
                self._dispatch()
            except Exception:
                log.exception("webhooks: a round failed; trying again shortly")
                self._stop.wait(1.0)
            self._wake.wait(self._sleep_seconds())

    def _sleep_seconds(self) -> float:
        if not self._heap:
            return POLL_SECONDS
        wait = (self._heap[0][0] - now_ms()) / 1000
        return max(0.0, min(POLL_SECONDS, wait))

    def _discover(self) -> None:
        """Every tenant with a webhooks database (new tenants, other instances' subscriptions)."""
        found = set(tenants_with_db(self.ctx.store, repo.DB_NAME))
        with self._lock:
            self._dirty_hooks |= found
            self._dirty_feeds |= found

    def _take(self, which: set[str]) -> list[str]:
        with self._lock:
            taken = sorted(which)
            which.clear()
        return taken

    def _refresh(self) -> None:
        for tenant in self._take(self._dirty_hooks):
            try:
                self._refresh_tenant(tenant)
            except Exception:  # one tenant's failure never stops the others
                log.exception("webhooks: reading the webhooks of tenant %s failed", tenant)

    def _refresh_tenant(self, tenant: str) -> None:
        db = repo.open_db(self.ctx.store, tenant)
        if db is None:
            return
        state = self._tenants.setdefault(tenant, TenantState())
        changed_subs: set[str] = set()
        while True:
            res = db.changes(since=state.since, limit=_FEED_BATCH, include_docs=True, pending=False)
            for row in res["results"]:
                docid = row["id"]
                doc = row.get("doc") if not row.get("deleted") else None
                if docid.startswith(repo.SUB_PREFIX):
                    wid = docid[len(repo.SUB_PREFIX) :]
                    was = deliverable(state.subs.get(wid))
                    if doc is None:  # deleted: its queue is never sent, so forget it
                        state.subs.pop(wid, None)
                        state.due = {k: v for k, v in state.due.items() if v[1] != wid}
                    else:
                        state.subs[wid] = doc
                    if deliverable(state.subs.get(wid)) and not was:
                        changed_subs.add(wid)
                elif docid.startswith(repo.MSG_PREFIX):
                    self._index_message(tenant, state, docid, doc)
            state.since = res["last_seq"]
            if len(res["results"]) < _FEED_BATCH:
                break
        for wid in changed_subs:  # a subscription active again: its queue is due again
            for docid, (due, owner) in state.due.items():
                if owner == wid:
                    heapq.heappush(self._heap, (due, tenant, docid))

    def _index_message(self, tenant: str, state: TenantState, docid: str, doc: dict[str, Any] | None) -> None:
        due: int | None = None
        if doc is not None and doc.get("status") == "pending":
            due = int(doc.get("next_attempt_ms") or 0)
        elif doc is not None and doc.get("status") == "sending":
            due = int((doc.get("claim") or {}).get("until_ms") or 0)
        if doc is not None and doc.get("manual") and due is not None:
            state.manual.add(docid)
        else:
            state.manual.discard(docid)
        if due is None:
            state.due.pop(docid, None)
            return
        wid = str(doc.get("webhook_id")) if doc else ""
        if state.due.get(docid) != (due, wid):
            state.due[docid] = (due, wid)
            heapq.heappush(self._heap, (due, tenant, docid))

    def _feed(self) -> None:
        for tenant in self._take(self._dirty_feeds):
            state = self._tenants.get(tenant)
            # Paused and failing subscriptions queue too: they are sent once enabled again.
            subs = list(state.subs.values()) if state else []
            if not subs:
                continue
            try:
                outbox.feed_tenant(self.ctx.store, tenant, subs)
            except Exception:
                log.exception("webhooks: queueing the events of tenant %s failed", tenant)

    # --- delivering ------------------------------------------------------------------------

    def _dispatch(self) -> None:
        now = now_ms()
        batches: dict[str, list[str]] = {}
        deferred = []
        room = self.concurrency - len(self._in_flight)
        while self._heap and self._heap[0][0] <= now and room > 0:
            due, tenant, docid = heapq.heappop(self._heap)
            state = self._tenants.get(tenant)
            entry = state.due.get(docid) if state else None
            if state is None or entry is None or entry[0] != due or docid in self._in_flight:
                continue  # stale heap entry
            wid = entry[1]
            if not deliverable(state.subs.get(wid), manual=docid in state.manual):
                continue  # pushed again when the subscription is active again
            if self._per_sub[wid] >= PER_SUBSCRIPTION:
                deferred.append((due, tenant, docid))
                if len(deferred) >= DEFERRED_PER_ROUND:
                    break  # a backlog of busy subscriptions: leave the rest in the heap
                continue
            self._per_sub[wid] += 1
            self._in_flight.add(docid)
            batches.setdefault(tenant, []).append(docid)
            room -= 1
        for item in deferred:
            heapq.heappush(self._heap, item)
        for tenant, docids in batches.items():
            try:
                self._claim_and_send(tenant, docids, now)
            except Exception:
                log.exception("webhooks: claiming messages of tenant %s failed", tenant)
                for docid in docids:
                    self._release(docid)

    def _release(self, docid: str) -> None:
        if docid in self._in_flight:
            self._in_flight.discard(docid)
            self._per_sub[repo.split_msg_id(docid)[0]] -= 1

    def _claim_and_send(self, tenant: str, docids: list[str], now: int) -> None:
        db = repo.open_db(self.ctx.store, tenant)
        state = self._tenants[tenant]
        if db is None:
            return
        rows = db.all_docs(keys=docids, include_docs=True)["rows"]
        claims = []
        for row in rows:
            doc = row.get("doc")
            if doc is None or not _due_now(doc, now):
                self._release(row["key"])
                continue
            doc.update(status="sending", claim={"by": self.holder, "until_ms": now + self.claim_ms})
            claims.append(doc)
        if not claims:
            return
        results = db.bulk_docs(claims)
        for doc, res in zip(claims, results, strict=True):
            if "rev" not in res or res.get("error"):
                self._release(doc["_id"])  # another instance claimed it first
                continue
            doc["_rev"] = res["rev"]
            sub = state.subs.get(doc["webhook_id"])
            if sub is None or self._pool is None:
                self._release(doc["_id"])
                continue
            self._pool.submit(self._send, tenant, sub, doc)

    def _send(self, tenant: str, sub: dict[str, Any], msg: dict[str, Any]) -> None:
        try:
            secret = signing.unseal(self.ctx.secret, tenant, sub["id"], sub["secret_sealed"])
            result = delivery.attempt(
                self.client, sub, secret, msg, allow_private=self.allow_private, resolver=self.resolver
            )
        except Exception as exc:
            log.exception("webhooks: sending %s failed", msg["_id"])
            result = delivery.Attempt(
                delivery.now_iso(), False, None, "", f"internal error: {type(exc).__name__}", 0, {}
            )
        self._done.put(Done(tenant, msg, result))
        self._wake.set()

    def _record_done(self) -> None:
        by_tenant: dict[str, list[tuple[dict[str, Any], delivery.Attempt]]] = {}
        while True:
            try:
                done = self._done.get_nowait()
            except queue.Empty:
                break
            by_tenant.setdefault(done.tenant_id, []).append((done.msg, done.result))
        for tenant, items in by_tenant.items():
            state = self._tenants.get(tenant)
            failing = {w for w, s in (state.subs.items() if state else ()) if s.get("status") == "failing"}
            try:
                record_attempts(self.ctx, tenant, items, self.delays, holder=self.holder, failing=failing)
            except Exception:
                log.exception("webhooks: recording %d attempts of tenant %s failed", len(items), tenant)
            finally:
                for msg, _ in items:
                    self._release(msg["_id"])


def _due_now(doc: dict[str, Any], now: int) -> bool:
    if doc.get("status") == "pending":
        return int(doc.get("next_attempt_ms") or 0) <= now
    if doc.get("status") == "sending":
        return int((doc.get("claim") or {}).get("until_ms") or 0) <= now
    return False


def _with_attempt(
    doc: dict[str, Any], result: delivery.Attempt, delays: tuple[float, ...], holder: str
) -> dict[str, Any]:
    out = delivery.after_attempt(doc, result, delays, now_ms())
    out["attempts"][-1]["by"] = holder  # which instance sent it, for the operator
    return out


def record_attempt(
    ctx: AppContext,
    tenant_id: str,
    msg: dict[str, Any],
    result: delivery.Attempt,
    delays: tuple[float, ...],
    *,
    holder: str,
) -> dict[str, Any] | None:
    """Write the attempt into the message (with the claim's `_rev`) and update the subscription's
    status; the message as written, or None when it was no longer ours to write."""
    db = repo.ensure_db(ctx.store, tenant_id)
    try:
        saved = save(db, _with_attempt(msg, result, delays, holder))
    except Conflict:
        current = get_or_none(db, msg["_id"])
        if current is None or (current.get("claim") or {}).get("by") != holder:
            log.warning("webhooks: %s changed during its delivery; this attempt is not recorded", msg["_id"])
            return None
        saved = save(db, _with_attempt(current, result, delays, holder))
    _update_subscription(ctx, tenant_id, saved)
    return saved


def record_attempts(
    ctx: AppContext,
    tenant_id: str,
    done: list[tuple[dict[str, Any], delivery.Attempt]],
    delays: tuple[float, ...],
    *,
    holder: str,
    failing: set[str],
) -> None:
    """`record_attempt` for many messages of one tenant in one `_bulk_docs`; `failing` names the
    subscriptions known to be failing (a delivery to one of them makes it active again)."""
    db = repo.ensure_db(ctx.store, tenant_id)
    updated = [_with_attempt(msg, result, delays, holder) for msg, result in done]
    results = db.bulk_docs(updated)
    for (msg, result), doc, res in zip(done, updated, results, strict=True):
        if "rev" not in res or res.get("error"):
            record_attempt(ctx, tenant_id, msg, result, delays, holder=holder)  # reads it again
            continue
        doc["_rev"] = res["rev"]
        if doc.get("gave_up") == "retries_spent" or (
            doc.get("status") == "delivered" and doc["webhook_id"] in failing
        ):
            _update_subscription(ctx, tenant_id, doc)


def _update_subscription(ctx: AppContext, tenant_id: str, msg: dict[str, Any]) -> None:
    from ..audit import service as audit  # noqa: PLC0415

    db = repo.ensure_db(ctx.store, tenant_id)
    status = msg.get("status")
    if status not in ("delivered", "failed"):
        return
    for _ in range(5):
        sub = repo.subscription(db, msg["webhook_id"])
        if sub is None:
            return
        if status == "delivered":
            if sub.get("status") != "failing":
                return
            sub.update(status="active", failing_since=None)
        else:
            if msg.get("gave_up") != "retries_spent" or sub.get("status") == "failing":
                return
            sub.update(status="failing", failing_since=msg.get("failed_at"), last_error=msg.get("last_error"))
        try:
            save(db, sub)
        except (Conflict, NotFound):
            continue
        if status == "failed":
            audit.record(
                ctx,
                None,
                "webhook.failing",
                "webhook",
                sub["id"],
                tenant_id=tenant_id,
                details={"url": sub["url"], "message": msg["msg_id"], "error": msg.get("last_error")},
            )
            log.warning(
                "webhooks: subscription %s of tenant %s is failing: %s",
                sub["id"],
                tenant_id,
                msg.get("last_error"),
            )
        return
