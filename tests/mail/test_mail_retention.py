"""The e-mail log's retention: a daily job removes sent and failed messages past
BRANCHLINE_MAIL_LOG_DAYS, never one still waiting to be sent."""

from __future__ import annotations

from api.core.context import AppContext
from api.jobs.schedule import MAIL_RETENTION_ID, jobs
from api.mail import repository as repo
from api.settings import Settings

DAY = 86_400_000


def test_finished_messages_past_the_period_go_and_waiting_ones_stay(tmp_path):
    ctx = AppContext.create(Settings(data_dir=tmp_path, secret_key="x" * 40, mail_log_days=7))
    try:
        from api.core.timeutil import now_ms

        now = now_ms()
        db = repo.ensure_db(ctx.store, "tenant1")
        rows = {
            "old-delivered": ("delivered", now - 8 * DAY),
            "old-failed": ("failed", now - 8 * DAY),
            "old-pending": ("pending", now - 8 * DAY),
            "old-sending": ("sending", now - 8 * DAY),
            "new-delivered": ("delivered", now - DAY),
        }
        db.bulk_docs(
            [{"_id": repo.msg_doc_id(k), "status": s, "created_ms": at} for k, (s, at) in rows.items()]
        )
        job = {j.id: j for j in jobs(ctx)}[MAIL_RETENTION_ID]
        assert job.run() == {"removed": {"tenant1": 2}, "failed": []}
        left = {r["id"] for r in db.all_docs()["rows"]}
        assert left == {repo.msg_doc_id(k) for k in ("old-pending", "old-sending", "new-delivered")}
    finally:
        ctx.store.close()
