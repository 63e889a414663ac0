"""`GET/POST /{db}/_changes`: normal, longpoll and continuous feeds.

Rows the caller may not read are left out, and the store is asked again until a page is
full or the feed is exhausted: PouchDB treats a page shorter than its `limit` as the end
of the feed, so a page emptied by the policy must not stop a replication early.

Documents that became readable after `since` (`policy.extra_changes_ids`) are put first,
before the ordinary rows. PouchDB checkpoints at the seq of the last row it processed, so
those rows carry `since` itself when ordinary rows follow (a crash after them replays
nothing that was not sent) and the answer's `last_seq` when they are alone (so the next
request moves on instead of receiving them again).

Waiting (longpoll, continuous) happens on the event loop, woken by the store's write
listener; no worker thread is held while a device keeps a live replication open.

A live feed is authorised again while it stays open (`FeedGuard`): credentials checked only
when a feed opened would keep a deactivated or demoted user, or an expired token, receiving
new documents for as long as the connection lasts. The caller is checked again once the
feed starts waiting, then whenever one of the documents its access depends on changes
(`Principal.watch`: its account, its API key), and no feed outlives the access token it was
opened with; an idle feed runs no timer for this. Only when the authenticator cannot say
what to watch does the feed re-check every `REAUTH_INTERVAL_S`.

A feed waits under its caller's key (`reader:{user id}`, or every change when the caller
reads the whole database), and the notifier wakes it only for changes the policy's
`readers` says it may read (see `sync/longpoll.py`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio.to_thread
import orjson
from starlette.responses import Response, StreamingResponse

from .errors import BadRequest, BranchlineError, NotFound
from .http_context import Ctx, FeedHost
from .http_params import JSON_TYPE, json_response, parse_object, parse_since
from .js.designs import filter_request
from .longpoll import EVERY, KeysOf, Waiter, read_keys
from .naming import logical_of, physical_name, tenant_of
from .nonblocking import WouldBlock, is_nonblocking
from .store import Candidates

if TYPE_CHECKING:
    from .access import Principal
    from .store import Database

_T = TypeVar("_T")

# CouchDB's default and longest wait without a heartbeat.
DEFAULT_TIMEOUT_MS = 60_000
MAX_TIMEOUT_MS = 3_600_000
# The longest a longpoll with a heartbeat waits before it streams (`ChangesFeed.wait`), as
# PouchDB's heartbeat: nothing notices a client gone meanwhile (its waiter still reads a page
# for each change it is woken by), and a proxy may want the headers within so long.
FIRST_WAIT_MAX_S = 10.0
# How stale a live feed's authorisation may get when the authenticator cannot say which
# documents decide it (no `Principal.watch`): the feed then re-checks at this interval.
REAUTH_INTERVAL_S = 2.0
# Waiter keys: a feed waits under its reader, a guard under the documents it watches.
READER = "reader:"
DOC = "doc:"


@dataclass
class ChangesRequest:
    db: str
    since: Any
    limit: int | None
    descending: bool
    style: Literal["main_only", "all_docs"]
    include_docs: bool
    conflicts: bool
    attachments: bool
    doc_ids: list[str] | None
    selector: dict[str, Any] | None
    id_filter: Callable[[str], bool] | None
    feed: str
    timeout_ms: int | None
    heartbeat_ms: int | None
    extras_done: bool = field(default=False)
    # A design-document filter (`ddoc/name` or `_view`) on the document of a readable row.
    doc_filter: Callable[[dict[str, Any] | None], bool] | None = None


@dataclass
class PendingChanges:
    """A longpoll or continuous request that must wait on the event loop."""

    ctx: Ctx
    dbobj: Database
    req: ChangesRequest
    page: dict[str, Any]
    physical: str
    # The notifier's count of the database's commits before `page` was read, and when the
    # feed's waiter was registered (None until then).
    announced: int
    registered: int | None = None


class _FeedResponse(StreamingResponse):
    """A live feed's streamed answer, which ends its waiter's registration however the
    stream ends (the waiter is registered before the stream starts: `ChangesFeed.wait`)."""

    def __init__(self, body: AsyncIterator[bytes], waiter: Waiter) -> None:
        super().__init__(body, media_type=JSON_TYPE)
        self.waiter = waiter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.waiter.__exit__()


class FeedGuard:
    """Keeps a live feed's caller authorised while the feed is open (see the module docstring).

    The feed ends when the caller is refused, its token expires or its role changes; otherwise
    `ctx.principal` is replaced by the freshly checked one.
    """

    def __init__(self, api: FeedHost, ctx: Ctx, db: str) -> None:
        self.api, self.ctx, self.db = api, ctx, db
        self.checked_at = time.monotonic()
        self.revoked = False

    def expiry(self) -> float | None:
        """When the credentials the feed was opened with expire, on the monotonic clock."""
        exp = self.ctx.principal.extra.get("expires_at")
        if not isinstance(exp, (int, float)):
            return None
        return time.monotonic() + (exp - time.time())

    def cap(self, deadline: float | None) -> float | None:
        exp = self.expiry()
        if exp is None:
            return deadline
        return exp if deadline is None else min(deadline, exp)

    def subscriptions(self) -> dict[str, frozenset[str]]:
        """What the feed's waiter also waits on: the documents that decide the caller's access."""
        watch = self.ctx.principal.watch
        if watch is None:
            return {}
        db_name, ids = watch
        return {db_name: frozenset(DOC + i for i in ids)}

    def concerned(self, fired: set[str]) -> bool:
        """Did a wake-up come from the watched documents (so the caller must be checked)?"""
        watch = self.ctx.principal.watch
        return watch is not None and watch[0] in fired

    def next_check(self) -> float | None:
        """When the guard must check on its own: only when nothing tells it of changes."""
        if self.ctx.principal.watch is not None:
            return None
        return self.checked_at + REAUTH_INTERVAL_S

    async def allowed(self, force: bool = False) -> bool:
        """False once the caller may no longer read this database. Checks the credentials
        when `force`d (a watched document changed) or, without a watch, when the interval is up."""
        if self.revoked:
            return False
        exp = self.expiry()
        if exp is not None and time.monotonic() >= exp:
            self.revoked = True
            return False
        due = self.next_check()
        if not force and (due is None or time.monotonic() < due):
            return True
        return await anyio.to_thread.run_sync(self.verify)

    def verify(self) -> bool:
        """Check the caller now (blocking: run on a worker thread); False ends the feed."""
        try:
            principal = self._check()
        except BranchlineError:
            self.revoked = True
            return False
        if principal.role != self.ctx.principal.role:
            # A new role changes what may be read, and rows already judged on the old one
            # may follow; ending the feed makes the client start over under the new role.
            self.revoked = True
            return False
        self.ctx.principal = principal
        self.checked_at = time.monotonic()
        return True

    def _check(self) -> Principal:
        # The same full check as when the feed opened (credentials, account, tenant). On the
        # event loop, credentials verified before are not verified again (the account and
        # tenant are); unknown ones would need hashing, which is for a worker thread.
        if is_nonblocking():
            principal = self.api._authenticate_cached(self.ctx.request, self.ctx.tenant_id)
            if principal is None:
                raise WouldBlock()
        else:
            principal = self.api._authenticate(self.ctx.request, self.ctx.tenant_id)
        self.api.policy.check_db(principal, self.db, "read")
        return principal


class ChangesFeed:
    def __init__(self, api: FeedHost) -> None:
        self.api = api
        api.notifier.resolver = self._keys_of
        api.notifier.reshapes = self._reshapes

    def start(self, ctx: Ctx, db: str) -> Response | PendingChanges:
        """The changes feed of a database (see the module docstring); runs in a worker thread.

        Answers at once when there are rows (or for `feed=normal`); otherwise hands the
        request to `wait`, on the event loop.
        """
        dbobj, req = self._prepare(ctx, db)
        physical = physical_name(ctx.tenant_id, db)
        announced = self.api.notifier.announced(physical)
        page = self.page(ctx, dbobj, req)
        if req.feed == "normal" or (req.feed == "longpoll" and page["results"]):
            return json_response(page)
        return PendingChanges(ctx, dbobj, req, page, physical, announced)

    async def _read(self, ctx: Ctx, req: ChangesRequest, fn: Callable[..., _T], *args: Any) -> _T:
        """`fn(*args)`, a feed's next page, read on the event loop when nothing in it would
        wait (`SyncApi.may_inline`: a store that can refuse to, and rules that wait nowhere
        else), else on a worker thread. Every write wakes the feeds that may read it, and a
        trip to a thread and back for each costs more than the page."""
        if req.doc_filter is None and self.api.may_inline(req.db):
            done, result = self.api.run_inline(fn, *args)
            if done:
                return result  # type: ignore[no-any-return]
        return await anyio.to_thread.run_sync(fn, *args)

    async def wait(self, p: PendingChanges) -> Response:
        guard = FeedGuard(self.api, p.ctx, p.req.db)
        # Registered here, before anything awaits: the first page was most often read on the
        # event loop just now, so no commit can have come in between (`_recheck_and_page`).
        # A streamed answer ends the registration when it is sent: whoever calls this must
        # send what it returns (SyncDoor does, with nothing awaited in between).
        waiter = self._waiter(p.ctx, p.req, p.page, p.physical, guard).__enter__()
        p.registered = self.api.notifier.announced(p.physical)
        deadline = guard.cap(_deadline(p.req))
        # A longpoll with a heartbeat waits its first heartbeat's time (10 s at most) before
        # it streams. Most end sooner (a write of the team's wakes them) and are answered
        # like one without: in one plain response. Streamed from the start, each cost
        # Starlette's StreamingResponse and the task group it runs to listen for a
        # disconnect, some 8% of the server's CPU with 500 engineers' feeds open. Only a feed
        # still waiting then turns into a stream, whose first newline goes out at once.
        # Errors in that first wait are answered as errors, as without a heartbeat; once
        # streaming, the status is sent and the page so far ends the stream.
        first_wait = None
        try:
            if p.req.feed == "continuous":
                return _FeedResponse(self._continuous_stream(p, guard, waiter), waiter)
            if p.req.heartbeat_ms is not None:
                first_wait = min(p.req.heartbeat_ms / 1000, FIRST_WAIT_MAX_S)
            p.req.since = p.page["last_seq"]
            page = await self._read(p.ctx, p.req, self._recheck_and_page, p, guard)
            page = await self._wait_for_rows(p.ctx, p.dbobj, p.req, page, waiter, deadline, guard, first_wait)
            if first_wait is not None and not _over(page, guard, deadline):
                p.page = page
                return _FeedResponse(self._longpoll_stream(p, guard, waiter, deadline), waiter)
        except BaseException:
            waiter.__exit__()
            raise
        waiter.__exit__()
        return json_response(page)

    # --- whom a change wakes -------------------------------------------------------------
    def _waiter(
        self, ctx: Ctx, req: ChangesRequest, page: dict[str, Any], physical: str, guard: FeedGuard
    ) -> Waiter:
        """The feed's waiter: under its reader's key (or every change, for a caller who reads
        the whole database), and on the documents its guard watches."""
        keys = {EVERY} if self.api.reads_all(ctx, req.db) else {READER + ctx.principal.user_id}
        since = None if req.descending else page["last_seq"]
        return self.api.notifier.waiter(physical, keys, guard.subscriptions(), since)

    def _keys_of(self, physical: str) -> KeysOf | None:
        """The notifier's resolver: which waiter keys the changed ids of `physical` concern."""
        tenant_id = tenant_of(physical)
        if tenant_id is None:
            return _doc_keys  # outside any tenant: only guards watch documents there
        readers = getattr(self.api.policy, "readers", None)
        if not self.api.filters_reads or readers is None:
            return None  # every feed may read every change: wake them all, read nothing
        db = logical_of(physical)

        def keys(ids: list[str]) -> frozenset[str] | None:
            users = readers(tenant_id, db, ids)
            return None if users is None else frozenset(READER + u for u in users)

        return keys

    def _reshapes(self, physical: str, docid: str) -> bool:
        """Whether a change of `docid` may change who reads the other documents of `physical`."""
        ask = getattr(self.api.policy, "reshapes_readers", None)
        if tenant_of(physical) is None or ask is None:
            return True
        return bool(ask(logical_of(physical), docid))

    def _recheck_and_page(self, p: PendingChanges, guard: FeedGuard) -> dict[str, Any]:
        """The caller checked once more and the page read again, now that the feed's waiter
        is registered: an access change or a write that landed between the feed's first
        read and its registration would otherwise go unnoticed (one trip to a thread).

        A first page that read to the end, with no commit of the database announced between
        the count taken before it was read and the waiter's registration, would be read again
        the same: it is not. A commit announced after the registration wakes the waiter."""
        req = p.req
        if not guard.verify():
            return {"results": [], "last_seq": req.since, "pending": 0}
        first = p.page
        if (
            not first["results"]
            and not first.get("pending")
            and req.since == first["last_seq"]
            and p.registered == p.announced
        ):
            return {"results": [], "last_seq": req.since, "pending": 0}
        return self.page(p.ctx, p.dbobj, req)

    # --- request parsing -----------------------------------------------------------------
    def _prepare(self, ctx: Ctx, db: str) -> tuple[Database, ChangesRequest]:
        q = ctx.query
        dbobj = self.api.open_db(ctx, db, "read")
        body: dict[str, Any] = {}
        if ctx.request.method == "POST" and ctx.body.strip():
            body = parse_object(ctx.body)
        feed = q.raw("feed", "normal") or "normal"
        if feed not in ("normal", "longpoll", "continuous"):
            raise BadRequest(f"Unsupported feed {feed!r}: use normal, longpoll or continuous.")
        doc_ids = selector = id_filter = doc_filter = None
        flt = q.raw("filter")
        if flt == "_doc_ids":
            doc_ids = body.get("doc_ids") if "doc_ids" in body else q.json("doc_ids")
            if not isinstance(doc_ids, list) or not all(isinstance(d, str) for d in doc_ids):
                raise BadRequest(
                    "filter=_doc_ids needs `doc_ids`, a JSON list of document ids, "
                    "in the POST body or the query string."
                )
        elif flt == "_selector":
            selector = body.get("selector")
            if not isinstance(selector, dict):
                raise BadRequest("filter=_selector needs a `selector` object in the POST body.")
        elif flt == "_design":
            id_filter = _is_design
        elif flt == "_view":
            view = q.raw("view")
            if not view or "/" not in view:
                raise BadRequest(
                    "filter=_view needs `view`, the view as designname/viewname.", error="query_parse_error"
                )
            _check_design_function(dbobj, view, "views")
            doc_filter = self.api.js.view_filter(dbobj, view)
        elif flt:
            if "/" not in flt:
                raise BadRequest("`filter` must be _doc_ids, _selector, _design or designname/filtername.")
            _check_design_function(dbobj, flt, "filters")
            doc_filter = self.api.js.changes_filter(dbobj, flt, filter_request(self.api, ctx, dbobj, db))
        style: Literal["main_only", "all_docs"]
        raw_style = q.raw("style", "main_only") or "main_only"
        if raw_style == "main_only":
            style = "main_only"
        elif raw_style == "all_docs":
            style = "all_docs"
        else:
            raise BadRequest("`style` must be main_only or all_docs.")
        since_raw = q.raw("since")
        since = parse_since(since_raw, dbobj.update_seq if since_raw == "now" else None)
        timeout = q.int("timeout")
        heartbeat_raw = q.raw("heartbeat")
        heartbeat: int | None
        if heartbeat_raw is None or heartbeat_raw == "false":
            heartbeat = None
        elif heartbeat_raw == "true":
            heartbeat = DEFAULT_TIMEOUT_MS
        else:
            # Held to the longest wait: a heartbeat is also how soon a streamed feed notices
            # that its client has gone.
            heartbeat = q.int("heartbeat", minimum=1)
            heartbeat = None if heartbeat is None else min(heartbeat, MAX_TIMEOUT_MS)
        if timeout is None and heartbeat is None:
            timeout = DEFAULT_TIMEOUT_MS
        req = ChangesRequest(
            db=db,
            since=since,
            limit=q.int("limit"),
            descending=q.bool("descending"),
            style=style,
            include_docs=q.bool("include_docs"),
            conflicts=q.bool("conflicts"),
            attachments=q.bool("attachments"),
            doc_ids=doc_ids,
            selector=selector,
            id_filter=id_filter,
            feed=feed,
            doc_filter=doc_filter,
            timeout_ms=None if timeout is None else min(timeout, MAX_TIMEOUT_MS),
            heartbeat_ms=heartbeat,
        )
        return dbobj, req

    # --- one page ------------------------------------------------------------------------
    def page(self, ctx: Ctx, dbobj: Database, req: ChangesRequest) -> dict[str, Any]:
        """Readable rows after `req.since`, at most `req.limit` (plus newly readable docs)."""
        api = self.api
        need_docs = req.include_docs or api.filters_reads or req.doc_filter is not None
        keep = api.policy.read_prefilter(ctx.principal, req.db) if api.filters_reads else None
        rows: list[dict[str, Any]] = []
        cursor = req.since
        last_seq = req.since
        pending = 0
        while True:
            want = None if req.limit is None else max(req.limit - len(rows), 0)
            hint = None if keep is None or req.descending else self._candidates(ctx, dbobj, req, cursor)
            res = dbobj.changes(
                since=cursor,
                limit=want,
                descending=req.descending,
                style=req.style,
                include_docs=need_docs,
                conflicts=req.conflicts,
                attachments=req.attachments,
                doc_ids=req.doc_ids,
                selector=req.selector,
                keep=keep,
                candidates=hint,
            )
            got = res["results"]
            last_seq = res.get("last_seq", last_seq)
            pending = res.get("pending", 0)
            for row in got:
                if req.id_filter is not None and not req.id_filter(row["id"]):
                    continue
                if not api.readable(ctx, req.db, row.get("doc")):
                    continue
                if req.doc_filter is not None and not req.doc_filter(row.get("doc")):
                    continue
                if not req.include_docs:
                    row.pop("doc", None)
                rows.append(row)
            exhausted = not got or want is None or len(got) < want
            if exhausted or req.descending or len(rows) >= (req.limit or 0):
                break
            cursor = last_seq
        if not req.descending and not req.extras_done:
            extra = self._extra_rows(ctx, dbobj, req, {r["id"] for r in rows})
            # Only once they are read: a page that stops half-way (non-blocking mode) is read
            # again on a worker thread, and must not lose them.
            req.extras_done = True
            if extra:
                seq = req.since if rows else last_seq
                for row in extra:
                    row["seq"] = seq
                rows = extra + rows
        return {"results": rows, "last_seq": last_seq, "pending": pending}

    def _candidates(self, ctx: Ctx, dbobj: Database, req: ChangesRequest, since: Any) -> Candidates | None:
        """What the notifier's index of recent changes knows of the rows after `since` that
        can concern this reader (see `sync/longpoll.py`); None: scan them all."""
        physical = physical_name(ctx.tenant_id, req.db)
        keys_of = self._keys_of(physical)
        if keys_of is None:
            return None  # no readers to tell apart: the notifier keeps no index

        def read(start: Any) -> Any:
            return read_keys(dbobj, start, keys_of)

        known = self.api.notifier.candidates(physical, READER + ctx.principal.user_id, since, read)
        if known is None:
            return None
        ids, upto = known
        return Candidates(ids, upto, lambda docid: self._reshapes(physical, docid))

    def _extra_rows(
        self, ctx: Ctx, dbobj: Database, req: ChangesRequest, seen: set[str]
    ) -> list[dict[str, Any]]:
        if req.since in (0, "0", None):
            return []  # everything is new to this client anyway
        ids = set(self.api.policy.extra_changes_ids(ctx.principal, req.db, req.since) or ())
        ids -= seen
        if req.doc_ids is not None:
            ids &= set(req.doc_ids)
        if req.id_filter is not None:
            ids = {i for i in ids if req.id_filter(i)}
        if not ids:
            return []
        res = dbobj.changes(
            since=0,
            style=req.style,
            include_docs=True,
            conflicts=req.conflicts,
            attachments=req.attachments,
            doc_ids=sorted(ids),
            selector=req.selector,
        )
        out = []
        for row in res["results"]:
            if not self.api.readable(ctx, req.db, row.get("doc")):
                continue
            if req.doc_filter is not None and not req.doc_filter(row.get("doc")):
                continue
            if not req.include_docs:
                row.pop("doc", None)
            out.append(row)
        return out

    # --- waiting ---------------------------------------------------------------------------
    async def _wait_for_rows(
        self,
        ctx: Ctx,
        dbobj: Database,
        req: ChangesRequest,
        page: dict[str, Any],
        waiter: Waiter,
        deadline: float | None,
        guard: FeedGuard,
        budget_s: float | None = None,
    ) -> dict[str, Any]:
        """Wait (without a thread) until rows arrive, `deadline` passes, `budget_s` is spent
        or the caller loses access (then the page stays empty)."""
        budget_end = None if budget_s is None else time.monotonic() + budget_s
        while not page["results"] and not guard.revoked:
            now = time.monotonic()
            ends = [t for t in (deadline, budget_end) if t is not None]
            if ends and min(ends) <= now:
                break
            wakes = ends + [t for t in (guard.next_check(),) if t is not None]
            fired = await waiter.wait(min(wakes) - now if wakes else None)
            if not await guard.allowed(force=guard.concerned(fired)):
                break
            if waiter.db_name in fired:
                req.since = page["last_seq"]
                page = await self._read(ctx, req, self.page, ctx, dbobj, req)
        return page

    async def _longpoll_stream(
        self, p: PendingChanges, guard: FeedGuard, waiter: Waiter, deadline: float | None
    ) -> AsyncIterator[bytes]:
        """A longpoll still waiting when its first heartbeat is due (`wait`): that newline,
        one more each heartbeat while nothing comes, then the page."""
        # Newlines while waiting keep proxies and PouchDB's fetch from timing out;
        # JSON parsers ignore the leading whitespace.
        ctx, dbobj, req, page = p.ctx, p.dbobj, p.req, p.page
        heartbeat_s = (req.heartbeat_ms or DEFAULT_TIMEOUT_MS) / 1000
        with waiter:
            yield b"\n"
            try:
                while not _over(page, guard, deadline):
                    page = await self._wait_for_rows(
                        ctx, dbobj, req, page, waiter, deadline, guard, heartbeat_s
                    )
                    if not page["results"] and not guard.revoked:
                        yield b"\n"
            except BranchlineError:
                pass  # e.g. the database was deleted while waiting: answer what we have
        yield orjson.dumps(page) + b"\n"

    async def _continuous_stream(
        self, p: PendingChanges, guard: FeedGuard, waiter: Waiter
    ) -> AsyncIterator[bytes]:
        """One JSON row per line, then `{"last_seq"}` when the timeout passes or access ends."""
        ctx, dbobj, req, page, physical = p.ctx, p.dbobj, p.req, p.page, p.physical
        deadline = guard.cap(_deadline(req))
        heartbeat_s = None if req.heartbeat_ms is None else req.heartbeat_ms / 1000
        first = True
        last_sent = time.monotonic()
        with waiter:
            try:
                while True:
                    for row in page["results"]:
                        yield orjson.dumps(row) + b"\n"
                    if page["results"]:
                        last_sent = time.monotonic()
                    req.since = page["last_seq"]
                    if req.limit is not None:
                        req.limit -= len(page["results"])
                        if req.limit <= 0:
                            break
                    if first:
                        # The first page was read before this waiter existed: check the caller
                        # and read again before the first wait, so nothing in between is missed.
                        first = False
                        page = await self._read(ctx, req, self._recheck_and_page, p, guard)
                        if guard.revoked:
                            break
                        continue
                    if not page["results"]:
                        now = time.monotonic()
                        if deadline is not None and now >= deadline:
                            break
                        # Wake for a write, a watched document, the next heartbeat, the end, or
                        # (without a watch) the next access check.
                        beat_at = None if heartbeat_s is None else last_sent + heartbeat_s
                        wakes = [t for t in (deadline, beat_at, guard.next_check()) if t is not None]
                        fired = await waiter.wait(min(wakes) - now if wakes else None)
                        beat = heartbeat_s is not None and time.monotonic() - last_sent >= heartbeat_s
                        if not await guard.allowed(force=guard.concerned(fired)):
                            break
                        if beat:
                            yield b"\n"
                            last_sent = time.monotonic()
                        if physical not in fired:
                            continue  # nothing new to read
                    elif not await guard.allowed():
                        break
                    page = await self._read(ctx, req, self.page, ctx, dbobj, req)
            except BranchlineError:
                pass
        yield orjson.dumps({"last_seq": req.since}) + b"\n"


def _deadline(req: ChangesRequest) -> float | None:
    return None if req.timeout_ms is None else time.monotonic() + req.timeout_ms / 1000


def _over(page: dict[str, Any], guard: FeedGuard, deadline: float | None) -> bool:
    """Whether a longpoll is done waiting: rows came, access ended or its time is up."""
    return bool(page["results"]) or guard.revoked or (deadline is not None and time.monotonic() >= deadline)


def _check_design_function(dbobj: Database, name: str, kind: str) -> None:
    """404 as CouchDB answers when `designname/funcname` names nothing: a client told "not
    found" fixes its request, where "not implemented" would send it looking elsewhere."""
    ddoc_name, func = name.split("/", 1)
    try:
        ddoc = dbobj.get("_design/" + ddoc_name)
    except NotFound:
        raise NotFound(f"missing: there is no design document _design/{ddoc_name}.") from None
    functions = ddoc.get(kind)
    if not isinstance(functions, dict) or func not in functions:
        raise NotFound(f"missing: _design/{ddoc_name} has no {kind[:-1]} named {func!r}.")


def _is_design(docid: str) -> bool:
    return docid.startswith("_design/")


def _doc_keys(ids: list[str]) -> frozenset[str]:
    return frozenset(DOC + i for i in ids)
