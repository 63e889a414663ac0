"""The rollup fold: hand-computed figures for a fixed scenario, and incremental == rebuild."""

from __future__ import annotations

import sqlite3
from typing import Any

from hypothesis import given, settings, strategies as st

from api.insights.rollup import Aggregate, Rollup, apply, figures, rebuild, select
from api.insights.service import SCHEMA, SessionsFollower

TREE = {
    "start": "q1",
    "nodes": {
        "q1": {"type": "question", "title": "Q1", "next": {"yes": "a1", "no": "r2"}},
        "a1": {"type": "action", "title": "A1", "next": {"done": "r1", "failed": "r2", "skipped": "r2"}},
        "r1": {"type": "resolution", "outcome": "resolved", "title": "Fixed", "summary": "s"},
        "r2": {"type": "resolution", "outcome": "escalated", "title": "Escalated", "summary": "s"},
    },
}
TREE_ID = "tree:t"
IDLE_MS = 3_600_000


def trees(tree_id: str, version: int) -> dict[str, Any] | None:
    return TREE if (tree_id, version) == (TREE_ID, 1) else None


def header(sid: str, owner: str = "u1", client: str = "c1", version: int = 1) -> dict[str, Any]:
    return {
        "_id": f"session:{sid}",
        "type": "session",
        "tree_id": TREE_ID,
        "tree_version": version,
        "client_id": client,
        "owner_id": owner,
        "created_at": 0,
    }


def ev(sid: str, n: int, ts: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "_id": f"session:{sid}:ev:{n:026d}",
        "type": kind,
        "ts": ts,
        "device_id": "d",
        "user_id": "u1",
        **fields,
    }


def scenario() -> list[dict[str, Any]]:
    s1 = [
        header("S1"),
        ev("S1", 1, 10_000, "answered", node_id="q1", answer="yes"),
        ev("S1", 2, 40_000, "answered", node_id="a1", answer="done"),
        ev("S1", 3, 50_000, "completed"),
        ev("S1", 4, 45_000, "note", node_id="a1", note_id="n", text="ignored by analytics"),
    ]
    s2 = [
        header("S2"),
        ev("S2", 1, 5_000, "answered", node_id="q1", answer="yes"),
        ev("S2", 2, 6_000, "back"),
        ev("S2", 3, 20_000, "answered", node_id="q1", answer="no"),
        ev("S2", 4, 30_000, "completed"),
    ]
    s3 = [
        header("S3"),
        ev("S3", 1, 2_000, "answered", node_id="q1", answer="yes"),
        ev("S3", 2, 3_000, "custom_step", node_id="a1", text="Rebooted", answer="done"),
        ev("S3", 3, 4_000, "abandoned"),
    ]
    s4 = [header("S4", owner="u2", client="c2"), ev("S4", 1, 1_000, "answered", node_id="q1", answer="yes")]
    return s1 + s2 + s3 + s4


EXPECTED = {
    "sessions": 4,
    "completed": 2,
    "abandoned": 1,
    "in_progress": 1,
    "outcomes": {"resolved": 1, "escalated": 1, "unresolved": 0},
    # nearest rank over {30000, 50000}: p50 is the first value, p90 the second
    "duration_ms": {"p50": 30_000, "p90": 50_000},
    "nodes": {
        # S1, S2 twice (answered yes, stepped back, answered no), S3, S4
        "q1": {
            "visits": 5,
            "answers": {"no": 1, "yes": 4},
            "drop_offs": 0,
            "median_ms": 5_000,  # of 10000, 5000, 14000 (6000 -> 20000), 2000, 1000
            "back_steps": 1,
            "custom_steps": 0,
        },
        # answered in S1; S3 abandoned there; S4 stands there, idle past the threshold
        "a1": {
            "visits": 3,
            "answers": {"done": 1},
            "drop_offs": 2,
            "median_ms": 30_000,
            "back_steps": 0,
            "custom_steps": 1,
        },
        "r1": {
            "visits": 1,
            "answers": {},
            "drop_offs": 0,
            "median_ms": None,
            "back_steps": 0,
            "custom_steps": 0,
        },
        "r2": {
            "visits": 1,
            "answers": {},
            "drop_offs": 0,
            "median_ms": None,
            "back_steps": 0,
            "custom_steps": 0,
        },
    },
    "paths": [
        {"resolution": "r1", "nodes": ["q1", "a1", "r1"], "count": 1},
        {"resolution": "r2", "nodes": ["q1", "r2"], "count": 1},
    ],
    "custom_steps": [{"node_id": "a1", "count": 1}],
}


