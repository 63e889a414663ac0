"""Domain proofs inside one process, against the test DNS server: the judgement of what DNS
answered (pure), the DNS server setting, and claims written before proofs existed, which
prove nothing (a domain claimed first come, first served no longer routes anyone)."""

from __future__ import annotations

import pytest

from api.core import dnsproof
from api.core.context import AppContext
from api.core.docs import get_or_none, save
from api.core.ids import new_id
from api.settings import Settings, SettingsError
from api.sso import repository as repo, service
from sync.access import Principal
from sync.errors import Unprocessable

SECRET = "x" * 40


def test_the_record_value_must_be_there_exactly_and_what_was_found_is_shown_in_part():
    name, expected = "_branchline.contoso.com", "branchline-verification=abc"
    dnsproof.check(["v=spf1 -all", f" {expected} "], name, expected, "contoso.com")
    with pytest.raises(Unprocessable) as missing:
        dnsproof.check([], name, expected, "contoso.com")
    assert missing.value.error == "dns_record_missing"
    long = "y" * 500
    with pytest.raises(Unprocessable) as wrong:
        dnsproof.check([expected + "d", *[long] * 9], name, expected, "contoso.com")
    assert wrong.value.error == "dns_record_mismatch"
    shown = wrong.value.details[0]["found"]
    assert len(shown) == dnsproof.SHOWN_VALUES and shown[1] == "y" * dnsproof.SHOWN_CHARS + "…"
    assert shown[0] == expected + "d"


def test_tokens_differ_by_team_domain_and_secret():
    token = dnsproof.token(SECRET, "p", "t1", "contoso.com")
    assert token == dnsproof.token(SECRET, "p", "t1", "contoso.com")
    others = {
        dnsproof.token(SECRET, "p", "t2", "contoso.com"),
        dnsproof.token(SECRET, "p", "t1", "fabrikam.com"),
        dnsproof.token(SECRET, "q", "t1", "contoso.com"),
        dnsproof.token("z" * 40, "p", "t1", "contoso.com"),
    }
    assert token not in others and len(others) == 4


@pytest.mark.parametrize("value", ["dns.example.com", "127.0.0.1:99999", "1.2.3.4:x", "[::1"])
def test_a_malformed_dns_server_setting_stops_start_up_with_the_fix(tmp_path, value):
    with pytest.raises(SettingsError, match="BRANCHLINE_DNS_NAMESERVER"):
        Settings(data_dir=tmp_path, secret_key=SECRET, dns_nameserver=value)
    settings = Settings(data_dir=tmp_path, secret_key=SECRET, dns_nameserver="[::1]:5353")
    assert settings.dns_server == ("::1", 5353)


def _team(ctx: AppContext, tenant_id: str, domain: str) -> Principal:
    save(
        repo.config_db(ctx.store, tenant_id),
        {"_id": repo.CONFIG_ID, "type": "sso_config", "slug": tenant_id, "allowed_domains": [domain]},
    )
    return Principal(tenant_id=tenant_id, user_id="u-" + tenant_id, role="owner")


def test_a_claim_from_before_proofs_routes_nobody_and_gives_way_to_a_proof(tmp_path, dns):
    ctx = AppContext.create(
        Settings(data_dir=tmp_path, secret_key=SECRET, dns_nameserver=dns.address, dns_timeout_seconds=1)
    )
    domain = "legacy-claim.example.org"
    squatter, owner = new_id(), new_id()
    _team(ctx, squatter, domain)
    who = _team(ctx, owner, domain)
    # As PUT /tenant/sso wrote it before proofs: first come, first served, no verified_at.
    save(ctx.system, {"_id": repo.domain_id(domain), "type": "sso_claim", "tenant_id": squatter})
    assert repo.verified_holder(ctx.system, domain) is None
    assert service.domain_status(ctx, squatter, domain)["status"] == "pending"

    record = service.domain_status(ctx, owner, domain)["record"]
    dns.publish(record["name"], record["value"])
    status, proven_now = service.verify_domain(ctx, who, domain)
    assert proven_now and status["status"] == "verified"
    claim = get_or_none(ctx.system, repo.domain_id(domain))
    assert claim is not None and claim["tenant_id"] == owner and claim["verified_by"] == who.user_id
    assert service.domain_status(ctx, squatter, domain)["status"] == "taken"
