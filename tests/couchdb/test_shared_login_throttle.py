"""Two Branchline instances, one CouchDB: failed sign-ins are counted once, for both.

Wrong passwords from one address spread over both instances lock the account for that
address on both as soon as the limit is reached, and the lockout holds there even for the right password
until it passes. The counters are documents in the system database whose ids and bodies
name neither the account nor the address.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from api.auth.throttle import DocumentCounters, LoginThrottle
from sync.naming import SYSTEM_DB
from tests.auth.test_auth import assert_error
from tests.conftest import ServerProcess, Tenant, wait_until

LIMIT = 4
# Long enough that the eight locked-out checks below all fall inside it on a machine under
# heavy load (3 s ran out half-way through them once, with the load average at 20).
LOCKOUT_S = 15


@pytest.fixture(scope="module")
def instances(couchdb, tmp_path_factory):
    secret = secrets.token_urlsafe(40)
    env = {
        **couchdb.env(),
        "BRANCHLINE_SECRET_KEY": secret,
        "BRANCHLINE_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(LIMIT),
        "BRANCHLINE_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
        "BRANCHLINE_LOGIN_LOCKOUT_SECONDS": str(LOCKOUT_S),
    }
    a = ServerProcess(tmp_path_factory.mktemp("instance-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("instance-b"), env=env).start()
    yield a, b, secret
    a.stop()
    b.stop()


def _login(http: httpx.Client, email: str, password: str) -> httpx.Response:
    return http.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_failed_sign_ins_spread_over_two_instances_lock_the_account_on_both(instances, couch_store):
    a, b, secret = instances
    shared = DocumentCounters(couch_store.db(SYSTEM_DB), secret)
    with (
        httpx.Client(base_url=a.url, timeout=30) as http_a,
        httpx.Client(base_url=b.url, timeout=30) as http_b,
    ):
        member = Tenant(http_a).add_user("engineer")

        # Guesses alternate between the instances: each sees only half of them.
        for i in range(LIMIT):
            r = _login(http_a if i % 2 == 0 else http_b, member.email, "not the password")
            assert_error(r, 401, "unauthorized")

        # Locked on both, for wrong and right passwords alike.
        for http in (http_a, http_b, http_b, http_a):
            for password in ("still not the password", member.password):
                r = _login(http, member.email, password)
                assert_error(r, 429, "too_many_requests")
                assert 1 <= int(r.headers["Retry-After"]) <= LOCKOUT_S
                assert "Too many failed attempts for this account from your address" in r.json()["reason"]

        # Once the lockout passes, the right password gets in (on either instance)...
        wait_until(
            lambda: _login(http_b, member.email, member.password).status_code == 200,
            timeout=LOCKOUT_S + 10,
            interval=0.25,
            message="the lockout to pass",
        )
        # ...and that success cleared the count for both: one more guess is a plain 401,
        # counted afresh in the document the success deleted.
        assert_error(_login(http_a, member.email, "not the password"), 401)
        assert len(shared.read(LoginThrottle.pair_key(member.email, "127.0.0.1")).failures) == 1
        assert _login(http_a, member.email, member.password).status_code == 200

    counters = [
        row
        for row in couch_store.db(SYSTEM_DB).all_docs(include_docs=True)["rows"]
        if row["id"].startswith("login_throttle:")
    ]
    assert counters, "the failures were not counted in the shared database"
    local = member.email.split("@")[0]
    for row in counters:
        assert local not in repr(row).lower() and "127.0.0.1" not in repr(row)
