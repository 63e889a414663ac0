"""Failed sign-ins for e-mails no account has: the instance's own audit log.

Each test runs its own server (its own data folder), fails sign-ins against it over HTTP as a
guesser would, stops it, and reads the log as an operator does, with `branchline audit`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from api.audit import instance, repository as repo
from api.audit.chain import entry_id
from api.core.context import open_store
from api.settings import Settings
from tests.conftest import ROOT, ServerProcess, Tenant

# The sign-in throttle would lock the address after 20 failures; here the flood goes on.
FLOOD = {"BRANCHLINE_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000"}
PASSWORD_TYPED_AS_EMAIL = "Winter-2026-vpn!"


def audit_cli(srv: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "audit", *args],
        cwd=ROOT,
        env=srv.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def fail_sign_in(http: httpx.Client, email: str) -> None:
    r = http.post("/api/v1/auth/login", json={"email": email, "password": "not the password"})
    assert r.status_code == 401, r.text


def test_unknown_emails_are_logged_for_the_operator_bounded_and_without_what_was_typed(tmp_path: Path):
    srv = ServerProcess(tmp_path / "data", env=FLOOD).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            tenant = Tenant(http)
            fail_sign_in(http, tenant.owner_email)  # a known account: the tenant's log, as before
            fail_sign_in(http, PASSWORD_TYPED_AS_EMAIL)
            fail_sign_in(http, "Alice@Contoso.com")
            for i in range(62):  # a flood from one address
                fail_sign_in(http, f"guess{i}@contoso.com")
            owner = http.post(
                "/api/v1/auth/login", json={"email": tenant.owner_email, "password": tenant.password}
            ).json()
            tenant_log = http.get(
                "/api/v1/audit",
                headers={"Authorization": f"Bearer {owner['access_token']}"},
                params={"action": "auth.sign_in_failed"},
            ).json()["items"]
            assert [e["details"]["reason"] for e in tenant_log] == ["wrong_password"]
    finally:
        srv.stop()

    shown = audit_cli(srv, "instance")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.strip().splitlines()
    # 64 failures from one address in (at most) two hours: an entry at the 1st, 2nd, 4th... of
    # each hour, so 7 in one hour, never more than 12 across an hour's turn.
    assert 7 <= len(lines) <= 12, shown.stdout
    assert all("from 127.0.0.1" in line for line in lines)
    assert "typed an e-mail address" in shown.stdout
    assert "contoso" not in shown.stdout  # not even the part after the @: it may be a password's
    assert "(not an e-mail address)" in lines[-1] and "failure 1 of this address" in lines[-1]

    store = open_store(Settings(data_dir=srv.data_dir, secret_key=srv.env["BRANCHLINE_SECRET_KEY"]))
    try:
        db = instance.open_db(store)
        assert db is not None
        stored = [str(r["doc"]) for r in db.all_docs(include_docs=True, offset=False)["rows"]]
    finally:
        store.close()
    assert stored and not any(PASSWORD_TYPED_AS_EMAIL in doc for doc in stored)
    assert not any("alice" in doc.lower() or "guess" in doc for doc in stored)

    # The operator can still ask about one e-mail: its tag is computed with the server's key.
    alice = audit_cli(srv, "instance", "--email", "alice@contoso.com")
    assert alice.returncode == 0 and len(alice.stdout.strip().splitlines()) == 1, alice.stdout
    assert "failure 2 of this address" in alice.stdout
    assert audit_cli(srv, "instance", "--email", "bob@contoso.com").stdout.strip() == (
        "No entries for bob@contoso.com."
    )

    verified = audit_cli(srv, "verify", "--instance")
    assert verified.returncode == 0 and verified.stdout.strip() == f"instance: ok {len(lines)} entries"
    store = open_store(Settings(data_dir=srv.data_dir, secret_key=srv.env["BRANCHLINE_SECRET_KEY"]))
    try:
        db = instance.open_db(store)
        assert db is not None
        newest = db.get(entry_id(len(lines)))
        db.delete(newest["_id"], newest["_rev"])
        assert repo.head(db)["seq"] == len(lines)
    finally:
        store.close()
    broken = audit_cli(srv, "verify")  # every log: the tenant's is fine, the instance's is not
    assert broken.returncode == 1
    assert f"instance: BROKEN after {len(lines) - 1} good entries" in broken.stdout
    assert f"entry {len(lines)} missing after the last one present" in broken.stdout
    assert f"{tenant.id}: ok" in broken.stdout


def test_a_flood_from_many_addresses_is_counted_together_past_the_hours_limit(tmp_path: Path, monkeypatch):
    """Many addresses (a botnet, or one IPv6 network): each gets a few entries until the hour's
    limit of addresses, then they share one tally, so the log still grows by a bounded amount."""
    monkeypatch.setattr(instance, "MAX_ADDRESSES_PER_WINDOW", 5)
    secret = "s" * 40
    store = open_store(Settings(data_dir=tmp_path, secret_key=secret))
    ctx = type("Ctx", (), {"store": store, "secret": secret})()
    hour = 1_800_000_000 // instance.WINDOW_S * instance.WINDOW_S
    try:
        filed = [
            instance.sign_in_failed(ctx, f"user{i}@example.com", f"2001:db8::{n}", now=hour + n)
            for n in range(50)
            for i in range(2)
        ]
        entries = [e for e in filed if e is not None]
        # 5 addresses get entries at their 1st and 2nd failure; the other 45 share `*`, whose 90
        # failures get entries at 1, 2, 4, 8, 16, 32 and 64.
        assert len(entries) == 5 * 2 + 7
        assert entries[-1]["details"]["counted_for"] == "every address past the hour's limit"
        assert entries[-1]["details"]["count"] == 64
        # The next hour starts afresh, and the last hour's tallies are swept.
        assert instance.sign_in_failed(ctx, "x@example.com", "2001:db8::1", now=hour + instance.WINDOW_S)
        db = instance.open_db(store)
        assert db is not None
        tallies = db.all_docs(startkey="tally:", endkey="tally:\ufff0", offset=False)["rows"]
        assert [r["id"] for r in tallies] == [f"tally:{hour + instance.WINDOW_S:012d}:2001:db8::1"]
    finally:
        store.close()
