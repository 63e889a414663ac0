"""`POST /api/v1/sessions/{id}/events` reads the session once and folds once (issue 22, point 2).

The route runs in-process over a real embedded store whose databases count the calls made
on them: recording an event reads the session's documents (header and events) in one read
of the `sessions` database, and answers the state that one fold gave, equal to what a fresh
`GET /api/v1/sessions/{id}` answers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.auth.service import create_tenant
from api.core.context import AppContext
from api.sessions import endpoints, service
from api.sessions.ids import ulid
from api.sessions.state_cache import SessionStates
from api.settings import Settings
from api.trees import service as trees
from sync.access import Principal
from sync.errors import Conflict
from tests.conftest import STRONG_PASSWORD, run_async, wait_until
from tests.trees.factories import valid_tree

TENANT = "abcdef123456"
SESSIONS = f"t_{TENANT}_sessions"
CLIENTS = f"t_{TENANT}_clients"
OTHER_TENANT = "t_zzzzzz999999_sessions"
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
    context.session_states = SessionStates().attach(context.store)  # as the sessions feature does
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


WORKER = "branchline-request"  # api/core/offload.py's threads


def post(ctx: AppContext, who: Principal, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The route's answer, called as the server calls it: on an event loop."""
    response = run_async(endpoints.post_event(sid, body, who, ctx))
    assert response.status_code == 201
    return orjson.loads(response.body)


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
    answer = post(ctx, who, sid, body)
    assert counting.on("_sessions", READS) == ["all_docs"]
    assert counting.on("_sessions", WRITES) == writes
    assert answer["event"]["type"] == body["type"]
    assert _timeless(answer) == _timeless(service.get_session(ctx, who, sid))


def test_the_next_step_starts_from_the_last_one_without_reading_the_session(ctx):
    who, sid = _owner_with_a_session(ctx)
    post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "First."})
    counting = CountingStore(ctx.store)
    ctx.store = counting
    answer = post(ctx, who, sid, {"type": "answered", "node_id": "scope", "answer": "yes"})
    assert counting.on("_sessions", READS) == []
    assert counting.on("_sessions", WRITES) == ["put"]
    assert _timeless(answer) == _timeless(service.get_session(ctx, who, sid))
    assert [n["text"] for n in answer["notes"]["scope"]] == ["First."]


def test_a_step_a_device_synced_in_between_is_in_force_for_the_next_post(ctx):
    """The engineer's phone answered the step while the API client held the session in
    memory: the API's next answer to that step must be refused as out of turn, and its
    state must show the phone's answer."""
    who, sid = _owner_with_a_session(ctx)
    first = post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "From the API."})
    db = ctx.store.db(f"t_{who.tenant_id}_sessions")
    device_event = {
        "_id": f"session:{sid}:ev:{ulid()}",
        "type": "answered",
        "schema_version": 1,
        "session_id": sid,
        "node_id": "scope",
        "answer": "yes",
        # Answered on the phone before the API's note was posted (and so before anything the
        # API posts next): in the fold's order it comes first, whatever the clock reads now.
        "ts": first["event"]["ts"] - 1,
        "device_id": "phone-1",
        "user_id": who.user_id,
    }
    db.put(device_event)
    with pytest.raises(Conflict) as refused:
        post(ctx, who, sid, {"type": "answered", "node_id": "scope", "answer": "no"})
    assert refused.value.details["current_node"] != "scope"
    answer = post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "After."})
    assert [step["node_id"] for step in answer["path"]] == ["scope"]
    assert answer["path"][0]["answer"] == "yes"
    assert _timeless(answer) == _timeless(service.get_session(ctx, who, sid))


def test_a_header_edited_in_between_is_in_the_next_answer(ctx):
    who, sid = _owner_with_a_session(ctx)
    one = post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "One."})
    service.update_header(ctx, who, sid, {"ticket": "T20261204.0001", "_rev": one["header"]["_rev"]})
    answer = post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "Two."})
    assert answer["header"]["ticket"] == "T20261204.0001"


def test_a_write_seen_while_a_step_is_recorded_keeps_nothing():
    states = SessionStates()
    header = {"_id": "session:S1", "_rev": "1-a", "type": "session"}
    event_doc = {"_id": "session:S1:ev:E1", "type": "note"}
    with states.watch(TENANT, "S1") as w:
        states.written(SESSIONS, ["session:S1:ev:E1"])  # the caller's own write
        states.written(SESSIONS, ["session:S1:ev:E2"])  # a device's push meanwhile
        assert not states.keep(w, header, [event_doc], own_writes=1)
    with states.watch(TENANT, "S1") as w:
        assert w.hit is None
        states.written(SESSIONS, ["session:S1:ev:E1", "session:S2:ev:X"])
        states.written(OTHER_TENANT, ["session:S1:ev:Y"])  # another tenant
        states.written(CLIENTS, ["session:S1:ev:Z"])  # another database
        assert states.keep(w, header, [event_doc], own_writes=1)
    with states.watch(TENANT, "S1") as w:
        assert w.hit is not None and w.hit.events == (event_doc,)
    states.written(SESSIONS, ["session:S1"])  # the header changed
    with states.watch(TENANT, "S1") as w:
        assert w.hit is None


