"""Passwords are hashed with Argon2id at RFC 9106's cost unless the test suite's switch is set.

The suite sets BRANCHLINE_UNSAFE_FAST_PASSWORD_HASHING for everything it starts (tests/conftest.py),
so these tests remove it to see what an operator's server does."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from api.auth.passwords import FAST_HASHING_VARIABLE
from sync.embedded import EmbeddedStore
from sync.naming import SYSTEM_DB
from tests.conftest import ROOT, ServerProcess, Tenant

STANDARD = "$argon2id$v=19$m=65536,t=3,p=4$"
FAST = "$argon2id$v=19$m=8,t=1,p=1$"

_HASH_AND_CHECK = """
import sys
from api.auth.passwords import hash_password, verify_password
made = hash_password("correct horse battery staple 42")
print(made)
print(verify_password(sys.argv[1], "correct horse battery staple 42") if len(sys.argv) > 1 else "")
"""


def _hash_in_a_fresh_process(switch: str | None, check: str | None = None) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != FAST_HASHING_VARIABLE}
    if switch is not None:
        env[FAST_HASHING_VARIABLE] = switch
    args = [sys.executable, "-c", _HASH_AND_CHECK, *([check] if check else [])]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    made, verified = done.stdout.splitlines()
    return made, verified


def test_without_the_switch_passwords_get_the_rfc_9106_cost():
    made, _ = _hash_in_a_fresh_process(None)
    assert made.startswith(STANDARD), made
    # Only a clear yes turns it on: an empty or other value keeps the real cost.
    for value in ("", "false", "0", "no"):
        assert _hash_in_a_fresh_process(value)[0].startswith(STANDARD), value


def test_with_the_switch_hashes_are_cheap_and_real_hashes_still_check():
    standard, _ = _hash_in_a_fresh_process(None)
    made, verified = _hash_in_a_fresh_process("true", check=standard)
    # A hash carries its own parameters, so a fast-hashing process checks a standard one.
    assert made.startswith(FAST), made
    assert verified == "True"


def test_a_server_without_the_switch_stores_standard_hashes_and_one_with_it_says_it_is_unsafe(tmp_path):
    srv = ServerProcess(tmp_path / "standard", env={FAST_HASHING_VARIABLE: ""}).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            member = Tenant(http, name="Hashing IT").add_user("engineer")
            assert member.headers  # signed in with the password: the stored hash checks
    finally:
        srv.stop()
    hashes = list(_stored_hashes(tmp_path / "standard").values())
    assert hashes and all(h.startswith(STANDARD) for h in hashes), hashes
    assert FAST_HASHING_VARIABLE not in srv.log_path.read_text()

    fast = ServerProcess(tmp_path / "fast", env={FAST_HASHING_VARIABLE: "true"}).start()
    fast.stop()
    log = fast.log_path.read_text()
    assert f"{FAST_HASHING_VARIABLE} is set" in log and "test suite only" in log


def _stored_hashes(data_dir) -> dict[str, str]:
    store = EmbeddedStore(data_dir)
    try:
        rows = store.db(SYSTEM_DB).all_docs(include_docs=True)["rows"]
        return {
            r["doc"]["email"]: r["doc"]["password_hash"]
            for r in rows
            if (r.get("doc") or {}).get("password_hash")
        }
    finally:
        store.close()


def test_a_cheap_hash_is_made_standard_at_the_next_sign_in_on_a_standard_server(tmp_path):
    data = tmp_path / "data"
    fast = ServerProcess(data, env={FAST_HASHING_VARIABLE: "true"}).start()
    try:
        with httpx.Client(base_url=fast.url, timeout=30) as http:
            member = Tenant(http, name="Upgrade IT").add_user("engineer")
    finally:
        fast.stop()
    assert _stored_hashes(data)[member.email].startswith(FAST)

    standard = ServerProcess(data, env={FAST_HASHING_VARIABLE: ""}).start()
    try:
        with httpx.Client(base_url=standard.url, timeout=30) as http:
            login = {"email": member.email, "password": member.password}
            assert http.post("/api/v1/auth/login", json=login).status_code == 200
            assert http.post("/api/v1/auth/login", json=login).status_code == 200  # the new hash checks
            wrong = http.post("/api/v1/auth/login", json={**login, "password": "not the password 9"})
            assert wrong.status_code == 401
    finally:
        standard.stop()
    assert _stored_hashes(data)[member.email].startswith(STANDARD)
