"""A fold carried forward one event at a time gives the fold from scratch (issue 22, point 2).

`POST /api/v1/sessions/{id}/events` keeps the fold of the session it holds in memory and
applies the recorded event to it (`FoldProgress.then`) instead of folding every event
again. An engineer would notice any difference as a wrong step, a lost note or a stale
status, so on random sessions (the parity test's, with ties, duplicates, other devices'
clocks and malformed events) every state along the way must equal `fold_session` of the
same events, and a state answered earlier must not change when more events are applied.
"""

from __future__ import annotations

import orjson
from hypothesis import given, settings, strategies as st

from api.sessions.fold import FoldProgress, _order_key, fold_session
from tests.sessions.test_fold_parity import sessions


@settings(max_examples=300, deadline=None)
@given(sessions(), st.integers(1, 30))
def test_each_event_applied_to_the_progress_gives_the_fold_from_scratch(case, split):
    tree, header, client, now = case["tree"], case["header"], case["client"], case["now_ms"]
    events = sorted(case["events"], key=_order_key)  # as recorded: each after the last
    if not events:
        return
    split = min(split, len(events))
    progress = FoldProgress(tree, events[:split], header, client)
    answered: list[tuple[dict, bytes]] = []
    for i in range(split, len(events) + 1):
        if i > split and not progress.then(events[i - 1]):
            # Not after the last one applied (a tie): the API folds from scratch then.
            progress = FoldProgress(tree, events[:i], header, client)
        state = progress.state(now, copy=True)
        assert state == fold_session(tree, events[:i], header, client, now)
        answered.append((state, orjson.dumps(state)))
    for state, as_sent in answered:
        assert orjson.dumps(state) == as_sent, "a state answered before changed afterwards"


def test_an_event_before_the_last_one_is_refused_and_changes_nothing():
    tree = {
        "start": "q",
        "nodes": {
            "q": {"type": "question", "title": "Q?", "next": {"yes": "r", "no": "r"}},
            "r": {"type": "resolution", "outcome": "resolved", "title": "Done"},
        },
    }
    first = {"_id": "session:s:ev:2", "type": "note", "node_id": "q", "note_id": "n", "text": "a", "ts": 20}
    earlier = {"_id": "session:s:ev:1", "type": "answered", "node_id": "q", "answer": "yes", "ts": 10}
    progress = FoldProgress(tree, [first], None, None)
    before = progress.state(None, copy=True)
    assert progress.then(earlier) is False
    assert progress.state(None, copy=True) == before
