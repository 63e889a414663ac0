"""The pure rules of script runs (api/rmm/rules.py)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from api.rmm import rules


def test_engineers_need_approval_above_low_risk_and_trusted_roles_never_do():
    assert [rules.needs_approval(r, "engineer") for r in rules.RISKS] == [False, True, True]
    for role in ("author", "admin", "owner"):
        assert not any(rules.needs_approval(r, role) for r in rules.RISKS)


def test_a_requester_promoted_since_asking_still_cannot_approve_their_own_run():
    run = {"status": "awaiting_approval", "requested_by": {"id": "u1", "role": "engineer"}}
    assert rules.approval_problem(run, "u1", "admin")[0] == "forbidden"
    assert "second person" in rules.approval_problem(run, "u1", "admin")[1]
    assert rules.approval_problem(run, "u2", "author") is None
    assert rules.approval_problem({**run, "status": "pending"}, "u2", "admin")[0] == "conflict"


def test_secret_parameters_are_left_out_of_what_is_kept():
    assert rules.public_parameters({"host": "fs01", "password": "hunter2"}, {"password"}) == {"host": "fs01"}


@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=2000))
def test_an_output_is_cut_on_a_character_boundary_to_at_most_the_limit(data, limit):
    text, cut = rules.cut_output(data, limit)
    assert cut == (len(data) > limit)
    if cut:
        kept, note = text.rsplit("\n[Branchline:", 1)
        assert len(kept.encode()) <= limit and note.endswith("the RMM keeps all of it.]")
        assert data.decode("utf-8", errors="ignore").startswith(kept) or "\ufffd" not in kept


def test_the_excerpt_keeps_the_end_of_a_long_output():
    text = "".join(f"{i}\n" for i in range(5000))
    out = rules.excerpt(text)
    assert len(out) == rules.EXCERPT_CHARS and out.startswith("[...]\n") and out.endswith("4999\n")
    assert rules.excerpt("short") == "short"


def test_a_passing_failure_waits_by_the_schedule_or_retry_after_and_ends_when_it_is_spent():
    run = {"attempt_count": 0, "attempts": [], "status": "submitting"}
    again = rules.after_failure(run, "503", retry_after=None, delays=(1.0, 2.0), now=1000)
    assert again["status"] == "pending" and again["next_attempt_ms"] == 2000 and again["attempt_count"] == 1
    later = rules.after_failure(again, "429", retry_after=30, delays=(1.0, 2.0), now=5000)
    assert later["next_attempt_ms"] == 35_000
    assert rules.after_failure(later, "503", retry_after=None, delays=(1.0, 2.0), now=9000) is None
