"""The delivery log's retention removes finished messages past the period, nothing queued."""

from __future__ import annotations

from api.webhooks import repository as repo
from api.webhooks.retention import prune_messages
from sync.embedded import EmbeddedStore

DAY = 86_400_000


def test_finished_messages_past_the_period_go_and_queued_ones_stay(tmp_path):
    store = EmbeddedStore(tmp_path)
    db = repo.ensure_db(store, "tenant1")
    now = 1_800_000_000_000
    rows = {
        "old-delivered": ("delivered", now - 40 * DAY),
        "old-failed": ("failed", now - 40 * DAY),
        "old-pending": ("pending", now - 40 * DAY),
        "old-sending": ("sending", now - 40 * DAY),
        "new-delivered": ("delivered", now - DAY),
    }
    db.bulk_docs(
        [{"_id": repo.msg_doc_id("w1", k), "status": s, "created_ms": at} for k, (s, at) in rows.items()]
        + [{"_id": repo.sub_doc_id("w1"), "type": "webhook"}]
    )
    assert prune_messages(store, "tenant1", now - 30 * DAY) == 2
    left = {r["id"] for r in db.all_docs()["rows"]}
    assert left == {repo.sub_doc_id("w1")} | {
        repo.msg_doc_id("w1", k) for k in ("old-pending", "old-sending", "new-delivered")
    }
    assert prune_messages(store, "nosuchtenant", now) == 0
    store.close()


def test_retention_is_a_daily_job_and_uses_the_setting(tmp_path):
    from api.core.context import AppContext
    from api.jobs.schedule import WEBHOOK_RETENTION_ID, jobs
    from api.settings import Settings

    ctx = AppContext.create(Settings(data_dir=tmp_path, secret_key="x" * 40, webhook_log_days=7))
    try:
        job = {j.id: j for j in jobs(ctx)}[WEBHOOK_RETENTION_ID]
        db = repo.ensure_db(ctx.store, "tenant1")
        db.put({"_id": repo.msg_doc_id("w1", "k"), "status": "delivered", "created_ms": 0})
        assert job.run() == {"removed": {"tenant1": 1}, "failed": []}
    finally:
        ctx.store.close()
