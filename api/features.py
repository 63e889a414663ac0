"""The one list of features the application mounts (routers and start-up hooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .apikeys.endpoints import router as apikeys_router
from .attachments.endpoints import router as attachments_router
from .audit.endpoints import router as audit_router
from .auth.endpoints import router as auth_router
from .backups.endpoints import router as backups_router
from .brand.endpoints import router as brand_router
from .clients.endpoints import router as clients_router
from .core.context import AppContext
from .core.workers import CallbackWorker
from .exports.endpoints import router as exports_router
from .freshness.endpoints import router as freshness_router
from .health import router as health_router
from .insights.endpoints import router as insights_router
from .integrations.endpoints import router as integrations_router
from .mail.endpoints import router as mail_router
from .publishreview.endpoints import router as publish_reviews_router
from .ratelimit.deps import install as install_rate_limits
from .rmm.endpoints import router as rmm_router
from .scripts.endpoints import router as scripts_router
from .sessions import endpoints as sessions_endpoints
from .sessions.endpoints import router as sessions_router
from .share.endpoints import router as share_router
from .sso.endpoints import router as sso_router
from .starter.endpoints import router as starter_router
from .teams.endpoints import router as teams_router
from .tenants.endpoints import router as tenants_router
from .trees.endpoints import router as trees_router
from .usage.endpoints import router as usage_router
from .users.endpoints import router as users_router
from .webhooks.endpoints import router as webhooks_router

if TYPE_CHECKING:
    from .app import BranchlineApp
    from .jobs.runner import JobRunner


def install(app: BranchlineApp) -> None:
    # FastAPI tries the routers in this order, each route in turn (a few microseconds each):
    # the routes an engineer's every step uses (sessions and their attachments) come first,
    # so a step's request is not matched against the ~40 admin and sign-in routes before
    # them. No earlier router has a path these could shadow (tests/test_routes_order.py).
    for router in (
        sessions_router,
        attachments_router,
        health_router,
        auth_router,
        sso_router,
        users_router,
        apikeys_router,
        tenants_router,
        usage_router,
        brand_router,
        freshness_router,  # before trees: /trees/attention is not a tree id
        trees_router,
        teams_router,
        publish_reviews_router,
        starter_router,
        scripts_router,
        clients_router,
        exports_router,
        share_router,
        audit_router,
        backups_router,
        insights_router,
        webhooks_router,
        mail_router,
        integrations_router,
        rmm_router,
    ):
        app.include_router(router)
    # The busiest route, answered without the framework's per-request machinery
    # (api/core/direct.py); its FastAPI declaration above still describes it.
    app.direct_routes.add(
        "POST", sessions_endpoints.POST_EVENT_PATH, sessions_endpoints.post_event_direct, every_step=True
    )


class JobScheduler:
    """The scheduled jobs' runner (`api/jobs/schedule.py`) as a worker of the app."""

    name = "job-scheduler"

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.runner: JobRunner | None = None

    def start(self) -> None:
        from .jobs.schedule import start_scheduler  # noqa: PLC0415

        if self.runner is None:
            self.runner = start_scheduler(self.ctx)

    def stop(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.stop()


def install_hooks(ctx: AppContext) -> None:
    """The features' parts of the context: hooks, index parts, the sync policy, workers.

    Runs once per context (the command line makes one and then the app with it); the app
    checks what it needs with `AppContext.require_parts` afterwards.
    """
    if ctx.features_installed:
        return
    ctx.features_installed = True
    from .attachments.service import install as install_attachments  # noqa: PLC0415
    from .core.derived import register_part  # noqa: PLC0415
    from .exports.formats import close_image_pool, configure_image_cache  # noqa: PLC0415
    from .exports.sandbox import close_pool  # noqa: PLC0415
    from .insights.service import index_part as insights_part  # noqa: PLC0415
    from .integrations.worker import PsaWorker  # noqa: PLC0415
    from .jobs.schedule import instance_id  # noqa: PLC0415
    from .mail.worker import MailWorker  # noqa: PLC0415
    from .rmm.worker import RmmWorker  # noqa: PLC0415
    from .scripts.starter import on_tenant_created as load_starter_scripts  # noqa: PLC0415
    from .scripts.sync_rules import ScriptsRules  # noqa: PLC0415
    from .sessions.service import install as install_sessions  # noqa: PLC0415
    from .starter.service import on_tenant_created as load_starter  # noqa: PLC0415
    from .sync_mount import register_sync_rules  # noqa: PLC0415
    from .trees import library, suggestions, version_cache  # noqa: PLC0415
    from .trees.sync_rules import TreesRules  # noqa: PLC0415
    from .usage.service import install as install_usage  # noqa: PLC0415
    from .webhooks.worker import WebhookWorker  # noqa: PLC0415

    ctx.tenant_created_hooks.append(load_starter)
    ctx.tenant_created_hooks.append(load_starter_scripts)
    install_rate_limits(ctx)
    register_part(ctx, library.index_part())
    register_part(ctx, suggestions.index_part())
    register_part(ctx, insights_part(ctx))
    register_sync_rules(ctx, TreesRules(ctx))  # the trees database over /sync
    ctx.tree_versions = version_cache.make(ctx.store)  # the versions steps are folded over
    register_sync_rules(ctx, ScriptsRules())  # the scripts database: published copies to every role
    install_sessions(ctx)  # the sessions listing part, its /sync rules, the header merger
    install_attachments(ctx)  # the reader exports embed images with
    install_usage(ctx)  # the operator's per-tenant quotas, the usage page's attachment tally
    configure_image_cache(ctx.settings.data_dir / "cache" / "pdf-images")
    ctx.workers.add(JobScheduler(ctx))
    ctx.webhooks = WebhookWorker(ctx, instance_id())
    ctx.workers.add(ctx.webhooks)  # fills the outbox from the feeds and delivers
    ctx.mail = MailWorker(ctx, instance_id())
    ctx.workers.add(ctx.mail)  # sends the e-mail outbox (invitations, reviews)
    ctx.psa = PsaWorker(ctx, instance_id())
    ctx.workers.add(ctx.psa)  # queues auto-pushes from the feeds and pushes to the PSA
    ctx.rmm = RmmWorker(ctx, instance_id())
    ctx.workers.add(ctx.rmm)  # submits script runs to the RMM, polls them, records their results
    # Made on first use; only stopped here.
    ctx.workers.add(CallbackWorker("template-sandbox", lambda: None, lambda: close_pool(ctx)))
    ctx.workers.add(CallbackWorker("pdf-image-pool", lambda: None, close_image_pool))
