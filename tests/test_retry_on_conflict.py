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
    assert retry_on_conflict(attempt, busy="gave up counting", attempts=3, give_up=lambda: "refused") == "refused"
    assert "gave up counting (after 3 conflicting writes)" in caplog.text


def test_other_errors_pass_through_unless_named():
    attempt, calls = _flaky([NotFound("gone")])
    with pytest.raises(NotFound):
        retry_on_conflict(attempt, busy="busy")
    attempt, calls = _flaky([NotFound("gone")])
    assert retry_on_conflict(attempt, busy="busy", retry_on=(Conflict, NotFound)) == "saved" and len(calls) == 2
