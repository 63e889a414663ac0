"""Spent SSO records are swept: abandoned sign-ins, untraded codes and expired assertion ids
go, live ones stay (anyone may start a sign-in, so the abandoned ones must not pile up)."""

from __future__ import annotations

from api.core.context import AppContext
from api.core.docs import get_or_none, save
from api.settings import Settings
from api.sso.sweep import sweep_spent_sso_records


def test_expired_sso_records_are_deleted_and_live_ones_kept(tmp_path):
    ctx = AppContext.create(Settings(data_dir=tmp_path, secret_key="x" * 40))
    now = 1_900_000_000.0
    docs = {
        "ssoflow:old": ("sso_flow", now - 1),
        "ssoflow:live": ("sso_flow", now + 500),
        "ssocode:old": ("sso_code", now - 60),
        "ssoassert:old": ("sso_assertion", now - 10),
        "ssoassert:live": ("sso_assertion", now + 10),
    }
    for docid, (kind, expires) in docs.items():
        save(ctx.system, {"_id": docid, "type": kind, "expires_at": expires})
    save(ctx.system, {"_id": "ssoslug:acme", "type": "sso_claim", "tenant_id": "t1"})

    counts = sweep_spent_sso_records(ctx.system, now=now)

    assert counts["deleted"] == 3
    left = {d for d in docs if get_or_none(ctx.system, d) is not None}
    assert left == {"ssoflow:live", "ssoassert:live"}
    assert get_or_none(ctx.system, "ssoslug:acme") is not None
