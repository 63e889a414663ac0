"""An export a client reports whose filing failed after the event was stored: the client's
retry (the same event again) files it, and once only.

In-process over a real embedded store; the audit log's write fails once, as a busy or broken
store would make it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.audit import service as audit
from api.core.context import AppContext
from api.sessions import posting
from api.settings import Settings
from sync.errors import Conflict
from tests.sessions.test_post_event_reads import _owner_with_a_session


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = AppContext.create(Settings(data_dir=tmp_path, secret_key="k" * 40))
    try:
        yield context
    finally:
        context.store.close()


def exported_entries(ctx: AppContext, tenant_id: str) -> list[dict[str, Any]]:
    filters = audit.Filters.parse(action="session.exported", actor=None, target=None, since=None, until=None)
    return list(audit.matching(ctx.store, tenant_id, filters))


def test_a_retried_export_event_is_filed_when_its_first_filing_failed(ctx, monkeypatch):
    who, sid = _owner_with_a_session(ctx)
    real_record = audit.record
    failures = iter([Conflict("The audit log is busy with other writes; try again.")])

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_once)
    body = {"type": "exported", "format": "markdown", "how": "copy", "ts": 1_800_000_000_000}
    with pytest.raises(Conflict):
        posting.post_event(ctx, who, sid, body)
    stored = next(e for e in posting.load(ctx, who, sid).events if e.get("type") == "exported")
    assert exported_entries(ctx, who.tenant_id) == []

    retry = {**body, "_id": stored["_id"]}
    assert posting.post_event(ctx, who, sid, retry)["event"]["_id"] == stored["_id"]
    posting.post_event(ctx, who, sid, retry)  # and again: nothing more
    filed = exported_entries(ctx, who.tenant_id)
    assert [e["details"]["event_id"] for e in filed] == [stored["_id"]]
    assert filed[0]["details"]["via"] == "device"
