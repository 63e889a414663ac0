"""The pure rules of a script run: who may start one, who may approve it, what an attempt's
failure makes of it, and how its output is cut to the limits."""

from __future__ import annotations

from typing import Any

from ..core.timeutil import iso

RISKS = ("low", "medium", "high")
TRUSTED_ROLES = ("owner", "admin", "author")
RUN_ROLES = ("owner", "admin", "author", "engineer")
EXCERPT_CHARS = 2000
ATTEMPTS_KEPT = 10


def needs_approval(risk: str, role: str) -> bool:
    """Engineers run low-risk scripts themselves; a medium or high one needs an author, admin
    or owner, either as the one who asks or as a second person who approves."""
    return risk != "low" and role not in TRUSTED_ROLES


def approval_problem(run: dict[str, Any], approver_id: str, approver_role: str) -> tuple[str, str] | None:
    """Why this person may not approve this run, as (`conflict` when the run is not waiting,
    else `forbidden`, the reason); None when they may."""
    if run.get("status") != "awaiting_approval":
        return "conflict", "This run is not waiting for approval (it was approved, or it has run)."
    # The requester first: an engineer promoted since asking still needs a second person.
    if approver_id == (run.get("requested_by") or {}).get("id"):
        return "forbidden", "A second person must approve: you asked for this run yourself."
    if approver_role not in TRUSTED_ROLES:
        return "forbidden", "Only an author, admin or owner approves a medium or high-risk script run."
    return None


AT_START = "start"
"""`at_step` of a request made at the first step, before anything was answered."""


def step_marker(state: dict[str, Any]) -> str:
    """Where a session stands, as a device sends it with a run (`at_step`): the event id of the
    latest effective step, or AT_START. A back, or a new answer after it, changes it, even
    when the session comes back to the same node; a custom step or a note does not."""
    path = state.get("path") or []
    return str(path[-1]["event_id"]) if path else AT_START


def stale_problem(state: dict[str, Any], node_id: str, at_step: str) -> str | None:
    """Why a run asked for at `node_id` when the session stood at `at_step` no longer fits
    the session (it moved past the step, went back, or ended); None when it still does."""
    if state.get("status") != "in_progress":
        return f"The session is {state.get('status', 'not running').replace('_', ' ')}: the run was not sent."
    if state.get("current_node") != node_id or step_marker(state) != at_step:
        return (
            f"The session is no longer at the step this run was asked for ({node_id}); it moved on "
            "or went back, so the run was not sent. Ask for it again at the step if it is still needed."
        )
    return None


def public_parameters(parameters: dict[str, Any], secret_names: set[str]) -> dict[str, Any]:
    """The parameters as they may be shown and kept in the session: secrets left out."""
    return {k: v for k, v in sorted(parameters.items()) if k not in secret_names}


def cut_output(data: bytes, limit: int) -> tuple[str, bool]:
    """The output as text, at most `limit` bytes of it (on a character boundary), and whether
    it was cut; a cut output ends with a line saying so."""
    if len(data) <= limit:
        return data.decode("utf-8", errors="replace"), False
    text = data[:limit].decode("utf-8", errors="ignore")
    return f"{text}\n[Branchline: the output was cut at {limit} bytes; the RMM keeps all of it.]", True


def excerpt(text: str) -> str:
    """What the `script_run` event carries: the output's last lines (where a script reports its
    result), at most EXCERPT_CHARS; the whole output is the run's attachment."""
    if len(text) <= EXCERPT_CHARS:
        return text
    return "[...]\n" + text[-(EXCERPT_CHARS - 6) :]


def after_failure(
    run: dict[str, Any], error: str, *, retry_after: float | None, delays: tuple[float, ...], now: int
) -> dict[str, Any] | None:
    """The run due again after a passing failure (a new dict), or None when the retries are
    spent (the caller then ends it as failed)."""
    retries = int(run.get("attempt_count", 0))
    if retries >= len(delays):
        return None
    out = dict(run)
    out.update(
        status="pending",
        claim=None,
        last_error=error,
        attempt_count=retries + 1,
        next_attempt_ms=now + int(max(delays[retries], retry_after or 0.0) * 1000),
        attempts=[*run.get("attempts", []), {"at": iso(now), "ok": False, "error": error}][-ATTEMPTS_KEPT:],
    )
    return out