def test_held_events_are_bounded_and_a_deleted_database_forgets_its_sessions():
    states = SessionStates(max_events=5, idle_s=0)  # every session held counts as left alone
    header = {"_id": "session:S", "type": "session"}
    for sid in ("A", "B", "C"):
        with states.watch(TENANT, sid) as w:
            states.written(SESSIONS, [f"session:{sid}:ev:1"])
            states.keep(w, header, [{"_id": "x"}, {"_id": "y"}], own_writes=1)
    assert len(states) == 2  # A went first: 6 events were over the bound of 5
    with states.watch(TENANT, "A") as w:
        assert w.hit is None
    states.written(SESSIONS, None)
    assert len(states) == 0
    with states.watch(TENANT, "B") as w:
        states.written(SESSIONS, ["session:B:ev:2"])
        states.written(SESSIONS, None)  # deleted while the step was recorded
        assert not states.keep(w, header, [{"_id": "x"}], own_writes=1)


def _step(states: SessionStates, sid: str, n_events: int) -> bool:
    """One step recorded in session `sid` (now `n_events` long); whether it found the session held."""
    header = {"_id": f"session:{sid}", "type": "session"}
    with states.watch(TENANT, sid) as w:
        found = w.hit is not None
        states.written(SESSIONS, [f"session:{sid}:ev:{n_events}"])
        states.keep(w, header, [{"_id": f"e{i}"} for i in range(n_events)], own_writes=1)
    return found


def test_a_team_taking_turns_in_more_sessions_than_fit_still_finds_most_held():
    """Three engineers step in turn through sessions of four events while ten fit: evicting
    the least recently used would evict, every turn, the session asked next, and no step
    would find its session held (the closed-loop benchmark lost a third of its speed so)."""
    clock = {"now": 0.0}
    states = SessionStates(max_events=10, idle_s=60, clock=lambda: clock["now"])
    found = []
    for _ in range(5):
        for sid in ("A", "B", "C"):
            clock["now"] += 1
            found.append(_step(states, sid, 4))
    assert found[:3] == [False, False, False]
    assert found[3:] == [True, True, False] * 4  # two of three held from the second turn on
    assert len(states) == 2


def test_a_session_left_alone_makes_room_for_a_new_one():
    clock = {"now": 0.0}
    states = SessionStates(max_events=10, idle_s=60, clock=lambda: clock["now"])
    _step(states, "A", 4)
    clock["now"] += 30
    _step(states, "B", 4)
    clock["now"] += 31  # A unused for 61 s, B for 31 s
    _step(states, "C", 4)
    assert [_step(states, sid, 5) for sid in ("C", "B")] == [True, True]
    assert not _step(states, "A", 5)


