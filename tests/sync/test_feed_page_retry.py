"""A feed page read on the event loop may stop half-way (non-blocking mode: something would
have had to wait) and is then read again on a worker thread with the same request. The
documents that became readable late (a session shared after the reader's last sync) must
still come in that second read: an earlier version marked them sent before reading them,
and the retried page silently went without them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from sync.embedded import EmbeddedStore
from sync.http_changes import ChangesFeed, ChangesRequest
from sync.nonblocking import WouldBlock


class _Host:
    """The parts of SyncApi a page reads; the late documents' lookup refuses to wait once."""

    filters_reads = False

    def __init__(self, late: set[str]) -> None:
        self.notifier = SimpleNamespace(resolver=None)
        self.policy = self
        self.late = late
        self.asked = 0

    def read_prefilter(self, principal: Any, db: str) -> None:
        return None

    def readable(self, ctx: Any, db: str, doc: Any) -> bool:
        return True

    def extra_changes_ids(self, principal: Any, db: str, since: Any) -> set[str]:
        self.asked += 1
        if self.asked == 1:
            raise WouldBlock()
        return set(self.late)


@pytest.fixture
def db(tmp_path):
    store = EmbeddedStore(tmp_path)
    yield store.create_db("feed")
    store.close()


def test_late_documents_survive_a_page_that_stopped_half_way(db):
    db.put({"_id": "shared-late", "note": "written before the reader's last sync"})
    since = db.changes()["last_seq"]
    db.put({"_id": "a"})
    db.put({"_id": "b"})
    host = _Host({"shared-late"})
    feed = ChangesFeed(host)  # type: ignore[arg-type]
    req = ChangesRequest(
        db="feed",
        since=since,
        limit=100,
        descending=False,
        style="main_only",
        include_docs=False,
        conflicts=False,
        attachments=False,
        doc_ids=None,
        selector=None,
        id_filter=None,
        feed="longpoll",
        timeout_ms=None,
        heartbeat_ms=None,
    )
    ctx = SimpleNamespace(principal=None)

    with pytest.raises(WouldBlock):
        feed.page(ctx, db, req)  # type: ignore[arg-type]
    page = feed.page(ctx, db, req)  # type: ignore[arg-type]  # the worker thread's retry

    assert [r["id"] for r in page["results"]] == ["shared-late", "a", "b"]
    # Sent once: the next page of the same feed does not repeat them.
    req.since = page["last_seq"]
    db.put({"_id": "c"})
    assert [r["id"] for r in feed.page(ctx, db, req)["results"]] == ["c"]  # type: ignore[arg-type]
