"""Header conflicts, merged where they appear (DOCUMENTS.md, "Header: session:{sid}").

Two devices editing one header offline leave it with conflicting leaves. `merge_conflicts`
stores one merged revision (the pure rules are `merge.merge_headers`) and closes the
losers; `HeaderMerger` follows the tenants' `sessions` feeds and runs it for every header
that gained a conflict, and readers call it before answering a conflicted header.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sync.errors import Conflict, NotFound
from sync.naming import parse_physical
from sync.store import Database

from ..core.keyed_locks import KeyedLocks
from . import merge, repository as repo

log = logging.getLogger("branchline.sessions")


# Merges of one header take turns in this process (see `merge_conflicts`).
_merge_lock = KeyedLocks()


def merge_conflicts(db: Database, sid: str) -> bool:
    """Merge a header's conflicting leaves into one revision and delete the losers.

    Idempotent: without conflicts nothing is written. The feed follower and a reader may
    both try at once, so merges of one header take turns in this process; a write from
    elsewhere in between (another instance) makes the merge start over from a fresh read.
    Returns whether a merge was written.
    """
    docid = repo.header_id(sid)
    with _merge_lock(f"{db.name}/{docid}"):
        for _attempt in range(4):
            try:
                winner = db.get(docid, conflicts=True)
            except NotFound:
                return False
            losers = winner.get("_conflicts") or []
            if not losers:
                return False
            revisions = [winner]
            for entry in db.get_open_revs(docid, losers):
                if "ok" in entry and not entry["ok"].get("_deleted"):
                    revisions.append(entry["ok"])
            merged = merge.merge_headers(revisions)
            merged["_id"] = docid
            merged["_rev"] = winner["_rev"]
            try:
                db.put(merged)
            except Conflict:
                continue  # changed meanwhile: merge again from what is stored now
            # Only once the merged revision (holding every losing value) is stored are the
            # losers closed; should this fail, the next run merges again and loses nothing.
            results = db.bulk_docs([{"_id": docid, "_rev": r, "_deleted": True} for r in losers])
            failed = [r for r in results if "error" in r]
            if failed:
                log.info("closing losing revisions of %s deferred: %s", docid, failed)
            return True
        log.info("header merge of %s deferred: it kept changing", docid)
        return False


class HeaderMerger:
    """Follows the tenants' `sessions` databases and merges header conflicts as they appear.

    Merges run on a worker thread of their own, outside the writer's transaction; the store
    only notes what was written and wakes it. Its own writes wake it again and find nothing
    left to do, which is what makes it idempotent.

    What it reads depends on what the store can tell. A store that reports the ids of every
    commit (`observe_writes`, the embedded one) names the headers written: those are checked,
    and a commit of events alone (nearly every write of a team at work) costs nothing. The
    first time a database is seen, and whenever a commit's ids are unknown (a database made
    or deleted), its feed is read instead, from where it stopped (style=all_docs, no bodies:
    a header with more than one leaf is a candidate). A store that cannot tell (CouchDB) is
    always followed through its feed.
    """

    name = "session-header-merger"

    def __init__(self, store: Any) -> None:
        self.store = store
        # Databases written since they were last processed, each with the header ids written
        # (None: read the feed).
        self.pending: dict[str, set[str] | None] = {}
        self.seqs: dict[str, Any] = {}
        self.observing = False
        self.cond = threading.Condition()
        self.thread: threading.Thread | None = None
        self.stopped = False

    def attach(self) -> HeaderMerger:
        """Follow the store's writes (by ids when it reports them)."""
        observe = getattr(self.store, "observe_writes", None)
        if observe is not None and observe(self.on_ids):
            self.observing = True
        else:
            self.store.add_listener(self.on_write)
        return self

    @staticmethod
    def follows(db_name: str) -> bool:
        parsed = parse_physical(db_name) if isinstance(db_name, str) else None
        return parsed is not None and parsed.name == "sessions"

    def on_write(self, db_name: str, update_seq: Any = None) -> None:
        if not self.follows(db_name):
            return
        with self.cond:
            self.pending[db_name] = None
            self.cond.notify()

    def on_ids(self, db_name: str, ids: list[str] | None) -> None:
        """The store's write observer: called in the committing thread, so it only takes notes."""
        if not self.follows(db_name):
            return
        if ids is None:
            self.on_write(db_name)
            return
        written = {m.group(1) for i in ids if (m := repo.HEADER_ID_RE.match(i))}
        if not written:
            return
        with self.cond:
            noted = self.pending.setdefault(db_name, set())
            if noted is not None:
                noted |= written
            self.cond.notify()

    def start(self) -> None:
        """Started by the application's lifespan (a worker); writes noted before wait for it."""
        with self.cond:
            self.stopped = False
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            thread, self.thread = self.thread, None
            self.cond.notify()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.pending and not self.stopped:
                    self.cond.wait()
                if self.stopped:
                    return
                work, self.pending = sorted(self.pending.items()), {}
            for name, headers in work:
                try:
                    self.process(name, headers)
                except Exception:  # one database's trouble must not stop the others
                    log.exception("merging session header conflicts in %s failed", name)

    def process(self, db_name: str, headers: set[str] | None = None) -> int:
        """Merge the conflicted headers among `headers` (session ids), or, when None or the
        database was never read here, among every header changed since the last read of its
        feed; returns how many merged."""
        if not self.store.db_exists(db_name):
            self.seqs.pop(db_name, None)
            return 0
        db = self.store.db(db_name)
        if headers is not None and db_name in self.seqs:
            return sum(1 for sid in sorted(headers) if merge_conflicts(db, sid))
        since = self.seqs.get(db_name, 0)
        merged = 0
        while True:
            res = db.changes(since=since, limit=500, style="all_docs", pending=False)
            for row in res["results"]:
                m = repo.HEADER_ID_RE.match(row["id"])
                if m and len(row.get("changes") or ()) > 1 and merge_conflicts(db, m.group(1)):
                    merged += 1
            since = res["last_seq"]
            self.seqs[db_name] = since
            if len(res["results"]) < 500:
                return merged
