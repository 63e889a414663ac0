"""The RMM worker of one instance: submits due script runs, polls them, records their result.

It wakes on every write to a tenant's `integrations` database (the store's listener) and
looks at every tenant with one every few seconds. Each due run is claimed by writing it with
a claim (this instance, until when) and the `_rev` it read, so of two instances one wins.

A script must never run twice, so submitting is recorded in two steps: the intent
(`submit_started_at`) before the RMM is called, the job reference after. A run found with
the intent but no reference (this instance died in between, or the RMM's answer was lost)
is not submitted again: the connector looks the job up by its marker where the RMM allows
it, and otherwise the run ends `in_doubt`, telling the engineer to look in the RMM. An
error the RMM answered (429, 5xx) or a connection that never opened means nothing started:
the intent is cleared and the run retried on the schedule.

While a job runs it is polled every `BRANCHLINE_RMM_POLL_SECONDS`; past the script's timeout
the run ends `timed_out`. The output is cut to the connector's limit. The result becomes
the session's `script_run` event and the full output its attachment (`recording.py`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sync.errors import BranchlineError, Conflict
from sync.naming import logical_of, tenant_of

from ..core.docs import get_or_none, save, tenants_with_db
from ..core.sealing import SealBroken
from ..core.timeutil import iso, now_ms
from ..core.workers import WokenThread
from ..webhooks import delivery
from ..webhooks.ssrf import Resolver, system_resolver
from . import recording, repository as repo, rules, script_source, service
from .connector import JobRequest, RmmConnector, RmmError

if TYPE_CHECKING:
    from ..core.context import AppContext

log = logging.getLogger("branchline.rmm")
RESCAN_SECONDS = 5.0


def marker(run_id: str) -> str:
    return f"[Branchline run {run_id}]"


class ClaimLost(Exception):
    """The run changed under this instance's claim; this attempt stops and records nothing."""


