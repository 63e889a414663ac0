"""The freshness rules, pure: when a tree falls due for review, and when its sessions fail
more often than they did. No I/O; `service.py` feeds them what it read.

When a review falls due (`review_due`):
- `review_every_days` N on the published tree: N days after its latest publish or review.
- `review_by` (a fixed date): on that date, until a publish or review after it meets it;
  then, as for a tree without settings, the workspace's interval after that publish or review.
- neither: the workspace's `review_interval_days` after the latest publish or review (no date
  when the workspace turned the default off).
A tree is overdue once its due date has passed (the day after it).

When sessions fail more often (`failure_rise`): the failure share is escalated plus
unresolved over completed sessions. The recent window is the last 30 days, but starts no
earlier than the day of the tree's latest publish or review, so a fix is judged only on the
sessions that ran it; the baseline is the 90 days before the last 30. A tree is flagged when
both windows have at least `min_sessions` completed sessions and the recent share is at
least `rise_points` percentage points above the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

RECENT_DAYS = 30
BASELINE_DAYS = 90


@dataclass(frozen=True)
class Thresholds:
    """A workspace's freshness settings (tenant `settings`), with their defaults.

    180 days: twice a year is how often MSP vendors ship the releases that break runbooks.
    10 completed sessions per window: below that, one session moves the share by more than
    10 points, so chance alone would raise flags. 20 points: at least two more failures in
    every ten sessions than the baseline, a change an engineer would notice on the ground.
    """

    review_interval_days: int | None = 180
    failure_rise_points: int = 20
    failure_min_sessions: int = 10


@dataclass(frozen=True)
class Due:
    on: date
    reason: str  # why this date, in words


@dataclass(frozen=True)
class Window:
    completed: int
    failed: int

    @property
    def share(self) -> float:
        return self.failed / self.completed if self.completed else 0.0


def _day(iso_text: Any) -> date | None:
    """The UTC day of an ISO 8601 timestamp the server wrote (None when absent or garbled)."""
    if not isinstance(iso_text, str) or len(iso_text) < 10:
        return None
    try:
        return date.fromisoformat(iso_text[:10])
    except ValueError:
        return None


def last_touch(meta: dict[str, Any]) -> tuple[date | None, str]:
    """The day of the tree's latest publish or review, and which it was."""
    published, reviewed = _day(meta.get("published_at")), _day(meta.get("reviewed_at"))
    if reviewed is not None and (published is None or reviewed >= published):
        return reviewed, "reviewed"
    return published, "published"


def review_due(tree: dict[str, Any], meta: dict[str, Any], thresholds: Thresholds) -> Due | None:
    """When the published `tree` (with its `treemeta:` sidecar `meta`) is due for review."""
    touched, how = last_touch(meta)
    if touched is None:
        return None  # never published: nothing in use to review
    every = tree.get("review_every_days")
    if isinstance(every, int) and not isinstance(every, bool) and every > 0:
        return Due(
            touched + timedelta(days=every), f"every {every} days since it was last {how} on {touched}"
        )
    fixed = _day(tree.get("review_by")) if isinstance(tree.get("review_by"), str) else None
    if fixed is not None and touched <= fixed:
        return Due(fixed, "the review date set on the tree")
    days = thresholds.review_interval_days
    if not days:
        return None
    return Due(
        touched + timedelta(days=days),
        f"the workspace reviews trees every {days} days; it was last {how} on {touched}",
    )


def overdue_days(due: Due, today: date) -> int:
    """Days past the due date (0 or less: not overdue yet)."""
    return (today - due.on).days


def stale_reason(due: Due) -> str:
    """The flag's reason; how many days overdue it is now, the listing adds."""
    return f"Review was due on {due.on} ({due.reason})."


def windows(today: date, touched: date | None) -> tuple[tuple[date, date], tuple[date, date]]:
    """(first, last) day of the recent window and of the baseline, inclusive."""
    recent_from = today - timedelta(days=RECENT_DAYS - 1)
    if touched is not None and touched > recent_from:
        recent_from = touched
    base_to = today - timedelta(days=RECENT_DAYS)
    return (recent_from, today), (base_to - timedelta(days=BASELINE_DAYS - 1), base_to)


def _share(w: Window) -> str:
    return f"{round(100 * w.share)}%"


def failure_rise(recent: Window, baseline: Window, thresholds: Thresholds, recent_days: int) -> str | None:
    """The flag's reason when sessions now fail markedly more often, else None."""
    least = thresholds.failure_min_sessions
    if recent.completed < least or baseline.completed < least:
        return None
    # recent.share - baseline.share >= points / 100, in whole numbers (no float rounding at the edge)
    rise = 100 * (recent.failed * baseline.completed - baseline.failed * recent.completed)
    if rise < thresholds.failure_rise_points * recent.completed * baseline.completed:
        return None
    span = f"the last {recent_days} day{'' if recent_days == 1 else 's'}"
    return (
        f"Failed {recent.failed} of {recent.completed} sessions in {span} ({_share(recent)}), "
        f"{baseline.failed} of {baseline.completed} in the {BASELINE_DAYS} days before ({_share(baseline)})."
    )
