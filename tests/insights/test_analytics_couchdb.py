"""Analytics on the CouchDB backend, on two instances: each follows the shared `_changes` feed into
its own index, so figures of sessions driven through one instance are the same on the other."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.conftest import ServerProcess, Tenant
from tests.couchdb.conftest import couchdb, node_modules  # noqa: F401  (fixtures)
from tests.insights.test_analytics_api import expected_team, three_sessions


@pytest.fixture(scope="module")
def pair(couchdb, tmp_path_factory):  # noqa: F811
    env = {**couchdb.env(), "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40)}
    a = ServerProcess(tmp_path_factory.mktemp("insights-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("insights-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def test_figures_written_through_one_instance_are_the_same_on_the_other(pair):
    a, b = pair
    with (
        httpx.Client(base_url=a.url, timeout=30) as http_a,
        httpx.Client(base_url=b.url, timeout=30) as http_b,
    ):
        tenant = Tenant(http_a)
        tree_id, _, _ = three_sessions(http_a, tenant)
        on_a = http_a.get(f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers).json()
        on_b = http_b.get(f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers).json()
        assert on_a == on_b == expected_team(tree_id)