class RmmWorker(WokenThread):
    thread_name = "branchline-rmm"
    name = "rmm"

    def __init__(self, ctx: AppContext, holder: str) -> None:
        self.ctx = ctx
        self.holder = holder
        settings = ctx.settings
        self.delays = settings.rmm_retry_delays()
        self.poll_ms = int(settings.rmm_poll_seconds * 1000)
        # A claim outlives one attempt's calls (a handful, each within the HTTP timeout).
        self.claim_ms = int((4 * settings.rmm_http_timeout_seconds + 5) * 1000)
        self.resolver: Resolver = system_resolver
        self.client = delivery.new_client(settings.rmm_http_timeout_seconds, 4)
        self._init_thread(ctx.store)

    def _on_write(self, db_name: str, _seq: Any = None) -> None:
        if tenant_of(db_name) is not None and logical_of(db_name) == repo.DB_NAME:
            self._wake.set()

    def nudge(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            next_due: int | None = None
            for tenant in tenants_with_db(self.ctx.store, repo.DB_NAME):
                if self._stop.is_set():
                    return
                try:
                    due = self.run_tenant(tenant)
                except Exception:  # one tenant's failure never stops the others
                    log.exception("rmm: tenant %s failed; trying again shortly", tenant)
                    due = now_ms() + 2000
                if due is not None:
                    next_due = due if next_due is None else min(next_due, due)
            wait = (
                RESCAN_SECONDS
                if next_due is None
                else max(0.0, min(RESCAN_SECONDS, (next_due - now_ms()) / 1000))
            )
            self._wake.wait(wait)

    def run_tenant(self, tenant: str) -> int | None:
        """Work on the tenant's due runs; when the next one is due (ms), if any."""
        db = repo.open_db(self.ctx.store, tenant)
        if db is None:
            return None
        next_due: int | None = None
        for run in repo.runs(db):
            due = _due_at(run)
            if due is None:
                continue
            now = now_ms()
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            claimed = {**run, "claim": {"by": self.holder, "until_ms": now + self.claim_ms}}
            try:
                claimed = save(db, claimed)
            except Conflict:
                continue  # another instance (or an approval) wrote it first
            try:
                self._attempt(tenant, db, claimed)
            except ClaimLost:
                log.warning("rmm: run %s changed while %s worked on it", run["_id"], self.holder)
            next_due = now_ms() if next_due is None else min(next_due, now_ms() + self.poll_ms)
        return next_due

    def _record(self, db: Any, run: dict[str, Any]) -> dict[str, Any]:
        try:
            return save(db, run)
        except Conflict:
            raise ClaimLost from None

    def _latest(self, db: Any, run: dict[str, Any]) -> dict[str, Any]:
        """The run as last recorded, while this instance's claim holds: a failure is written
        over what the attempt recorded so far (its intent to submit, its job reference)."""
        current = get_or_none(db, run["_id"])
        if current is None or (current.get("claim") or {}).get("by") != self.holder:
            raise ClaimLost
        return current

    def _attempt(self, tenant: str, db: Any, run: dict[str, Any]) -> None:
        cfg = repo.config(db, run["system"])
        if cfg is None:
            self._finish(tenant, db, run, "failed", error=f"{run['system']} is no longer configured.")
            return
        try:
            connector = service.build(self.ctx, tenant, cfg, client=self.client, resolver=self.resolver)
            if run.get("job_ref") is None:
                run = self._submit(tenant, db, run, connector)
            self._poll(tenant, db, run, connector)
        except ClaimLost:
            raise
        except RmmError as exc:
            self._failed(tenant, db, run, exc)
        except (SealBroken, BranchlineError) as exc:
            self._finish(tenant, db, run, "failed", error=str(exc))
        except Exception as exc:
            log.exception("rmm: run %s failed", run["_id"])
            self._finish(tenant, db, run, "failed", error=f"internal error: {type(exc).__name__}")

    def _submit(self, tenant: str, db: Any, run: dict[str, Any], connector: RmmConnector) -> dict[str, Any]:
        device = run["target"]["device_id"]
        tag = marker(run["run_id"])
        ref = None
        if run.get("submit_started_at"):
            ref = connector.find(device, tag)  # an earlier attempt may have started it
        if ref is None:
            script = script_source.published_script(self.ctx, tenant, run["script_id"], run["script_version"])
            text = script_source.render(script, service.values_of(self.ctx, tenant, run))
            run = self._record(db, {**run, "status": "submitting", "submit_started_at": iso()})
            ref = connector.submit(device, JobRequest(tag, run["script_name"], text, run["timeout_seconds"]))
        now = now_ms()
        return self._record(
            db,
            {
                **run,
                "status": "running",
                "job_ref": ref,
                "submitted_at": iso(now),
                "deadline_ms": now + run["timeout_seconds"] * 1000,
            },
        )

    def _poll(self, tenant: str, db: Any, run: dict[str, Any], connector: RmmConnector) -> None:
        device, ref = run["target"]["device_id"], run["job_ref"]
        state = connector.state(device, ref)
        if not state.done:
            if now_ms() >= run["deadline_ms"]:
                self._finish(
                    tenant,
                    db,
                    run,
                    "timed_out",
                    error=f"The script did not finish within {run['timeout_seconds']} seconds; "
                    "it may still be running on the device.",
                )
                return
            self._record(db, {**run, "claim": None, "next_attempt_ms": now_ms() + self.poll_ms})
            return
        data = connector.output(device, ref, run["output_limit_bytes"])
        self._finish(
            tenant,
            db,
            run,
            "succeeded" if state.succeeded else "failed",
            exit_code=state.exit_code,
            output=data,
        )

    def _failed(self, tenant: str, db: Any, run: dict[str, Any], exc: RmmError) -> None:
        run = self._latest(db, run)
        if exc.kind == "in_doubt":
            self._finish(tenant, db, run, "in_doubt", error=str(exc))
            return
        if not exc.retryable:
            self._finish(tenant, db, run, "failed", error=str(exc))
            return
        service.write_status(
            self.ctx,
            tenant,
            run["system"],
            last_error={"at": iso(), "run_id": run["run_id"], "reason": str(exc)},
        )
        if run.get("job_ref") is not None:  # polling: the job runs on; look again until the deadline
            if now_ms() < run["deadline_ms"]:
                wait = max(self.poll_ms, int((exc.retry_after or 0) * 1000))
                self._record(
                    db, {**run, "claim": None, "last_error": str(exc), "next_attempt_ms": now_ms() + wait}
                )
            else:
                self._finish(tenant, db, run, "timed_out", error=str(exc))
            return
        # The RMM answered with an error, or was never reached: nothing started.
        cleared = {**run, "submit_started_at": None}
        again = rules.after_failure(
            cleared, str(exc), retry_after=exc.retry_after, delays=self.delays, now=now_ms()
        )
        if again is None:
            self._finish(tenant, db, cleared, "failed", error=str(exc))
        else:
            self._record(db, again)

    def _finish(
        self,
        tenant: str,
        db: Any,
        run: dict[str, Any],
        result: str,
        *,
        error: str | None = None,
        exit_code: int | None = None,
        output: bytes = b"",
    ) -> None:
        run = self._latest(db, run)
        text, truncated = rules.cut_output(output, int(run.get("output_limit_bytes") or 1_000_000))
        done = {
            **run,
            "status": "done",
            "result": result,
            "claim": None,
            "next_attempt_ms": None,
            "exit_code": exit_code,
            "output_bytes": len(output),
            "output_truncated": truncated,
            "last_error": error,
            "done_at": iso(),
        }
        recorded = recording.record_result(self.ctx, tenant, done, text, error)
        self._record(db, {**done, **recorded})
        at = {"at": iso(), "run_id": run["run_id"]}
        if result == "succeeded":
            service.write_status(
                self.ctx, tenant, run["system"], last_success={**at, "session_id": run["session_id"]}
            )
        else:
            service.write_status(
                self.ctx, tenant, run["system"], last_error={**at, "reason": error or f"the script {result}"}
            )
        _audit(
            self.ctx,
            tenant,
            "rmm.run_finished",
            run["session_id"],
            {
                "run_id": run["run_id"],
                "system": run["system"],
                "script_id": run["script_id"],
                "result": result,
                "exit_code": exit_code,
                "device_id": run["target"]["device_id"],
                "error": error,
            },
        )


def _due_at(run: dict[str, Any]) -> int | None:
    status = run.get("status")
    if status in ("pending", "running", "submitting"):
        claim = run.get("claim")
        if claim:
            return int(claim.get("until_ms") or 0)
        return int(run.get("next_attempt_ms") or 0)
    return None


def _audit(ctx: AppContext, tenant: str, action: str, sid: str, details: dict[str, Any]) -> None:
    from ..audit import service as audit  # noqa: PLC0415

    try:
        audit.record(ctx, None, action, "session", sid, tenant_id=tenant, details=details)
    except Exception:
        log.exception("rmm: the audit entry %s of tenant %s was not written", action, tenant)
