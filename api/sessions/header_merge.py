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

from . import merge, repository as repo

log = logging.getLogger("branchline.sessions")


_merge_locks: dict[str, threading.Lock] = {}
_merge_locks_guard = threading.Lock()


def _merge_lock(key: str) -> threading.Lock:
    with _merge_locks_guard:
        if len(_merge_locks) > 10_000:
            _merge_locks.clear()
        return _merge_locks.setdefault(key, threading.Lock())


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
    """Follows the tenants' `sessions` feeds and merges header conflicts as they appear.

    The store calls `on_write` from the writing thread after each commit; this only notes
    the database and wakes a worker thread, so the merge runs outside the writer's
    transaction. The worker reads the feed from where it stopped (style=all_docs, no
    bodies: a header with more than one leaf is a candidate) and merges. Its own writes wake
    it again and find nothing left to do, which is what makes it idempotent.
    """

    name = "session-header-merger"

    def __init__(self, store: Any) -> None:
        self.store = store
        self.pending: set[str] = set()
        self.seqs: dict[str, Any] = {}
        self.cond = threading.Condition()
        self.thread: threading.Thread | None = None
        self.stopped = False

    @staticmethod
    def follows(db_name: str) -> bool:
        parsed = parse_physical(db_name) if isinstance(db_name, str) else None
        return parsed is not None and parsed.name == "sessions"

    def on_write(self, db_name: str, update_seq: Any = None) -> None:
        if not self.follows(db_name):
            return
        with self.cond:
            self.pending.add(db_name)
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
                names, self.pending = sorted(self.pending), set()
            for name in names:
                try:
                    self.process(name)
                except Exception:  # one database's trouble must not stop the others
                    log.exception("merging session header conflicts in %s failed", name)

    def process(self, db_name: str) -> int:
        """Merge every conflicted header changed since the last run; returns how many merged."""
        if not self.store.db_exists(db_name):
            self.seqs.pop(db_name, None)
            return 0
        db = self.store.db(db_name)
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