class ThreadNotingStore(CountingStore):
    """Notes, for each write, the thread that made it."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.writers: list[str] = []

    def db(self, name: str) -> CountingDatabase:
        inner = self._inner.db(name)
        writers = self.writers

        class Noting(CountingDatabase):
            def put(self, doc: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
                writers.append(threading.current_thread().name)
                return inner.put(doc, *args, **kwargs)

        return Noting(inner, self.calls)


def _events_of(ctx: AppContext, who: Principal, sid: str, etype: str) -> list[dict[str, Any]]:
    return [e for e in service.load(ctx, who, sid).events if e["type"] == etype]


def test_a_note_is_recorded_on_the_event_loop_and_a_completion_on_a_worker_thread(ctx):
    """A note writes one document, so it is stored right on the event loop; completing the
    session writes the header's status too, which is left to a worker thread, and the
    attempt on the loop must not have stored the event already (it would be there twice)."""
    who, sid = _owner_with_a_session(ctx)
    noting = ThreadNotingStore(ctx.store)
    ctx.store = noting
    post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "On the loop."})
    assert len(noting.writers) == 1 and not noting.writers[0].startswith(WORKER)  # the loop's thread
    noting.writers.clear()
    answer = post(ctx, who, sid, {"type": "completed", "outcome": "resolved"})
    assert answer["status"] == "completed"
    assert len(noting.writers) == 2 and all(w.startswith(WORKER) for w in noting.writers)
    assert len(_events_of(ctx, who, sid, "completed")) == 1
    assert service.get_session(ctx, who, sid)["header"]["status"] == "completed"


def test_an_event_refused_on_the_loop_by_a_busy_database_is_stored_once(ctx, tmp_path):
    """Another process holds the sessions database's write lock: the attempt on the event
    loop gives up before writing, and the worker thread stores the event once the lock is free."""
    who, sid = _owner_with_a_session(ctx)
    noting = ThreadNotingStore(ctx.store)
    ctx.store = noting
    other = sqlite3.connect(tmp_path / "dbs" / f"t_{who.tenant_id}_sessions.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    answers: list[dict[str, Any]] = []
    note = {"type": "note", "node_id": "scope", "text": "Once."}
    poster = threading.Thread(target=lambda: answers.append(post(ctx, who, sid, note)))
    poster.start()
    try:
        wait_until(lambda: len(noting.writers) >= 2, timeout=10, message="the worker to wait for the lock")
        on_loop, on_worker = noting.writers[:2]
        assert not on_loop.startswith(WORKER) and on_worker.startswith(WORKER)
    finally:
        other.execute("ROLLBACK")
        other.close()
    poster.join(10)
    assert answers and answers[0]["event"]["text"] == "Once."
    assert [e["text"] for e in _events_of(ctx, who, sid, "note")] == ["Once."]


def test_the_next_step_carries_the_last_fold_forward_instead_of_folding_again(ctx, monkeypatch):
    """The session's fold is kept with it, and the next step applies just its own event:
    the answer is still the state a fresh read and fold gives."""
    who, sid = _owner_with_a_session(ctx)
    post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "First."})

    def refold(self, events):
        raise AssertionError("the whole session was folded again")

    monkeypatch.setattr(service.Loaded, "progress", refold)
    answer = post(ctx, who, sid, {"type": "answered", "node_id": "scope", "answer": "yes"})
    answer = post(ctx, who, sid, {"type": "note", "node_id": answer["current_node"], "text": "Second."})
    monkeypatch.undo()
    assert _timeless(answer) == _timeless(service.get_session(ctx, who, sid))
    assert [n["text"] for notes in answer["notes"].values() for n in notes] == ["First.", "Second."]


def _clients_note(sid: str, ts: int) -> dict[str, Any]:
    """A note whose ids and time the client chose, as a device's queued step: sent again,
    it is the same event."""
    return {
        "_id": f"session:{sid}:ev:{ulid()}",
        "type": "note",
        "node_id": "scope",
        "text": "Kept.",
        "note_id": "n-kept",
        "ts": ts,
    }


def test_with_the_fold_kept_a_retry_is_answered_as_before_and_a_reused_id_refused(ctx):
    """The kept fold's ids decide whether a client's `_id` needs the events searched: a
    retry still finds its event, other content under it is still a 409, and an `_id` an
    `exported` event (never folded) already has is refused without storing anything."""
    who, sid = _owner_with_a_session(ctx)
    first = post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "First."})
    stamp = first["event"]["ts"] + 1  # a retry resends the same time
    note = _clients_note(sid, stamp)
    stored = post(ctx, who, sid, note)["event"]
    assert post(ctx, who, sid, note)["event"] == stored  # the kept fold saw it: found
    with pytest.raises(Conflict, match="other content"):
        post(ctx, who, sid, {**note, "text": "Changed."})
    exported = {
        "_id": f"session:{sid}:ev:{ulid()}",
        "type": "exported",
        "format": "markdown",
        "ts": stamp + 1,
    }
    post(ctx, who, sid, exported)
    post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "After the export."})
    with pytest.raises(Conflict, match="already exists"):
        post(ctx, who, sid, {"_id": exported["_id"], "type": "note", "node_id": "scope", "text": "Reused."})
    notes = [e["text"] for e in _events_of(ctx, who, sid, "note")]
    assert notes == ["First.", "Kept.", "After the export."], notes
    assert first["session_id"] == sid


def test_a_retry_or_a_refused_reuse_leaves_the_fold_kept_for_the_next_step(ctx, monkeypatch):
    """Found in review: the retry check takes the kept fold; a retry (or a 409 for other
    content under its id) stores nothing, so it must leave the fold for the next step."""
    who, sid = _owner_with_a_session(ctx)
    first = post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "First."})
    note = _clients_note(sid, first["event"]["ts"] + 1)
    stored = post(ctx, who, sid, note)

    def refold(self, *events):
        raise AssertionError("the whole session was folded again")

    monkeypatch.setattr(service.Loaded, "progress", refold)
    monkeypatch.setattr(service.Loaded, "fold", refold)
    again = post(ctx, who, sid, note)
    assert _timeless(again) == _timeless(stored)
    with pytest.raises(Conflict, match="other content"):
        post(ctx, who, sid, {**note, "text": "Changed."})
    after = post(ctx, who, sid, {"type": "note", "node_id": "scope", "text": "Next."})
    monkeypatch.undo()
    assert _timeless(after) == _timeless(service.get_session(ctx, who, sid))
    assert [n["text"] for notes in after["notes"].values() for n in notes] == ["First.", "Kept.", "Next."]
