"""Following CouchDB so that other Branchline instances' writes wake this one's listeners.

Each Branchline instance notifies its own listeners as soon as it writes. Writes made by
the other instances behind the load balancer reach this one here:

- `_db_updates` (CouchDB 2+, Cloudant): one longpoll feed for the whole server, one thread.
- Servers without it (pouchdb-server answers 400): one thread per database this process
  has opened, each on that database's `_changes` longpoll feed.

A spurious notification costs a listener one extra read; a missed one would leave a
device's live replication waiting for the next heartbeat, so after any error the feeds
start again from "now" and notify every followed database once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import orjson

from .couchdb_client import CouchClient, db_path
from .errors import BranchlineError

_log = logging.getLogger(__name__)
_FEED_TIMEOUT_MS = 30_000
_RETRY_S = 1.0


class ChangeWatcher:
    """Calls `notify(db_name, seq)` for writes CouchDB reports (the store's listeners).

    It knows the client and a callback, not the store, so the store imports it and not the
    other way round.
    """

    def __init__(self, client: CouchClient, notify: Callable[[str, Any], None]) -> None:
        self.client = client
        self.notify = notify
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._followed: dict[str, threading.Thread] = {}
        self._mode: str | None = None  # "db_updates" or "per_db"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # A fresh single-node CouchDB 3 lacks its system databases until someone creates
        # them, and `_db_updates` reads `_global_changes`. Creating them is idempotent;
        # without admin rights (or on other servers) the refusal is simply ignored.
        for name in ("_users", "_replicator", "_global_changes"):
            try:
                self.client.request(
                    "PUT", db_path(name), timeout=10, ok_statuses=(400, 401, 403, 404, 405, 412, 500)
                )
            except BranchlineError:
                pass
        status, _h, _b = self.client.request(
            "GET",
            "/_db_updates",
            params={"feed": "normal", "since": "now"},
            ok_statuses=(400, 401, 403, 404, 405, 501),
            timeout=10,
        )
        self._mode = "db_updates" if status == 200 else "per_db"
        if self._mode == "db_updates":
            self._thread = threading.Thread(
                target=self._run_db_updates, name="couchdb-db-updates", daemon=True
            )
            self._thread.start()

    def follow(self, name: str) -> None:
        if self._mode != "per_db":
            return
        with self._lock:
            if name in self._followed or self._stop.is_set():
                return
            thread = threading.Thread(
                target=self._run_db_changes, args=(name,), name=f"couchdb-changes-{name}", daemon=True
            )
            self._followed[name] = thread
        thread.start()

    def unfollow(self, name: str) -> None:
        with self._lock:
            self._followed.pop(name, None)

    def stop(self) -> None:
        self._stop.set()

    def _following(self, name: str) -> bool:
        with self._lock:
            return name in self._followed and not self._stop.is_set()

    # --- one feed for the server -----------------------------------------------------------
    def _run_db_updates(self) -> None:
        since: Any = "now"
        while not self._stop.is_set():
            try:
                res = self.client.json(
                    "GET",
                    "/_db_updates",
                    params={"feed": "longpoll", "since": since, "timeout": str(_FEED_TIMEOUT_MS)},
                    timeout=_FEED_TIMEOUT_MS / 1000 + 30,
                )
            except BranchlineError:
                _log.warning("the _db_updates feed failed; retrying", exc_info=True)
                since = "now"
                if self._stop.wait(_RETRY_S):
                    return
                continue
            for row in (res or {}).get("results", []):
                name = row.get("db_name")
                if (
                    isinstance(name, str)
                    and not name.startswith("_")
                    and row.get("type") in ("updated", "created", None)
                ):
                    self.notify(name, None)
            since = (res or {}).get("last_seq", since)

    # --- one feed per database ---------------------------------------------------------------
    def _run_db_changes(self, name: str) -> None:
        since: Any = "now"
        while self._following(name):
            try:
                _status, _h, body = self.client.request(
                    "GET",
                    f"{db_path(name)}/_changes",
                    params={
                        "feed": "longpoll",
                        "since": str(since),
                        "timeout": str(_FEED_TIMEOUT_MS),
                        "limit": "1000",
                    },
                    timeout=_FEED_TIMEOUT_MS / 1000 + 30,
                )
                res = orjson.loads(body.strip() or b"{}")
            except (BranchlineError, orjson.JSONDecodeError):
                if not self._following(name):
                    return
                since = "now"
                if self._stop.wait(_RETRY_S):
                    return
                continue
            if res.get("results") and self._following(name):
                self.notify(name, res.get("last_seq"))
            since = res.get("last_seq", since)
