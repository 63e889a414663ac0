"""The ConnectWise site URL is an admin's setting: loopback and private addresses are refused
unless BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true (this module's server keeps the default)."""

from __future__ import annotations


def test_a_loopback_site_url_is_refused_with_the_way_out(http, tenant, cw):
    r = http.put("/api/v1/integrations/connectwise", headers=tenant.headers, json=cw.config())
    assert r.status_code == 400
    reason = r.json()["reason"]
    assert reason.startswith("site_url is refused:") and "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true" in reason
    assert cw.requests == []
