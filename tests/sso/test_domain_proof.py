"""E-mail domains of single sign-on are proven with a DNS TXT record (security review of issue
19, point 1): listing a domain squats nothing, the first team to publish its record holds it,
and only a proven domain routes sign-ins by e-mail or gets accounts just in time. The lookups
go through dnspython to a real DNS server on a loopback port (tests/sso/dns.py)."""

from __future__ import annotations

import secrets
import time

import pytest

from tests.sso.conftest import (
    DNS_TIMEOUT_SECONDS,
    SERVER_ENV as SSO_SERVER_ENV,
    prove_domain,
    shown_domain,
    verify,
)

SERVER_ENV = SSO_SERVER_ENV


def lookup(http, q: str):
    return http.get("/api/v1/auth/sso/lookup", params={"q": q})


def settings_domains(team) -> dict[str, dict]:
    r = team.http.get("/api/v1/tenant/sso", headers=team.tenant.headers)
    assert r.status_code == 200, r.text
    return {d["domain"]: d for d in r.json()["sso"]["domains"]}


@pytest.fixture
def pending(make_team):
    """A team whose allowed domain is listed but not yet proven."""
    return make_team(prove=False)


def test_a_listed_domain_is_pending_with_its_record_until_verified(pending, dns):
    shown = shown_domain(pending.http, pending.tenant.headers, pending.domain)
    assert shown["status"] == "pending" and shown["verified_at"] is None
    record = shown["record"]
    assert record["type"] == "TXT" and record["name"] == f"_branchline.{pending.domain}"
    token = record["value"].removeprefix("branchline-verification=")
    assert len(token) == 32 and token != record["value"]
    # The same record every time it is shown, so the admin can publish it at leisure.
    assert shown_domain(pending.http, pending.tenant.headers, pending.domain)["record"] == record

    dns.publish(record["name"], "v=spf1 -all", record["value"])  # other TXT values beside it are fine
    r = verify(pending.http, pending.tenant.headers, pending.domain)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "verified" and r.json()["verified_at"]
    assert (record["name"], "TXT") in dns.queries
    now = settings_domains(pending)[pending.domain]
    assert now["status"] == "verified" and now["verified_at"] == r.json()["verified_at"]
    logged = pending.audit("sso.domain_verified")
    assert [e["details"] for e in logged] == [{"domain": pending.domain}]

    # Verifying again answers the status without a new lookup or a second audit entry.
    dns.remove(record["name"])
    again = verify(pending.http, pending.tenant.headers, pending.domain.upper())
    assert again.status_code == 200 and again.json()["status"] == "verified"
    assert len(pending.audit("sso.domain_verified")) == 1


def test_a_wrong_token_is_refused_saying_what_was_found_and_expected(pending, make_team, dns):
    record = shown_domain(pending.http, pending.tenant.headers, pending.domain)["record"]
    # Another team's record for the same domain does not prove it for this one.
    other = make_team(prove=False, allowed_domains=[pending.domain])
    theirs = shown_domain(other.http, other.tenant.headers, pending.domain)["record"]
    assert theirs["name"] == record["name"] and theirs["value"] != record["value"]
    dns.publish(record["name"], theirs["value"])

    r = verify(pending.http, pending.tenant.headers, pending.domain)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "dns_record_mismatch"
    assert theirs["value"] in body["reason"] and record["value"] in body["reason"]
    assert record["name"] in body["reason"]
    assert body["details"] == [
        {"name": record["name"], "expected": record["value"], "found": [theirs["value"]]}
    ]
    assert settings_domains(pending)[pending.domain]["status"] == "pending"
    assert pending.audit("sso.domain_verified") == []


def test_no_record_is_refused_with_the_record_to_add(pending, dns):
    record = shown_domain(pending.http, pending.tenant.headers, pending.domain)["record"]
    dns.remove(record["name"])
    r = verify(pending.http, pending.tenant.headers, pending.domain)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "dns_record_missing"
    reason = r.json()["reason"]
    assert f"No TXT record was found at {record['name']}" in reason and record["value"] in reason
    assert settings_domains(pending)[pending.domain]["status"] == "pending"


def test_dns_down_answers_dns_unavailable_quickly_and_changes_nothing(pending, dns):
    record = shown_domain(pending.http, pending.tenant.headers, pending.domain)["record"]
    dns.publish(record["name"], record["value"])
    dns.down = True
    try:
        began = time.monotonic()
        r = verify(pending.http, pending.tenant.headers, pending.domain)
        took = time.monotonic() - began
    finally:
        dns.down = False
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "dns_unavailable"
    assert "Nothing was changed" in r.json()["reason"] and record["name"] in r.json()["reason"]
    assert int(r.headers["Retry-After"]) > 0
    assert took < DNS_TIMEOUT_SECONDS + 2  # bounded by the lookup's timeout, not hanging
    assert settings_domains(pending)[pending.domain]["status"] == "pending"
    assert lookup(pending.http, f"someone@{pending.domain}").status_code == 404
    # Once DNS answers again the same record proves it.
    assert verify(pending.http, pending.tenant.headers, pending.domain).json()["status"] == "verified"