def incremental(docs: list[dict[str, Any]]) -> Rollup:
    state = Rollup()
    for doc in docs:
        state = apply(state, doc, trees)
    return state


def test_fixed_scenario_matches_hand_computed_figures() -> None:
    state = incremental(scenario())
    assert (
        figures(select(state.buckets, tree_id=TREE_ID), now_ms=1_000 + IDLE_MS + 1, idle_ms=IDLE_MS)
        == EXPECTED
    )


def test_in_progress_session_is_no_drop_off_before_the_idle_threshold() -> None:
    state = incremental(scenario())
    got = figures(select(state.buckets, tree_id=TREE_ID), now_ms=1_000 + IDLE_MS, idle_ms=IDLE_MS)
    assert got["nodes"]["a1"]["drop_offs"] == 1


def test_late_reversed_and_duplicated_arrival_gives_the_same_figures() -> None:
    docs = scenario()
    state = incremental(list(reversed(docs)) + docs[:7])
    assert figures(select(state.buckets), now_ms=1_000 + IDLE_MS + 1, idle_ms=IDLE_MS) == EXPECTED


def test_filters_select_engineer_and_client() -> None:
    state = incremental(scenario())
    mine = figures(select(state.buckets, engineer="u2"), now_ms=0, idle_ms=IDLE_MS)
    assert (mine["sessions"], mine["in_progress"], mine["nodes"]["q1"]["visits"]) == (1, 1, 1)
    assert figures(select(state.buckets, client_id="c1"), now_ms=0, idle_ms=IDLE_MS)["sessions"] == 3
    assert figures(select(state.buckets, version=2), now_ms=0, idle_ms=IDLE_MS)["sessions"] == 0


def test_a_late_event_before_completion_moves_the_session_out_of_its_old_figures() -> None:
    # S4's device was offline: its answer at a1 and completion arrive after it was counted in progress.
    state = incremental(scenario())
    apply(state, ev("S4", 3, 9_000, "completed"), trees)
    apply(state, ev("S4", 2, 8_000, "answered", node_id="a1", answer="failed"), trees)
    got = figures(select(state.buckets, engineer="u2"), now_ms=10**12, idle_ms=IDLE_MS)
    assert (got["completed"], got["in_progress"], got["outcomes"]["escalated"]) == (1, 0, 1)
    assert got["nodes"]["a1"]["drop_offs"] == 0 and got["duration_ms"] == {"p50": 9_000, "p90": 9_000}


# Random streams: a few sessions over TREE, events of every counted kind with random nodes,
# answers and clocks (including ties, answers that lose, backs with nothing to undo).
_EVENT = st.one_of(
    st.tuples(
        st.just("answered"),
        st.sampled_from(["q1", "a1", "r1"]),
        st.sampled_from(["yes", "no", "done", "failed", "skipped"]),
    ),
    st.tuples(st.just("back"), st.none(), st.none()),
    st.tuples(st.just("custom_step"), st.sampled_from(["q1", "a1"]), st.sampled_from(["done", "failed"])),
    st.tuples(st.sampled_from(["completed", "abandoned", "reopened"]), st.none(), st.none()),
    st.tuples(st.just("note"), st.just("q1"), st.none()),
)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    docs: list[dict[str, Any]] = []
    for s in range(draw(st.integers(1, 4))):
        sid = f"S{s}"
        docs.append(
            header(sid, owner=draw(st.sampled_from(["u1", "u2"])), version=draw(st.sampled_from([1, 2])))
        )
        for n, (kind, node_id, answer) in enumerate(draw(st.lists(_EVENT, max_size=12))):
            fields: dict[str, Any] = {}
            if node_id is not None:
                fields["node_id"] = node_id
            if kind == "answered":
                fields["answer"] = answer
            if kind == "custom_step":
                fields.update(answer=answer, text="x")
            if kind == "note":
                fields.update(note_id="n", text="t")
            e = ev(sid, n, draw(st.integers(0, 20)) * 1_000, kind, **fields)
            e["device_id"] = draw(st.sampled_from(["a", "b"]))
            docs.append(e)
    arrival = draw(st.permutations(docs))
    repeats = draw(st.lists(st.sampled_from(docs), max_size=6)) if docs else []
    mixed = list(arrival)
    for r in repeats:
        mixed.insert(draw(st.integers(0, len(mixed))), r)
    return docs, mixed


