"""Looking a ticket up in the PSA (GET /api/v1/integrations/{system}/tickets/{ticket}): what the
page opened from a ticket suggests a tree from when its link carries only the ticket's number.
Against the fake ConnectWise and the fake Autotask, as any member of the tenant."""

from __future__ import annotations

from tests.integrations.fake_autotask import DISCOVERY_ENV
from tests.integrations.helpers import configure

SERVER_ENV = {"BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true", **DISCOVERY_ENV}


def lookup(http, who, system: str, ticket: str):
    return http.get(f"/api/v1/integrations/{system}/tickets/{ticket}", headers=who.headers)


def test_an_engineer_reads_a_connectwise_tickets_summary_and_status_by_its_number(http, tenant, cw):
    configure(http, tenant, cw.config())
    engineer = tenant.add_user("engineer")
    existing = cw.add_ticket("Citrix VDA not registering on XA-07", status="New")
    for given in (str(existing), f"%23{existing}"):  # "#48213" as a ticket shows it
        r = lookup(http, engineer, "connectwise", given)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "system": "connectwise",
            "ticket": given.replace("%23", "#"),
            "ticket_id": existing,
            "summary": "Citrix VDA not registering on XA-07",
            "status": "New",
            "url": r.json()["url"],
        }
        assert str(existing) in r.json()["url"]


def test_an_autotask_ticket_is_found_by_its_number_never_a_bare_number(http, tenant, at):
    configure(http, tenant, at.config(), system="autotask")
    engineer = tenant.add_user("engineer")
    at.add_ticket("Someone else's printer")
    existing = at.add_ticket("SonicWall VPN tunnel down to the branch")
    number = at.tickets[existing]["ticketNumber"]
    by_number = lookup(http, engineer, "autotask", number)
    assert by_number.status_code == 200, by_number.text
    assert by_number.json()["ticket_id"] == existing
    assert by_number.json()["summary"] == "SonicWall VPN tunnel down to the branch"
    # A bare number may be another system's ticket: it is never taken for Autotask's own id.
    bare = lookup(http, engineer, "autotask", str(existing))
    assert bare.status_code == 400 and "T20261203.0042" in bare.json()["reason"]
    unknown = lookup(http, engineer, "autotask", "T20261203.9999")
    assert unknown.status_code == 404 and "check the number" in unknown.json()["reason"]


def test_an_unknown_ticket_a_wrong_number_an_unconfigured_psa_and_an_outage_each_say_what_to_do(
    http, tenant, cw
):
    engineer = tenant.add_user("engineer")
    r = lookup(http, engineer, "connectwise", "48213")
    assert r.status_code == 409 and "not configured" in r.json()["reason"]
    configure(http, tenant, cw.config())
    r = lookup(http, engineer, "connectwise", "99999")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert "check the number" in r.json()["reason"]
    for wrong in ("printer-on-floor-3", "%C2%B2"):  # "²" is a digit to str.isdigit, not to int
        r = lookup(http, engineer, "connectwise", wrong)
        assert r.status_code == 400 and "not a ConnectWise ticket number" in r.json()["reason"]
    r = lookup(http, engineer, "halo", "48213")
    assert r.status_code in (400, 404) and r.json()["reason"]
    existing = cw.add_ticket("Outlook keeps asking for a password")
    cw.fail(5, 503)
    r = lookup(http, engineer, "connectwise", str(existing))
    # An engineer learns it failed and whom to ask; the PSA's own words are for admins.
    assert r.status_code == 502 and "could not be asked" in r.json()["reason"]
    assert "ask an admin" in r.json()["reason"] and "503" not in r.json()["reason"]
    r = lookup(http, tenant, "connectwise", str(existing))
    assert r.status_code == 502 and "503" in r.json()["reason"]
    viewer = tenant.add_user("viewer")
    r = lookup(http, viewer, "connectwise", str(existing))
    assert r.status_code == 403  # viewers do not run sessions: no reading the PSA's tickets


def test_another_tenants_member_cannot_read_this_tenants_tickets(http, tenant, cw):
    from tests.conftest import Tenant

    configure(http, tenant, cw.config())
    existing = cw.add_ticket("Only for tenant A")
    other = Tenant(http)
    r = lookup(http, other, "connectwise", str(existing))
    assert r.status_code == 409  # B has no connector: A's is never used for B
    assert lookup(http, tenant, "connectwise", str(existing)).json()["summary"] == "Only for tenant A"