def test_the_first_team_to_prove_a_domain_holds_it_and_the_other_is_refused(make_team, dns):
    first = make_team(prove=False)
    domain = first.domain
    second = make_team(prove=False, allowed_domains=[domain])  # listing squats nothing: no 409
    assert settings_domains(second)[domain]["status"] == "pending"

    assert prove_domain(second.http, second.tenant.headers, domain).json()["status"] == "verified"
    assert lookup(first.http, f"someone@{domain}").json()["slug"] == second.slug

    r = prove_domain(first.http, first.tenant.headers, domain)  # its own, correct record
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "domain_taken" and "another team" in r.json()["reason"]
    assert settings_domains(first)[domain]["status"] == "taken"
    # The team that lost can still save its other settings with the domain listed...
    assert first.configure(default_role="viewer").status_code == 200
    # ...but a team adding the proven domain now is refused at once.
    late = make_team(prove=False)
    r = late.configure(allowed_domains=[late.domain, domain])
    assert r.status_code == 409 and r.json()["error"] == "domain_taken", r.text
    assert lookup(first.http, f"someone@{domain}").json()["slug"] == second.slug


def test_discovery_by_e_mail_ignores_pending_domains(pending, make_team):
    assert lookup(pending.http, f"someone@{pending.domain}").status_code == 404
    assert lookup(pending.http, pending.slug).json()["slug"] == pending.slug  # the slug still works
    proven = make_team()
    assert lookup(pending.http, f"someone@{proven.domain}").json()["slug"] == proven.slug


def test_just_in_time_accounts_need_a_proven_domain(pending):
    sub, email = pending.new_idp_user()
    path, frag = pending.sign_in(sub)
    assert path == "/signin"
    assert "verified the domain with its DNS record" in frag["sso_error"]
    assert pending.audit("auth.sso_failed")[0]["details"]["reason"] == "domain_not_verified"
    # A member invited or added by an admin still signs in: only automatic accounts need proof.
    member = pending.tenant.add_user("engineer", pending.email("member"))
    member_sub, _ = pending.new_idp_user(member.email)
    assert pending.sign_in(member_sub)[0] == "/sso/complete"

    assert pending.prove().status_code == 200
    path, frag = pending.sign_in(sub)
    assert path == "/sso/complete", frag
    assert pending.exchange(frag["code"]).status_code == 200
    assert pending.audit("user.created")[0]["details"] == {"email": email, "role": "engineer", "via": "sso"}


def test_removing_a_proven_domain_releases_it(team, make_team):
    other_domain = f"{secrets.token_hex(4)}.example.org"
    assert team.configure(allowed_domains=[other_domain]).status_code == 200
    assert lookup(team.http, f"someone@{team.domain}").status_code == 404
    # Added again, it is pending again: the proof went with it.
    assert team.configure().status_code == 200
    assert settings_domains(team)[team.domain]["status"] == "pending"
    assert team.configure(allowed_domains=[other_domain]).status_code == 200

    taker = make_team(prove=False, allowed_domains=[team.domain])
    assert prove_domain(taker.http, taker.tenant.headers, team.domain).json()["status"] == "verified"
    assert lookup(team.http, f"someone@{team.domain}").json()["slug"] == taker.slug


def test_only_owners_verify_and_only_their_own_listed_domains(pending, dns):
    record = shown_domain(pending.http, pending.tenant.headers, pending.domain)["record"]
    dns.publish(record["name"], record["value"])
    admin = pending.tenant.add_user("admin")
    r = verify(pending.http, admin.headers, pending.domain)
    assert r.status_code == 403 and "Only an owner" in r.json()["reason"]
    # Admins still read the settings, with each domain's record.
    r = pending.http.get("/api/v1/tenant/sso", headers=admin.headers)
    assert r.json()["sso"]["domains"][0]["record"] == record

    r = verify(pending.http, pending.tenant.headers, "not-listed.example.org")
    assert r.status_code == 404 and "allowed_domains" in r.json()["reason"]
    r = verify(pending.http, pending.tenant.headers, "not a domain")
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert settings_domains(pending)[pending.domain]["status"] == "pending"


@pytest.mark.parametrize("bad", ["a" * 64 + ".example.org", "help..example.org"])
def test_a_domain_that_is_no_dns_name_is_refused_when_listed_not_left_to_fail_as_dns_down(pending, bad):
    """Regression: a label past 63 characters or an empty one passed the settings' check, and
    every verify then answered 503 dns_unavailable ("try again in a minute") for ever."""
    r = pending.configure(allowed_domains=[pending.domain, bad])
    assert r.status_code == 400 and r.json()["error"] == "bad_request", r.text
    assert bad in r.json()["reason"]
    r = verify(pending.http, pending.tenant.headers, bad)
    assert r.status_code == 400 and r.json()["error"] == "bad_request", r.text
    assert list(settings_domains(pending)) == [pending.domain]
