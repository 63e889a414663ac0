"""Two Branchline instances, one CouchDB: limits on expensive work hold across instances.

Registrations from one address and a team's PDF renders are counted in documents of the
shared system database, so spreading them over the instances behind a load balancer gains
nothing. (The cheap general per-caller limits stay per instance: see api/ratelimit/storage.)
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from api.ratelimit.storage import DOC_PREFIX
from sync.naming import SYSTEM_DB
from tests.conftest import STRONG_PASSWORD, ServerProcess, unique_email


@pytest.fixture(scope="module")
def instances(couchdb, tmp_path_factory):
    env = {
        **couchdb.env(),
        "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
        "BRANCHLINE_RATE_LIMIT_REGISTRATIONS_PER_HOUR": "3",
    }
    a = ServerProcess(tmp_path_factory.mktemp("instance-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("instance-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def _register(http: httpx.Client) -> httpx.Response:
    return http.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": f"MSP {secrets.token_hex(3)}",
            "email": unique_email("owner"),
            "password": STRONG_PASSWORD,
            "display_name": "Owner",
            "starter_library": False,
        },
    )


def test_registrations_spread_over_two_instances_are_counted_once(instances, couch_store):
    a, b = instances
    # A loopback address of its own, so other tests' registrations do not count here.
    with (
        httpx.Client(
            base_url=a.url, timeout=60, transport=httpx.HTTPTransport(local_address="127.0.0.6")
        ) as http_a,
        httpx.Client(
            base_url=b.url, timeout=60, transport=httpx.HTTPTransport(local_address="127.0.0.6")
        ) as http_b,
    ):
        codes = [_register(http).status_code for http in (http_a, http_b, http_a, http_b, http_a)]
        assert codes == [201, 201, 201, 429, 429], codes
        r = _register(http_b)
        assert r.json()["error"] == "too_many_requests"
        assert r.headers["RateLimit-Policy"] == '"registrations";q=3;w=3600'
    # The counter is a document whose id and body name neither the address nor a tenant.
    docs = [
        row["doc"]
        for row in couch_store.db(SYSTEM_DB).all_docs(
            startkey=DOC_PREFIX, endkey=DOC_PREFIX + "\ufff0", include_docs=True
        )["rows"]
    ]
    assert docs and all("127.0.0.6" not in str(d) for d in docs)
