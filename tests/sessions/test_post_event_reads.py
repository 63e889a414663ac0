"""`POST /api/v1/sessions/{id}/events` reads the session once and folds once (issue 22, point 2).

The route runs in-process over a real embedded store whose databases count the calls made
on them: recording an event reads the session's documents (header and events) in one read
of the `sessions` database, and answers the state that one fold gave, equal to what a fresh
`GET /api/v1/sessions/{id}` answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.auth.service import create_tenant
from api.core.context import AppContext
from api.sessions import endpoints, service
from api.settings import Settings
from api.trees import service as trees
from sync.access import Principal
from tests.conftest import STRONG_PASSWORD
from tests.trees.factories import valid_tree

READS = {"get", "get_open_revs", "all_docs", "bulk_get", "changes", "info", "revs_diff"}
WRITES = {"put", "bulk_docs", "delete"}


class CountingDatabase:
    """A store database that notes every read and write made on it, then makes it."""

    def __init__(self, inner: Any, calls: list[tuple[str, str]]) -> None:
        self._inner = inner
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in READS or name in WRITES:

            def counted(*args: Any, **kwargs: Any) -> Any:
                self._calls.append((self._inner.name, name))
                return attr(*args, **kwargs)

            return counted
        return attr


class CountingStore:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[tuple[str, str]] = []

    def db(self, name: str) -> CountingDatabase:
        return CountingDatabase(self._inner.db(name), self.calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def on(self, suffix: str, kinds: set[str]) -> list[str]:
        return [call for db, call in self.calls if db.endswith(suffix) and call in kinds]


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = AppContext.create(Settings(data_dir=tmp_path, secret_key="k" * 40))
    try:
        yield context
    finally:
        context.store.close()


def _owner_with_a_session(ctx: AppContext) -> tuple[Principal, str]:
    tenant, owner = create_tenant(
        ctx,
        tenant_name="Reads MSP",
        email="reads@example.com",
        password=STRONG_PASSWORD,
        display_name="Owner",
        starter_library=False,
    )
    who = Principal(tenant_id=tenant["tenant_id"], user_id=owner["user_id"], role="owner")
    tree = trees.create_tree(ctx, who, valid_tree())
    trees.publish(ctx, who, tree["_id"])
    sid = service.start_session(ctx, who, {"tree_id": tree["_id"]})["session_id"]
    return who, sid


def _timeless(state: dict[str, Any]) -> dict[str, Any]:
    """The state without what depends on the moment it was folded."""
    return {k: v for k, v in state.items() if k not in ("elapsed_ms", "event")}


@pytest.mark.parametrize(
    "body,writes",
    [
        ({"type": "note", "node_id": "scope", "text": "Only CTX-W11-07 is affected."}, ["put"]),
        ({"type": "answered", "node_id": "scope", "answer": "yes"}, ["put"]),
        # Completing changes the header's status too: the event and the header, nothing read again.
        ({"type": "completed", "outcome": "resolved"}, ["put", "put"]),
    ],
)
def test_recording_an_event_reads_the_session_once(ctx, body, writes):
    who, sid = _owner_with_a_session(ctx)
    counting = CountingStore(ctx.store)
    ctx.store = counting
    answer = endpoints.post_event(sid, body, who, ctx)
    assert counting.on("_sessions", READS) == ["all_docs"]
    assert counting.on("_sessions", WRITES) == writes
    assert answer["event"]["type"] == body["type"]
    assert _timeless(answer) == _timeless(service.get_session(ctx, who, sid))
