"""The PSA connectors' pure parts: retry rule, header merge of `psa`, sealing, ConnectWise and
Autotask parsing."""

from __future__ import annotations

import httpx
import pytest

from api.core.sealing import SealBroken, seal, unseal
from api.integrations.autotask import (
    Autotask,
    Credentials as AtCredentials,
    business_errors,
    error_reason as at_error_reason,
    hours_between,
    same_origin,
)
from api.integrations.connectwise import ConnectWise, Credentials, error_reason, next_page, quoted
from api.integrations.pushing import after_failure, note_internal
from api.sessions.merge import merge_headers

DELAYS = (10.0, 60.0)


def test_retry_after_longer_than_the_schedule_wins_and_a_shorter_one_does_not():
    push = {"status": "sending", "attempt_count": 0, "attempts": []}
    later = after_failure(push, "429", retryable=True, retry_after=120, delays=DELAYS, now=1_000)
    sooner = after_failure(push, "429", retryable=True, retry_after=1, delays=DELAYS, now=1_000)
    assert later["status"] == "pending" and later["next_attempt_ms"] == 1_000 + 120_000
    assert sooner["next_attempt_ms"] == 1_000 + 10_000


def test_a_spent_schedule_a_lasting_error_or_a_manual_retry_fails_the_push():
    spent = after_failure({"attempt_count": 2}, "503", retryable=True, retry_after=None, delays=DELAYS, now=0)
    lasting = after_failure(
        {"attempt_count": 0}, "401", retryable=False, retry_after=None, delays=DELAYS, now=0
    )
    manual = after_failure({"manual": True}, "503", retryable=True, retry_after=None, delays=DELAYS, now=0)
    assert spent["status"] == lasting["status"] == manual["status"] == "failed"
    assert "manual" not in manual and lasting["last_error"] == "401"


def test_the_merge_keeps_the_servers_psa_over_a_device_revision_made_before_it():
    base = {"_id": "session:S", "type": "session", "title": "t", "edited": {"title": 1}}
    server = {**base, "_rev": "2-a", "psa": {"ticket_id": 7, "pushed_at": "2026-12-03T10:00:00Z"}}
    device = {**base, "_rev": "3-b", "title": "renamed offline", "edited": {"title": 5}}
    newer = {
        **base,
        "_rev": "2-c",
        "psa": {"ticket_id": 7, "pushed_at": "2026-12-03T11:00:00Z", "status": "Closed"},
    }

    merged = merge_headers([device, server])
    assert merged["psa"] == server["psa"] and merged["title"] == "renamed offline"
    assert merge_headers([server, device, newer])["psa"] == newer["psa"]
    assert merge_headers([newer, server, device]) == merge_headers([device, newer, server])


def test_a_sealed_secret_opens_only_where_it_belongs():
    sealed = seal("s" * 40, "purpose a", "tenant1:connectwise", "private")
    assert unseal("s" * 40, "purpose a", "tenant1:connectwise", sealed) == "private"
    for secret, purpose, bound in [
        ("t" * 40, "purpose a", "tenant1:connectwise"),
        ("s" * 40, "purpose b", "tenant1:connectwise"),
        ("s" * 40, "purpose a", "tenant2:connectwise"),
    ]:
        with pytest.raises(SealBroken):
            unseal(secret, purpose, bound, sealed)


def test_connectwise_error_bodies_links_and_conditions():
    body = {
        "code": "InvalidObject",
        "message": "ticket object is invalid",
        "errors": [{"code": "NullValue", "message": "The summary field is required.", "field": "summary"}],
    }
    assert error_reason(400, body) == "ticket object is invalid; summary: The summary field is required."
    assert error_reason(502, "<html>") == "HTTP 502"
    link = (
        '<https://x/v4_6_release/apis/3.0/service/tickets?page=3&pageSize=100>; rel="next", <...>; rel="last"'
    )
    assert next_page(link) == 3 and next_page('<https://x/?page=9>; rel="last"') is None
    assert quoted('a "b" \\c') == '"a \\"b\\" \\\\c"'


def test_each_psa_reads_only_its_own_ticket_numbers_and_only_ascii_digits():
    """A bare number is ConnectWise's; Autotask's numbers look like T20261126.0042 and a bare
    number is never taken for Autotask's internal id (it may be another customer's ticket).
    "²" passes `str.isdigit` but not `int`: it once answered 500."""
    with httpx.Client() as client:
        cw = ConnectWise(Credentials("https://cw.invalid", "c", "p", "k", "id"), client, allow_private=False)
        at = Autotask(AtCredentials("u@x.invalid", "s", "code"), client, "https://at.invalid/", False)
        assert cw.ticket_by_number("#1234") == 1234 and cw.ticket_by_number(" 7 ") == 7
        for text in ("T20261126.0042", "\u00b2", "12a", "", "1234567890"):
            assert not cw.is_ticket_number(text) and cw.ticket_by_number(text) is None
        assert at.is_ticket_number("t20261126.0042") and not at.is_ticket_number("48213")
        assert at.ticket_by_number("48213") is None  # asked nothing: not an Autotask number


def test_autotask_error_bodies_hours_and_next_page_origins():
    assert at_error_reason(500, {"errors": ["queueID 9 does not exist.", "title is required."]}) == (
        "queueID 9 does not exist.; title is required."
    )
    assert at_error_reason(401, None) == "HTTP 401" and at_error_reason(503, "<html>") == "HTTP 503"
    # A 500 with Autotask's errors list is a rejection; without it, an outage.
    assert business_errors(500, {"errors": ["x"]}) and not business_errors(500, {"errors": []})
    assert not business_errors(503, {"errors": ["x"]})
    assert hours_between("2026-12-03T10:00:00Z", "2026-12-03T10:45:00Z") == 0.75
    assert hours_between("2026-12-03T10:00:00Z", "2026-12-03T10:00:10Z") == 0.01  # more than 0
    assert hours_between("2026-12-01T10:00:00Z", "2026-12-03T10:00:00Z") == 24.0  # at most 24
    root = "https://webservices5.autotask.net/atservicesrest/"
    assert same_origin(
        "https://webservices5.autotask.net/atservicesrest/v1.0/Tickets/query/next?paging=x", root
    )
    assert not same_origin("https://169.254.169.254/latest/meta-data", root)
    assert not same_origin("http://webservices5.autotask.net/atservicesrest/v1.0/x", root)


def test_note_visibility_follows_each_connectors_setting():
    assert note_internal({"note_type": "internal"}) and note_internal({"note_publish": "internal"})
    assert not note_internal({"note_type": "discussion"}) and not note_internal({"note_publish": "all"})


def test_a_long_export_is_cut_into_notes_autotask_takes_at_line_ends_and_loses_nothing():
    from api.integrations.autotask import NOTE_MAX, note_parts

    lines = [f"Step {i}: checked the tunnel, {'x' * 90}" for i in range(1200)]  # about 130,000 chars
    text = "\n".join(lines)
    parts = note_parts(text)
    fewest = -(-len(text) // NOTE_MAX)
    assert fewest <= len(parts) <= fewest + 1
    assert all(len(p) <= NOTE_MAX for p in parts) and "".join(parts) == text
    assert all(p.endswith("\n") for p in parts[:-1])  # cut at line ends, not inside a line
    assert note_parts("short") == ["short"]
    assert note_parts("y" * (NOTE_MAX + 5)) == ["y" * NOTE_MAX, "yyyyy"]  # one long line: cut anyway
