"""The freshness rules (api/freshness/rules.py), pure: due dates and the failure-rise test."""

from __future__ import annotations

from datetime import date

from api.freshness import rules

T = rules.Thresholds()
PUBLISHED = {"published_at": "2026-01-10T09:00:00Z"}


def test_interval_on_the_tree_counts_from_the_latest_publish_or_review():
    due = rules.review_due({"review_every_days": 30}, PUBLISHED, T)
    assert due and due.on == date(2026, 2, 9)
    assert due.reason == "every 30 days since it was last published on 2026-01-10"
    reviewed = {**PUBLISHED, "reviewed_at": "2026-03-01T10:00:00Z"}
    assert rules.review_due({"review_every_days": 30}, reviewed, T).on == date(2026, 3, 31)


def test_a_fixed_date_holds_until_a_publish_or_review_after_it_meets_it():
    tree = {"review_by": "2026-06-30"}
    assert rules.review_due(tree, PUBLISHED, T).on == date(2026, 6, 30)
    met = {**PUBLISHED, "reviewed_at": "2026-07-02T08:00:00Z"}
    due = rules.review_due(tree, met, T)
    assert due.on == date(2026, 12, 29)  # the workspace's 180 days after that review
    assert due.reason == "the workspace reviews trees every 180 days; it was last reviewed on 2026-07-02"


def test_the_workspace_default_applies_without_settings_and_can_be_off():
    assert rules.review_due({}, PUBLISHED, T).on == date(2026, 7, 9)
    assert rules.review_due({}, PUBLISHED, rules.Thresholds(review_interval_days=None)) is None
    assert rules.review_due({"review_every_days": 5}, {}, T) is None  # never published


def test_overdue_starts_the_day_after_the_due_date():
    due = rules.Due(date(2026, 6, 30), "x")
    assert rules.overdue_days(due, date(2026, 6, 30)) == 0
    assert rules.overdue_days(due, date(2026, 7, 1)) == 1


def test_windows_start_the_recent_one_at_the_latest_publish_or_review():
    today = date(2026, 5, 31)
    assert rules.windows(today, None) == ((date(2026, 5, 2), today), (date(2026, 2, 1), date(2026, 5, 1)))
    assert rules.windows(today, date(2026, 5, 20))[0] == (date(2026, 5, 20), today)
    assert rules.windows(today, date(2026, 4, 1))[0] == (date(2026, 5, 2), today)


def test_failure_rise_needs_both_minimums_and_the_points():
    w = rules.Window
    assert rules.failure_rise(w(20, 9), w(40, 3), T, 30) == (
        "Failed 9 of 20 sessions in the last 30 days (45%), 3 of 40 in the 90 days before (8%)."
    )
    assert rules.failure_rise(w(9, 9), w(40, 3), T, 30) is None  # too few recent sessions
    assert rules.failure_rise(w(20, 9), w(9, 0), T, 30) is None  # no baseline to compare with
    assert rules.failure_rise(w(10, 4), w(10, 2), T, 30) == (
        "Failed 4 of 10 sessions in the last 30 days (40%), 2 of 10 in the 90 days before (20%)."
    )  # exactly 20 points
    assert rules.failure_rise(w(10, 3), w(10, 2), T, 30) is None  # 10 points
    assert "in the last 1 day " in rules.failure_rise(w(10, 10), w(10, 0), T, 1)


def test_the_job_runs_nightly_at_three(tmp_path):
    from datetime import UTC, datetime

    from api.core.context import AppContext
    from api.jobs.runner import latest_slot
    from api.jobs.schedule import FRESHNESS_ID, jobs
    from api.settings import Settings

    ctx = AppContext.create(Settings(data_dir=tmp_path, secret_key="x" * 40))
    try:
        job = {j.id: j for j in jobs(ctx)}[FRESHNESS_ID]
        now = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
        assert latest_slot(job.trigger, now, job.grace) == datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
        assert job.run() == {"raised": {}, "failed": []}  # no tenant yet: nothing to do
    finally:
        ctx.store.close()