@settings(max_examples=150)
@given(streams())
def test_incremental_in_any_arrival_order_with_duplicates_equals_rebuild(
    case: tuple[list[Any], list[Any]],
) -> None:
    docs, arrival = case
    built = rebuild(docs, trees)
    folded = incremental(arrival)
    assert folded.buckets == built.buckets
    assert {sid: r.facts for sid, r in folded.sessions.items()} == {
        sid: r.facts for sid, r in built.sessions.items()
    }
    for now in (0, 10**6):
        assert figures(select(folded.buckets), now_ms=now, idle_ms=IDLE_MS) == figures(
            select(built.buckets), now_ms=now, idle_ms=IDLE_MS
        )
    # The index's rows, fed the same arrival order through the feed handler, sum to the same figures.
    assert stored_aggregate(arrival) == select(built.buckets)


def stored_aggregate(arrival: list[dict[str, Any]]) -> Aggregate:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(SCHEMA)
    follower = SessionsFollower(trees)
    for i, doc in enumerate(arrival):
        follower(conn, {"id": doc["_id"], "doc": doc})
        if i % 3 == 2:  # batches of three changes, and a last partial one
            follower.end_batch(conn)
    follower.end_batch(conn)
    agg = Aggregate()
    for name, key, n in conn.execute("SELECT name, key, SUM(n) FROM ins_counts GROUP BY name, key"):
        agg.add_row(name, key, n)
    assert conn.execute("SELECT COUNT(*) FROM ins_counts WHERE n <= 0").fetchone() == (0,)
    # The overview's three tables hold exactly the status and outcome rows of ins_counts, summed
    # their way, and no row left at 0 by a session that moved on.
    for table, group in (
        ("ins_overview", "engineer, tree_id"),
        ("ins_overview_trees", "tree_id"),
        ("ins_overview_engineers", "engineer"),
    ):
        expected = conn.execute(
            f"SELECT {group}, day, name, key, SUM(n) FROM ins_counts WHERE name IN ('statuses', 'outcomes') "
            f"GROUP BY {group}, day, name, key HAVING SUM(n) != 0 ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
        assert conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4, 5").fetchall() == expected, table
    return agg


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["tree:a", "tree:b", "tree:c"]),
            st.integers(min_value=0, max_value=3),  # day
            st.integers(min_value=0, max_value=50) | st.integers(min_value=0, max_value=10**9),  # ms
            st.integers(min_value=1, max_value=4),  # sessions with that duration
        ),
        max_size=60,
    )
)
@settings(max_examples=80, deadline=None)
def test_the_overviews_sql_percentiles_are_the_rollups_nearest_rank_ones(rows):
    # The overview reads p50/p90 from the stored durations (one row per completed session) in
    # SQL; they must be exactly `rollup.percentile` of the same durations, ties and all, with
    # and without a date range.
    from collections import Counter

    from api.insights.rollup import percentile
    from api.insights.service import _percentiles

    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)

    class Index:
        def query(self, sql, params=(), catch_up=True):
            cur = conn.execute(sql, params)
            return [dict(zip([c[0] for c in cur.description], r, strict=True)) for r in cur.fetchall()]

    expected: dict[str, Counter[int]] = {}
    recent: dict[str, Counter[int]] = {}
    for i, (tree, day, ms, n) in enumerate(rows):
        for k in range(n):
            conn.execute("INSERT INTO ins_durations VALUES (?,?,?,?,?)", (f"s{i}.{k}", tree, "e", day, ms))
        expected.setdefault(tree, Counter())[ms] += n
        if day >= 2:
            recent.setdefault(tree, Counter())[ms] += n
    every = _percentiles(Index(), "tree_id", "1", ())
    assert every == {t: (percentile(c, 0.5), percentile(c, 0.9)) for t, c in expected.items()}
    since = _percentiles(Index(), "tree_id", "day >= ?", (2,))
    assert since == {t: (percentile(c, 0.5), percentile(c, 0.9)) for t, c in recent.items()}
