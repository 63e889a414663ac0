"""The one retry-on-conflict helper (`api/core/docs.py`), which every server-side writer uses."""

from __future__ import annotations

import pytest

from api.core.docs import retry_on_conflict
from sync.errors import Conflict, NotFound


def _flaky(failures: list[Exception], answer: str = "saved"):
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return answer

    return attempt, calls


def test_a_conflicting_save_is_tried_again_until_it_goes_through():
    attempt, calls = _flaky([Conflict("x"), Conflict("x")])
    assert retry_on_conflict(attempt, busy="busy") == "saved" and len(calls) == 3


def test_every_attempt_conflicting_is_a_conflict_with_the_callers_reason():
    attempt, calls = _flaky([Conflict("x")] * 9)
    with pytest.raises(Conflict, match="try again later"):
        retry_on_conflict(attempt, busy="try again later", attempts=4)
    assert len(calls) == 4


def test_work_that_may_be_dropped_gives_up_quietly(caplog):
    attempt, _calls = _flaky([Conflict("x")] * 3)
    assert (
        retry_on_conflict(attempt, busy="gave up counting", attempts=3, give_up=lambda: "refused")
        == "refused"
    )
    assert "gave up counting (after 3 conflicting writes)" in caplog.text


def test_other_errors_pass_through_unless_named():
    attempt, calls = _flaky([NotFound("gone")])
    with pytest.raises(NotFound):
        retry_on_conflict(attempt, busy="busy")
    attempt, calls = _flaky([NotFound("gone")])
    assert (
        retry_on_conflict(attempt, busy="busy", retry_on=(Conflict, NotFound)) == "saved" and len(calls) == 2
    )


def test_mirroring_a_status_from_a_header_edited_meanwhile_reads_it_again_and_keeps_the_edit(tmp_path):
    from api.sessions.posting import mirror_status
    from sync.embedded import EmbeddedStore

    store = EmbeddedStore(tmp_path)
    try:
        db = store.create_db("t_retry_sessions")
        header = {"_id": "session:s1", "type": "session", "status": "in_progress", "title": "VDA"}
        in_hand = {**header, "_rev": db.put(header)["rev"]}
        db.put({**in_hand, "title": "VDA on host 7"})  # another device renamed it meanwhile
        stored = mirror_status(db, "s1", in_hand, "completed")
        assert (stored["status"], stored["title"]) == ("completed", "VDA on host 7")
        assert db.get("session:s1")["_rev"] == stored["_rev"]
    finally:
        store.close()
