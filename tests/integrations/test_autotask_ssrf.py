"""Autotask's addresses (the discovery host, the zone it names, the next-page links) are
refused when loopback or private unless BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true: this module's
server keeps the production default, and the loopback fake stands for a private target."""

from __future__ import annotations

from tests.conftest import wait_until
from tests.integrations.fake_autotask import DISCOVERY_ENV
from tests.integrations.test_autotask_push import autotask, send, setup
from tests.integrations.test_connectwise_push import completed_session
from tests.sessions.test_sessions_api import publish_tree

SERVER_ENV = {"BRANCHLINE_PSA_RETRY_SCHEDULE": "0.2", **DISCOVERY_ENV}


def test_a_loopback_autotask_is_refused_with_the_way_out_and_never_called(http, tenant, at):
    setup(http, tenant, at)

    r = http.post("/api/v1/integrations/autotask/test", headers=tenant.headers)
    assert r.status_code == 502
    reason = r.json()["reason"]
    assert "The Autotask address is refused: 127.0.0.1 is a loopback address" in reason
    assert "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true" in reason

    sid = completed_session(http, tenant, publish_tree(http, tenant))
    send(http, tenant, sid, create_ticket=True)
    wait_until(lambda: autotask(http, tenant)["failed"], message="the refused push")
    assert "The Autotask address is refused" in autotask(http, tenant)["last_error"]["reason"]
    assert at.requests == []
